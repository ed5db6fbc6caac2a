"""The Collateral engine on its generated client: quotes, positions and PnL in; margin
requirements and margin alerts out.

The requirement is re-published on every change at most once a second of market time (and on
every position change); alerts fire on upward crossings of 80% and 95% utilisation. Risk events,
metrics, trades and the factor model are consumed for the record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeVar

from google.protobuf.message import Message

from nautilus.clients.collateral import CollateralClient
from nautilus.collateral.v1.collateral_pb2 import MarginAlert, MarginRequirement
from nautilus.common.v1 import common_pb2
from nautilus.engines.collateral.core import CollateralConfig, MarginCalculator
from nautilus.engines.run_settings import NS_PER_SECOND, RunSettings
from nautilus.engines.service import Compute, EngineService

__all__ = ["CollateralService", "collateral_config"]

M = TypeVar("M", bound=Message)


def collateral_config(settings: RunSettings) -> CollateralConfig:
    """10% initial / 5% maintenance margin; requirements at most once a market second."""
    return CollateralConfig(requirement_interval_ns=NS_PER_SECOND)


class CollateralService(EngineService[CollateralClient]):
    """Publishes margin requirements and alerts as the calculator produces them."""

    ENGINE = "collateral"

    def wire(self) -> None:
        self.core = MarginCalculator(collateral_config(self.settings))
        self._alerts: Counter[str] = Counter()
        self._peak_utilization = 0.0
        client = self.client
        core = self.core
        self.publishes(MarginRequirement, client.publish_margin_requirement)
        self.publishes(MarginAlert, client.publish_margin_alert)
        client.on_quote(self.market(self._noted(core.on_quote)))
        client.on_position_update(self.react(self._noted(core.on_position_update)))
        client.on_pnl_update(self.react(self._noted(core.on_pnl_update)))
        for subscribe in (
            client.on_trade,
            client.on_position_limit_event,
            client.on_risk_metrics,
            client.on_factor_covariance,
            client.on_factor_exposures,
            client.on_factor_returns,
        ):
            subscribe(self.record())

    def _noted(self, compute: Compute[M]) -> Compute[M]:
        """`compute`, counting alerts by severity and keeping the peak utilisation."""

        def noted(message: M, now_ns: int) -> Sequence[Message]:
            outputs = compute(message, now_ns)
            for output in outputs:
                if isinstance(output, MarginAlert):
                    self._alerts[common_pb2.Severity.Name(output.severity)] += 1
                elif isinstance(output, MarginRequirement):
                    self._peak_utilization = max(self._peak_utilization, output.utilization)
            return outputs

        noted.__name__ = getattr(compute, "__name__", "compute")
        return noted

    def facts(self) -> dict[str, Any]:
        return {
            "margin_alerts": dict(sorted(self._alerts.items())),
            "peak_utilization": self._peak_utilization,
        }
