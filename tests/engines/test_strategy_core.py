"""Strategy: sizing, toxicity and risk gates, ids."""

from __future__ import annotations

from nautilus.analytics.v1 import analytics_pb2
from nautilus.analytics.v1.analytics_pb2 import TrendUpdate
from nautilus.bus.v1 import options_pb2
from nautilus.common.v1 import common_pb2
from nautilus.engines.strategy import SignalStrategy, StrategyConfig, client_order_id
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.ml.v1 import ml_pb2
from nautilus.ml.v1.ml_pb2 import Prediction
from nautilus.risk.v1 import risk_pb2
from nautilus.risk.v1.risk_pb2 import PositionLimitEvent
from nautilus.strategy.v1 import strategy_pb2
from nautilus.strategy.v1.strategy_pb2 import OrderRequest, TradingSignal
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

T0 = 1_764_028_800_000_000_000  # 2025-11-25T00:00:00Z
SECOND = 1_000_000_000
E9 = 1_000_000_000
BTC = "BTCUSDT.BINANCE"


def _strategy() -> SignalStrategy:
    strategy = SignalStrategy(
        StrategyConfig(max_position=2.0, lot_size=0.001, toxicity_cooldown_ns=60 * SECOND)
    )
    strategy.on_quote(
        Quote(instrument_id=BTC, bid_price_e9=99 * E9, ask_price_e9=101 * E9, ts_event=T0), T0
    )
    return strategy


def _prediction(ts: int, up: bool = True, confidence: float = 0.6) -> Prediction:
    return Prediction(
        instrument_id=BTC,
        model_id="logreg_direction_1s",
        model_version=3,
        probability_up=0.8 if up else 0.2,
        direction=ml_pb2.PREDICTED_DIRECTION_UP if up else ml_pb2.PREDICTED_DIRECTION_DOWN,
        confidence=confidence,
        ts_event=ts,
    )


def _orders(outputs: list[TradingSignal | OrderRequest]) -> list[OrderRequest]:
    return [o for o in outputs if isinstance(o, OrderRequest)]


def test_confident_prediction_opens_a_position_sized_by_strength() -> None:
    signal, order = _strategy().on_prediction(_prediction(T0 + SECOND), T0 + SECOND + 9)
    assert isinstance(signal, TradingSignal)
    assert isinstance(order, OrderRequest)
    assert signal.direction == strategy_pb2.SIGNAL_DIRECTION_LONG
    assert signal.strength == 0.6
    assert signal.mid_price_e9 == 100 * E9
    assert list(signal.sources) == [options_pb2.ENGINE_ML, options_pb2.ENGINE_MARKET_DATA]
    assert signal.ts_expire == T0 + SECOND + 5 * SECOND
    # 0.6 x 2.0 = 1.2 units, a whole number of 0.001 lots
    assert (order.side, order.quantity_e9) == (common_pb2.ORDER_SIDE_BUY, 1_200_000_000)
    assert order.order_type == strategy_pb2.ORDER_TYPE_MARKET
    assert order.limit_price_e9 == 0
    assert order.signal_id == signal.signal_id
    assert not order.reduce_only
    assert (order.ts_event, order.ts_init) == (T0 + SECOND, T0 + SECOND + 9)


def test_refuses_to_open_after_a_toxicity_alert_and_resumes_after_cooldown() -> None:
    strategy = _strategy()
    strategy.on_toxicity_alert(ToxicityAlert(instrument_id=BTC, ts_event=T0), T0)
    blocked = strategy.on_prediction(_prediction(T0 + 30 * SECOND), T0)
    assert _orders(blocked) == []
    assert strategy.position_e9(BTC) == 0
    resumed = strategy.on_prediction(_prediction(T0 + 61 * SECOND), T0)
    (order,) = _orders(resumed)
    assert order.side == common_pb2.ORDER_SIDE_BUY


def test_still_reduces_while_toxic_but_never_flips() -> None:
    strategy = _strategy()
    strategy.on_prediction(_prediction(T0), T0)  # long 1.2
    strategy.on_toxicity_alert(ToxicityAlert(instrument_id=BTC, ts_event=T0 + SECOND), T0)
    outputs = strategy.on_prediction(_prediction(T0 + 2 * SECOND, up=False), T0)
    (order,) = _orders(outputs)
    assert (order.side, order.quantity_e9, order.reduce_only) == (
        common_pb2.ORDER_SIDE_SELL,
        1_200_000_000,
        True,
    )
    assert strategy.position_e9(BTC) == 0  # flat, not short


def test_risk_reduce_only_blocks_opening_until_restored() -> None:
    strategy = _strategy()
    event = PositionLimitEvent(
        account_id="BINANCE-001",
        breach_kind=risk_pb2.BREACH_KIND_GROSS_EXPOSURE,
        status=risk_pb2.LIMIT_STATUS_BREACHED,
        action=risk_pb2.RISK_ACTION_REDUCE_ONLY,
    )
    strategy.on_position_limit_event(event, T0)
    blocked = strategy.on_prediction(_prediction(T0 + SECOND), T0)
    assert _orders(blocked) == []
    signal = blocked[0]
    assert isinstance(signal, TradingSignal)
    assert options_pb2.ENGINE_RISK in signal.sources
    event.status, event.action = risk_pb2.LIMIT_STATUS_RESTORED, risk_pb2.RISK_ACTION_NONE
    strategy.on_position_limit_event(event, T0)
    assert len(_orders(strategy.on_prediction(_prediction(T0 + 2 * SECOND), T0))) == 1


def test_flash_crash_flattens_a_long_position() -> None:
    strategy = _strategy()
    strategy.on_prediction(_prediction(T0), T0)
    outputs = strategy.on_flash_crash_warning(
        FlashCrashWarning(instrument_id=BTC, price_drop_bps=400.0, ts_event=T0 + SECOND), T0
    )
    signal, order = outputs
    assert isinstance(signal, TradingSignal)
    assert signal.direction == strategy_pb2.SIGNAL_DIRECTION_FLAT
    assert isinstance(order, OrderRequest)
    assert (order.side, order.quantity_e9, order.reduce_only) == (
        common_pb2.ORDER_SIDE_SELL,
        1_200_000_000,
        True,
    )


def test_predictions_from_an_untrained_model_are_ignored() -> None:
    prediction = _prediction(T0)
    prediction.model_version = 0
    assert _strategy().on_prediction(prediction, T0) == []


def test_strong_opposing_trend_vetoes_the_view() -> None:
    strategy = _strategy()
    strategy.on_trend_update(
        TrendUpdate(instrument_id=BTC, direction=analytics_pb2.TREND_DIRECTION_DOWN, strength=0.9),
        T0,
    )
    (signal,) = strategy.on_prediction(_prediction(T0), T0)
    assert isinstance(signal, TradingSignal)
    assert signal.direction == strategy_pb2.SIGNAL_DIRECTION_FLAT
    assert "vetoed" in signal.reason


def test_client_order_id_uses_market_time() -> None:
    assert client_order_id(T0 + 3_723 * SECOND, "001", "002", 7) == "O-20251125-010203-001-002-7"
