"""Strategy: predictions, trend, regime and toxicity in; trading signals and market orders out.

For each prediction (from a trained model, version >= `min_model_version`) the strategy forms a
view: UP is LONG and DOWN is SHORT with strength = the prediction's confidence (below
`min_confidence`, or FLAT, the view is FLAT). A strong opposing trend (strength >=
`trend_veto_strength`) vetoes the view to FLAT, a weaker one scales it by (1 - trend strength);
HIGH and EXTREME volatility regimes scale it by `high_vol_scale` and `extreme_vol_scale`.

The target position is `direction x strength x max_position`, rounded toward zero to the lot
size, then clipped by the trading gate (see `gates.py`): after a toxicity alert or a flash-crash
warning the instrument is reduce-only for a cool-down (in market time, from the alert's
`ts_event`), and risk limit events apply their action. The difference to the current position
becomes a MARKET IOC order; every order is preceded by the `TradingSignal` it acts on. Signals
are also sent, without an order, when the view changes direction or its strength moves by
`strength_step`.

The strategy keeps its own position ledger from the orders it sends (PositionUpdate is not
routed to Strategy), assuming market orders fill completely; `set_position` re-synchronises it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nautilus.analytics.v1 import analytics_pb2
from nautilus.analytics.v1.analytics_pb2 import MarketAnalysis, TrendUpdate
from nautilus.bus.v1 import options_pb2
from nautilus.common.v1 import common_pb2
from nautilus.engines.fixed_point import to_e9
from nautilus.engines.strategy.gates import TradingGate, TradingPermission, clip_target
from nautilus.engines.strategy.ids import client_order_id, signal_id
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.ml.v1 import ml_pb2
from nautilus.ml.v1.ml_pb2 import Prediction
from nautilus.risk.v1.risk_pb2 import PositionLimitEvent
from nautilus.strategy.v1 import strategy_pb2
from nautilus.strategy.v1.strategy_pb2 import OrderRequest, TradingSignal
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

__all__ = ["SignalStrategy", "StrategyConfig", "StrategyOutput"]

StrategyOutput = TradingSignal | OrderRequest

_SIGN = {
    strategy_pb2.SIGNAL_DIRECTION_LONG: 1,
    strategy_pb2.SIGNAL_DIRECTION_SHORT: -1,
    strategy_pb2.SIGNAL_DIRECTION_FLAT: 0,
}


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    """Sizing in instrument units (`max_positions` overrides `max_position` per instrument),
    thresholds, cool-downs in ns, and the tags used in client order ids. `account_id` filters
    risk events (empty: honour all)."""

    strategy_id: str = "MlTrend-001"
    account_id: str = ""
    trader_tag: str = "001"
    strategy_tag: str = "001"
    max_position: float = 1.0
    max_positions: tuple[tuple[str, float], ...] = ()
    lot_size: float = 0.001
    min_confidence: float = 0.05
    min_model_version: int = 1
    trend_veto_strength: float = 0.5
    high_vol_scale: float = 0.5
    extreme_vol_scale: float = 0.0
    strength_step: float = 0.1
    signal_ttl_ns: int = 5_000_000_000
    toxicity_cooldown_ns: int = 60_000_000_000
    flash_crash_cooldown_ns: int = 300_000_000_000
    flatten_longs_on_flash_crash: bool = True
    _limits_e9: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if "-" not in self.strategy_id:
            raise ValueError(f"strategy_id {self.strategy_id!r} is not NAME-TAG")
        limits = dict(self.max_positions)
        if self.max_position <= 0 or any(v <= 0 for v in limits.values()) or self.lot_size <= 0:
            raise ValueError("max positions and lot_size must be > 0")
        for name in (
            "min_confidence",
            "trend_veto_strength",
            "high_vol_scale",
            "extreme_vol_scale",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]")
        if not 0 < self.strength_step <= 1 or self.min_model_version < 0:
            raise ValueError("need 0 < strength_step <= 1 and min_model_version >= 0")
        if min(self.signal_ttl_ns, self.toxicity_cooldown_ns, self.flash_crash_cooldown_ns) < 0:
            raise ValueError("durations must be >= 0")
        object.__setattr__(self, "_limits_e9", {k: to_e9(v) for k, v in limits.items()})

    def max_position_e9(self, instrument_id: str) -> int:
        """The instrument's maximum absolute position, fixed-point."""
        return self._limits_e9.get(instrument_id, to_e9(self.max_position))


@dataclass(slots=True)
class _Instrument:
    mid_e9: int = 0
    position_e9: int = 0
    trend: analytics_pb2.TrendDirection.ValueType = analytics_pb2.TREND_DIRECTION_UNSPECIFIED
    trend_strength: float = 0.0
    regime: analytics_pb2.VolatilityRegime.ValueType = analytics_pb2.VOLATILITY_REGIME_UNSPECIFIED
    has_analytics: bool = False
    last_direction: strategy_pb2.SignalDirection.ValueType = (
        strategy_pb2.SIGNAL_DIRECTION_UNSPECIFIED
    )
    last_strength: float = 0.0


@dataclass(frozen=True, slots=True)
class _View:
    direction: strategy_pb2.SignalDirection.ValueType
    strength: float
    reason: str


class SignalStrategy:
    """Turns predictions into signals and orders, honouring toxicity and risk gates."""

    def __init__(self, config: StrategyConfig | None = None) -> None:
        self.config = config or StrategyConfig()
        self._gate = TradingGate()
        self._instruments: dict[str, _Instrument] = {}
        self._signals = 0
        self._orders = 0

    def position_e9(self, instrument_id: str) -> int:
        """The strategy's signed position (from its own orders), fixed-point."""
        return self._state(instrument_id).position_e9

    def set_position(self, instrument_id: str, quantity_e9: int) -> None:
        """Overrides the ledger (for example from a portfolio snapshot at start-up)."""
        self._state(instrument_id).position_e9 = quantity_e9

    def permission(self, instrument_id: str, ts_ns: int) -> TradingPermission:
        """What the gate allows on the instrument at market time `ts_ns`."""
        return self._gate.permission(instrument_id, ts_ns)

    def on_quote(self, quote: Quote, now_ns: int) -> list[StrategyOutput]:
        """Tracks the mid price used to stamp signals."""
        self._state(quote.instrument_id).mid_e9 = (quote.bid_price_e9 + quote.ask_price_e9 + 1) // 2
        return []

    def on_trend_update(self, update: TrendUpdate, now_ns: int) -> list[StrategyOutput]:
        """Tracks the instrument's trend."""
        state = self._state(update.instrument_id)
        state.trend, state.trend_strength = update.direction, update.strength
        state.has_analytics = True
        return []

    def on_market_analysis(self, analysis: MarketAnalysis, now_ns: int) -> list[StrategyOutput]:
        """Tracks the instrument's trend and volatility regime."""
        state = self._state(analysis.instrument_id)
        state.trend, state.trend_strength = analysis.trend_direction, analysis.trend_strength
        state.regime = analysis.volatility_regime
        state.has_analytics = True
        return []

    def on_toxicity_alert(self, alert: ToxicityAlert, now_ns: int) -> list[StrategyOutput]:
        """Stops opening positions on the instrument for `toxicity_cooldown_ns`."""
        self._gate.block_for_toxicity(
            alert.instrument_id, alert.ts_event + self.config.toxicity_cooldown_ns
        )
        return []

    def on_flash_crash_warning(
        self, warning: FlashCrashWarning, now_ns: int
    ) -> list[StrategyOutput]:
        """Stops opening positions for `flash_crash_cooldown_ns`; optionally flattens a long."""
        instrument_id = warning.instrument_id
        self._gate.block_for_toxicity(
            instrument_id, warning.ts_event + self.config.flash_crash_cooldown_ns
        )
        state = self._state(instrument_id)
        if not self.config.flatten_longs_on_flash_crash or state.position_e9 <= 0:
            return []
        view = _View(
            strategy_pb2.SIGNAL_DIRECTION_FLAT,
            1.0,
            f"flash crash: drop {warning.price_drop_bps:.0f} bps, vpin_cdf {warning.vpin_cdf:.2f}",
        )
        sources = (options_pb2.ENGINE_VPIN, options_pb2.ENGINE_MARKET_DATA)
        return self._act(
            instrument_id, state, view, sources, ts_ns=warning.ts_event, now_ns=now_ns, force=True
        )

    def on_position_limit_event(
        self, event: PositionLimitEvent, now_ns: int
    ) -> list[StrategyOutput]:
        """Applies or lifts the Risk engine's restriction."""
        if not self.config.account_id or event.account_id == self.config.account_id:
            self._gate.apply_risk_event(event)
        return []

    def on_prediction(self, prediction: Prediction, now_ns: int) -> list[StrategyOutput]:
        """Forms a view from the prediction and context; returns signal and order, if any."""
        if prediction.model_version < self.config.min_model_version:
            return []
        instrument_id = prediction.instrument_id
        state = self._state(instrument_id)
        if state.mid_e9 <= 0:
            return []
        view = self._view(prediction, state)
        sources = [options_pb2.ENGINE_ML, options_pb2.ENGINE_MARKET_DATA]
        if state.has_analytics:
            sources.append(options_pb2.ENGINE_ANALYTICS)
        if self._gate.toxic(instrument_id, prediction.ts_event):
            sources.append(options_pb2.ENGINE_VPIN)
        if self._gate.risk_permission(instrument_id) != TradingPermission.OPEN:
            sources.append(options_pb2.ENGINE_RISK)
        return self._act(
            instrument_id, state, view, sources, ts_ns=prediction.ts_event, now_ns=now_ns
        )

    def _state(self, instrument_id: str) -> _Instrument:
        state = self._instruments.get(instrument_id)
        if state is None:
            state = self._instruments[instrument_id] = _Instrument()
        return state

    def _view(self, prediction: Prediction, state: _Instrument) -> _View:
        config = self.config
        flat = strategy_pb2.SIGNAL_DIRECTION_FLAT
        base = f"ml prob_up {prediction.probability_up:.2f} conf {prediction.confidence:.2f}"
        if prediction.direction == ml_pb2.PREDICTED_DIRECTION_UP:
            direction = strategy_pb2.SIGNAL_DIRECTION_LONG
        elif prediction.direction == ml_pb2.PREDICTED_DIRECTION_DOWN:
            direction = strategy_pb2.SIGNAL_DIRECTION_SHORT
        else:
            return _View(flat, 0.0, f"{base}, no direction")
        if prediction.confidence < config.min_confidence:
            return _View(flat, 0.0, f"{base}, below min confidence")
        strength = prediction.confidence
        opposing = (
            analytics_pb2.TREND_DIRECTION_DOWN
            if direction == strategy_pb2.SIGNAL_DIRECTION_LONG
            else analytics_pb2.TREND_DIRECTION_UP
        )
        if state.trend == opposing:
            if state.trend_strength >= config.trend_veto_strength:
                return _View(flat, 0.0, f"{base}, vetoed by opposing trend")
            strength *= 1.0 - state.trend_strength
        if state.regime == analytics_pb2.VOLATILITY_REGIME_HIGH:
            strength *= config.high_vol_scale
        elif state.regime == analytics_pb2.VOLATILITY_REGIME_EXTREME:
            strength *= config.extreme_vol_scale
        if strength <= 0:
            return _View(flat, 0.0, f"{base}, scaled to zero by volatility regime")
        regime = analytics_pb2.VolatilityRegime.Name(state.regime).removeprefix(
            "VOLATILITY_REGIME_"
        )
        trend = analytics_pb2.TrendDirection.Name(state.trend).removeprefix("TREND_DIRECTION_")
        reason = f"{base}, trend {trend.lower()}, regime {regime.lower()}"
        return _View(direction, min(1.0, strength), reason)

    def _act(
        self,
        instrument_id: str,
        state: _Instrument,
        view: _View,
        sources: list[options_pb2.Engine.ValueType] | tuple[options_pb2.Engine.ValueType, ...],
        *,
        ts_ns: int,
        now_ns: int,
        force: bool = False,
    ) -> list[StrategyOutput]:
        permission = self._gate.permission(instrument_id, ts_ns)
        target = self._target_e9(instrument_id, view)
        allowed = clip_target(state.position_e9, target, permission)
        delta = allowed - state.position_e9
        changed = view.direction != state.last_direction or (
            abs(view.strength - state.last_strength) >= self.config.strength_step
        )
        if delta == 0 and not changed and not force:
            return []
        reason = view.reason
        if allowed != target:
            reason += f", {permission.name.lower()}"
        signal = self._signal(
            instrument_id, state, view, reason, sources, ts_ns=ts_ns, now_ns=now_ns
        )
        state.last_direction, state.last_strength = view.direction, view.strength
        if delta == 0:
            return [signal]
        order = self._order(
            instrument_id, state, delta, allowed, signal, ts_ns=ts_ns, now_ns=now_ns
        )
        state.position_e9 = allowed
        return [signal, order]

    def _target_e9(self, instrument_id: str, view: _View) -> int:
        lot = to_e9(self.config.lot_size)
        raw = int(view.strength * self.config.max_position_e9(instrument_id))
        return _SIGN[view.direction] * (raw // lot) * lot

    def _signal(
        self,
        instrument_id: str,
        state: _Instrument,
        view: _View,
        reason: str,
        sources: list[options_pb2.Engine.ValueType] | tuple[options_pb2.Engine.ValueType, ...],
        *,
        ts_ns: int,
        now_ns: int,
    ) -> TradingSignal:
        self._signals += 1
        ttl = self.config.signal_ttl_ns
        return TradingSignal(
            signal_id=signal_id(self.config.strategy_id, self._signals),
            strategy_id=self.config.strategy_id,
            instrument_id=instrument_id,
            direction=view.direction,
            strength=view.strength,
            reason=reason,
            sources=sorted(set(sources)),
            mid_price_e9=state.mid_e9,
            ts_expire=ts_ns + ttl if ttl else 0,
            ts_event=ts_ns,
            ts_init=now_ns,
        )

    def _order(
        self,
        instrument_id: str,
        state: _Instrument,
        delta: int,
        allowed: int,
        signal: TradingSignal,
        *,
        ts_ns: int,
        now_ns: int,
    ) -> OrderRequest:
        self._orders += 1
        config = self.config
        reduces = abs(allowed) < abs(state.position_e9) and allowed * state.position_e9 >= 0
        return OrderRequest(
            client_order_id=client_order_id(
                ts_ns, config.trader_tag, config.strategy_tag, self._orders
            ),
            strategy_id=config.strategy_id,
            instrument_id=instrument_id,
            side=common_pb2.ORDER_SIDE_BUY if delta > 0 else common_pb2.ORDER_SIDE_SELL,
            order_type=strategy_pb2.ORDER_TYPE_MARKET,
            quantity_e9=abs(delta),
            limit_price_e9=0,
            time_in_force=strategy_pb2.TIME_IN_FORCE_IOC,
            reduce_only=reduces,
            signal_id=signal.signal_id,
            ts_event=ts_ns,
            ts_init=now_ns,
        )
