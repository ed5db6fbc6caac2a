"""The Risk engine on its generated client: quotes, positions, PnL and alerts in; limit events
and periodic risk metrics out.

Alerts tighten the alerted instrument's limits (toxicity: to half, flash crash: to a quarter, for
five minutes of market time), so a position that was within limits may breach them and Strategy
and Portfolio hear of it at once (limit events are CRITICAL). `RiskMetrics` is published every
ten seconds of market time by a market-time timer. The other routed inputs (analysis, margin,
predictions, signals, orders, factor model) are consumed for the record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeVar

from google.protobuf.message import Message

from nautilus.clients.risk import RiskClient
from nautilus.engines.risk.core import RiskConfig, RiskMonitor
from nautilus.engines.run_settings import NS_PER_SECOND, RunSettings
from nautilus.engines.service import Compute, EngineService
from nautilus.risk.v1 import risk_pb2
from nautilus.risk.v1.risk_pb2 import PositionLimitEvent, RiskMetrics

__all__ = ["RISK_METRICS_INTERVAL_NS", "RiskService", "risk_config"]

M = TypeVar("M", bound=Message)

#: Market time between two `RiskMetrics` snapshots.
RISK_METRICS_INTERVAL_NS = 10 * NS_PER_SECOND


def risk_config(settings: RunSettings) -> RiskConfig:
    """The core's defaults: a 100,000 USDT account, 50,000 notional per instrument."""
    return RiskConfig()


class RiskService(EngineService[RiskClient]):
    """Publishes limit events as they happen and a metrics snapshot on every timer tick."""

    ENGINE = "risk"

    def wire(self) -> None:
        self.core = RiskMonitor(risk_config(self.settings))
        self._events: Counter[str] = Counter()
        client = self.client
        core = self.core
        self.publishes(PositionLimitEvent, client.publish_position_limit_event)
        self.publishes(RiskMetrics, client.publish_risk_metrics)
        client.on_quote(self.market(self._noted(core.on_quote)))
        client.on_position_update(self.react(self._noted(core.on_position_update)))
        client.on_pnl_update(self.react(self._noted(core.on_pnl_update)))
        client.on_toxicity_alert(self.alert(self._noted(core.on_toxicity_alert)))
        client.on_flash_crash_warning(self.alert(self._noted(core.on_flash_crash_warning)))
        for subscribe in (
            client.on_trade,
            client.on_market_analysis,
            client.on_trend_update,
            client.on_margin_alert,
            client.on_margin_requirement,
            client.on_model_update,
            client.on_prediction,
            client.on_order_request,
            client.on_trading_signal,
            client.on_factor_covariance,
            client.on_factor_exposures,
            client.on_factor_returns,
        ):
            subscribe(self.record())
        self.every("risk-metrics", RISK_METRICS_INTERVAL_NS, self._metrics)

    def _metrics(self, boundary_ns: int, now_ns: int) -> list[RiskMetrics]:
        return [self.core.metrics(boundary_ns, now_ns)]

    def _noted(self, check: Compute[M]) -> Compute[M]:
        """`check` (a core method returning limit events), counting the events by status."""

        def counted(message: M, now_ns: int) -> Sequence[Message]:
            events = check(message, now_ns)
            for event in events:
                if isinstance(event, PositionLimitEvent):
                    self._events[risk_pb2.LimitStatus.Name(event.status)] += 1
            return events

        counted.__name__ = getattr(check, "__name__", "check")
        return counted

    def facts(self) -> dict[str, Any]:
        return {"limit_events": dict(sorted(self._events.items()))}
