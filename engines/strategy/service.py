"""The Strategy engine on its generated client: predictions, trend, regime, alerts and risk
events in; trading signals and market orders out.

Positions are sized to about 20,000 in the quote currency per instrument. A toxicity alert makes
its instrument reduce-only for a minute of market time, a flash-crash warning for five minutes
(and flattens a long); Risk's limit events apply their action.

The service keeps its own account of what it sent, for the run report: orders by side, opening
(increasing or flipping a position) versus reducing, before and after the first alert it
handled, and `opened_while_gated`, the opening orders sent on an instrument after this engine
received an alert for it and before that alert's cool-down ended. That last count is the
observable form of "Strategy stops opening positions after an alert"; it must stay 0.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from nautilus.clients.strategy import StrategyClient
from nautilus.common.v1 import common_pb2
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.engines.strategy.core import SignalStrategy, StrategyConfig, StrategyOutput
from nautilus.ml.v1.ml_pb2 import Prediction
from nautilus.strategy.v1.strategy_pb2 import OrderRequest, TradingSignal
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

__all__ = ["StrategyService", "strategy_config"]

#: Target notional of a full position, in the quote currency.
_POSITION_NOTIONAL = 20_000.0
_LOT = 0.001


def strategy_config(settings: RunSettings) -> StrategyConfig:
    """Per-instrument maximum positions worth about 20,000 each (1 unit for unknown ones)."""
    limits = tuple(
        (spec.instrument_id, max(_LOT, round(_POSITION_NOTIONAL / spec.initial_price, 3)))
        for spec in settings.instruments()
    )
    return StrategyConfig(max_positions=limits, lot_size=_LOT)


class StrategyService(EngineService[StrategyClient]):
    """Publishes each signal, and the order it acts on, as the strategy decides them."""

    ENGINE = "strategy"

    def wire(self) -> None:
        self.core = SignalStrategy(strategy_config(self.settings))
        self._gated_until: dict[str, int] = {}
        self._first_alert: dict[str, Any] | None = None
        self._orders: Counter[str] = Counter()
        client = self.client
        core = self.core
        self.publishes(TradingSignal, client.publish_trading_signal)
        self.publishes(OrderRequest, client.publish_order_request)
        client.on_prediction(self.react(self._on_prediction))
        client.on_toxicity_alert(self.alert(self._on_toxicity_alert))
        client.on_flash_crash_warning(self.alert(self._on_flash_crash_warning))
        client.on_quote(self.market(core.on_quote))
        client.on_trade(self.market())
        client.on_trend_update(self.react(core.on_trend_update))
        client.on_market_analysis(self.react(core.on_market_analysis))
        client.on_position_limit_event(self.react(core.on_position_limit_event))
        for subscribe in (
            client.on_model_update,
            client.on_risk_metrics,
            client.on_factor_covariance,
            client.on_factor_exposures,
            client.on_factor_returns,
        ):
            subscribe(self.record())

    def _on_prediction(self, prediction: Prediction, now_ns: int) -> list[StrategyOutput]:
        return self._noted(self.core.on_prediction(prediction, now_ns))

    def _on_toxicity_alert(self, alert: ToxicityAlert, now_ns: int) -> list[StrategyOutput]:
        self._gate(alert, self.core.config.toxicity_cooldown_ns)
        return self._noted(self.core.on_toxicity_alert(alert, now_ns))

    def _on_flash_crash_warning(
        self, warning: FlashCrashWarning, now_ns: int
    ) -> list[StrategyOutput]:
        self._gate(warning, self.core.config.flash_crash_cooldown_ns)
        return self._noted(self.core.on_flash_crash_warning(warning, now_ns))

    def _gate(self, alert: ToxicityAlert | FlashCrashWarning, cooldown_ns: int) -> None:
        instrument_id = alert.instrument_id
        until = alert.ts_event + cooldown_ns
        self._gated_until[instrument_id] = max(self._gated_until.get(instrument_id, 0), until)
        if self._first_alert is None:
            self._first_alert = {
                "type": alert.DESCRIPTOR.name,
                "instrument_id": instrument_id,
                "ts_event": alert.ts_event,
            }

    def _noted(self, outputs: list[StrategyOutput]) -> list[StrategyOutput]:
        for output in outputs:
            if isinstance(output, OrderRequest):
                self._note_order(output)
        return outputs

    def _note_order(self, order: OrderRequest) -> None:
        orders = self._orders
        orders["count"] += 1
        orders[common_pb2.OrderSide.Name(order.side).removeprefix("ORDER_SIDE_")] += 1
        orders["reducing" if order.reduce_only else "opening"] += 1
        orders["after_first_alert" if self._first_alert else "before_first_alert"] += 1
        gated = order.ts_event < self._gated_until.get(order.instrument_id, 0)
        if gated and not order.reduce_only:
            orders["opened_while_gated"] += 1

    def facts(self) -> dict[str, Any]:
        orders = self._orders
        return {
            "orders": {
                "count": orders["count"],
                "by_side": {"BUY": orders["BUY"], "SELL": orders["SELL"]},
                "opening": orders["opening"],
                "reducing": orders["reducing"],
                "before_first_alert": orders["before_first_alert"],
                "after_first_alert": orders["after_first_alert"],
                "opened_while_gated": orders["opened_while_gated"],
            },
            "signals": self.tally.published[TradingSignal.DESCRIPTOR.full_name],
            "first_alert_handled": self._first_alert,
        }
