"""Engine services on their generated clients, on the in-process transport and on a real server:
each core's outputs reach the bus through the typed publish methods, timers run on market time,
and bad input is retried and dead-lettered without stopping the engine."""

from __future__ import annotations

import time

from nautilus.clients.marketdata import MarketDataClient
from nautilus.clients.ml import MLClient
from nautilus.clients.portfolio import PortfolioClient
from nautilus.clients.risk import RiskClient
from nautilus.clients.strategy import StrategyClient
from nautilus.clients.vpin import VPINClient
from nautilus.common.v1 import common_pb2
from nautilus.engines.features.service import FeaturesService
from nautilus.engines.portfolio.core import NoQuoteError
from nautilus.engines.portfolio.service import PortfolioService
from nautilus.engines.risk.service import RISK_METRICS_INTERVAL_NS, RiskService
from nautilus.engines.run_settings import DEFAULT_START_NS, NS_PER_SECOND, RunSettings
from nautilus.engines.strategy.service import StrategyService
from nautilus.engines.vpin.service import VpinService
from nautilus.features.v1.features_pb2 import FeatureVector
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.ml.v1 import ml_pb2
from nautilus.ml.v1.ml_pb2 import Prediction
from nautilus.portfolio.v1.portfolio_pb2 import PositionUpdate
from nautilus.risk.v1.risk_pb2 import RiskMetrics
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.errors import DeadLetterReason
from nautilus.runtime.priority import MessagePriority
from nautilus.strategy.v1 import strategy_pb2
from nautilus.strategy.v1.strategy_pb2 import OrderRequest
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert
from tests.engine_services.conftest import MakeBus

T0 = DEFAULT_START_NS
BTC = "BTCUSDT.BINANCE"
ETH = "ETHUSDT.BINANCE"


def _quote(instrument_id: str, bid: float, ts_ns: int) -> Quote:
    return Quote(
        instrument_id=instrument_id,
        bid_price_e9=round(bid * 1e9),
        ask_price_e9=round((bid + 1.0) * 1e9),
        bid_size_e9=10**9,
        ask_size_e9=10**9,
        ts_event=ts_ns,
        ts_init=ts_ns,
    )


def _prediction(direction: int, confidence: float, ts_ns: int) -> Prediction:
    edge = confidence if direction == ml_pb2.PREDICTED_DIRECTION_UP else -confidence
    return Prediction(
        instrument_id=BTC,
        model_id="logreg_direction_1s",
        model_version=1,
        probability_up=0.5 + edge / 2,
        direction=direction,  # type: ignore[arg-type]
        confidence=confidence,
        ts_event=ts_ns,
        ts_init=ts_ns,
    )


async def test_vpin_publishes_a_flash_crash_warning_during_the_scripted_crash(
    make_bus: MakeBus,
) -> None:
    settings = RunSettings()  # the flash-crash scenario
    crash_start = settings.crash_start_ns()
    assert crash_start is not None
    bus = make_bus()
    bus.service(VpinService, settings)
    marketdata = bus.client(MarketDataClient)
    risk = bus.client(RiskClient)
    warnings: list[Delivery[FlashCrashWarning]] = []
    risk.on_flash_crash_warning(lambda warning, delivery: warnings.append(delivery))
    risk.on_toxicity_alert(lambda alert, delivery: None)
    await bus.start()
    instant = None
    for ts_ns, message in settings.market():
        if ts_ns > crash_start + 30 * NS_PER_SECOND:
            break
        if message.instrument_id != BTC:
            continue
        if ts_ns != instant:
            await bus.settle()
            await bus.at(ts_ns)
            instant = ts_ns
        if isinstance(message, Quote):
            await marketdata.publish_quote(message)
        else:
            await marketdata.publish_trade(message)
    await bus.settle()
    await bus.close()

    assert warnings, "the crash must raise a flash-crash warning"
    first = warnings[0]
    assert first.producer == "vpin"
    assert first.priority is MessagePriority.CRITICAL
    assert first.message.instrument_id == BTC
    assert crash_start <= first.message.ts_event <= crash_start + 30 * NS_PER_SECOND


async def test_strategy_stops_opening_positions_on_an_instrument_after_a_toxicity_alert(
    make_bus: MakeBus,
) -> None:
    bus = make_bus()
    strategy = bus.service(StrategyService)
    marketdata, ml = bus.client(MarketDataClient), bus.client(MLClient)
    vpin, portfolio = bus.client(VPINClient), bus.client(PortfolioClient)
    orders: list[OrderRequest] = []
    portfolio.on_order_request(lambda order, delivery: orders.append(order))
    portfolio.on_trading_signal(lambda signal, delivery: None)
    await bus.start()

    async def step(ts_ns: int, publish: object) -> None:
        await bus.at(ts_ns)
        await publish  # type: ignore[misc]
        await bus.settle()

    up, down = ml_pb2.PREDICTED_DIRECTION_UP, ml_pb2.PREDICTED_DIRECTION_DOWN
    await step(T0 + 1, marketdata.publish_quote(_quote(BTC, 64_250.0, T0 + 1)))
    await step(T0 + 2, ml.publish_prediction(_prediction(up, 0.5, T0 + 2)))
    alert = ToxicityAlert(instrument_id=BTC, vpin=0.8, vpin_cdf=0.995, ts_event=T0 + 3)
    await step(T0 + 3, vpin.publish_toxicity_alert(alert))
    await step(T0 + 4, ml.publish_prediction(_prediction(up, 1.0, T0 + 4)))
    await step(T0 + 5, ml.publish_prediction(_prediction(down, 0.9, T0 + 5)))
    await bus.close()

    opening, reducing = orders
    assert opening.side == common_pb2.ORDER_SIDE_BUY
    assert not opening.reduce_only
    # After the alert, a stronger buy view opens nothing; a sell view may only flatten the long.
    assert reducing.side == common_pb2.ORDER_SIDE_SELL
    assert reducing.reduce_only
    assert reducing.quantity_e9 == opening.quantity_e9
    assert reducing.order_type == strategy_pb2.ORDER_TYPE_MARKET
    facts = strategy.facts()["orders"]
    assert (facts["before_first_alert"], facts["after_first_alert"]) == (1, 1)
    assert facts["opened_while_gated"] == 0


async def test_features_close_a_quiet_instruments_interval_on_the_market_time_timer(
    make_bus: MakeBus,
) -> None:
    bus = make_bus()
    bus.service(FeaturesService)
    marketdata, ml = bus.client(MarketDataClient), bus.client(MLClient)
    vectors: list[FeatureVector] = []
    ml.on_feature_vector(lambda vector, delivery: vectors.append(vector))
    await bus.start()
    half = NS_PER_SECOND // 2
    for instrument_id in (BTC, ETH):
        await marketdata.publish_quote(_quote(instrument_id, 100.0, T0 + half))
    for second in (1, 2, 3):  # only BTC keeps quoting
        await bus.settle()
        await bus.at(T0 + second * NS_PER_SECOND + half)
        await marketdata.publish_quote(_quote(BTC, 100.0, T0 + second * NS_PER_SECOND + half))
    await bus.settle()
    await bus.close()

    quiet = [v.ts_event for v in vectors if v.instrument_id == ETH]
    assert quiet == [T0 + NS_PER_SECOND, T0 + 2 * NS_PER_SECOND, T0 + 3 * NS_PER_SECOND]


async def test_risk_publishes_its_metrics_on_every_market_time_period(make_bus: MakeBus) -> None:
    bus = make_bus()
    bus.service(RiskService)
    marketdata, strategy = bus.client(MarketDataClient), bus.client(StrategyClient)
    snapshots: list[RiskMetrics] = []
    strategy.on_risk_metrics(lambda metrics, delivery: snapshots.append(metrics))
    await bus.start()
    for second in range(1, 36):
        await bus.at(T0 + second * NS_PER_SECOND)
        await marketdata.publish_quote(_quote(BTC, 64_250.0, T0 + second * NS_PER_SECOND))
        await bus.settle()
    await bus.close()

    period = RISK_METRICS_INTERVAL_NS
    assert [s.ts_event for s in snapshots] == [T0 + period, T0 + 2 * period, T0 + 3 * period]
    assert all(s.account_id == "BINANCE-001" for s in snapshots)


async def test_an_order_the_core_rejects_is_retried_then_dead_lettered_and_the_engine_goes_on(
    make_bus: MakeBus,
) -> None:
    bus = make_bus()
    portfolio = bus.service(PortfolioService, reclaim_idle_ms=1, max_deliveries=2)
    marketdata, strategy, risk = (
        bus.client(MarketDataClient),
        bus.client(StrategyClient),
        bus.client(RiskClient),
    )
    fills: list[PositionUpdate] = []
    risk.on_position_update(lambda update, delivery: fills.append(update))
    await bus.start()
    order = OrderRequest(
        client_order_id="O-1",
        strategy_id="MlTrend-001",
        instrument_id=BTC,
        side=common_pb2.ORDER_SIDE_BUY,
        order_type=strategy_pb2.ORDER_TYPE_MARKET,
        quantity_e9=10**8,
        ts_event=T0 + 1,
    )
    await bus.at(T0 + 1)
    await strategy.publish_order_request(order)  # no quote yet: the core cannot fill it
    await bus.settle()
    now, deadline = T0 + 1, time.monotonic() + 10.0  # bounds a hang; asserts no timing
    while not await portfolio.client.bus.dead_letters(OrderRequest):
        assert time.monotonic() < deadline
        now += NS_PER_SECOND  # the failed entry idles, is reclaimed and fails again
        await bus.at(now)
        await bus.settle()
    await marketdata.publish_quote(_quote(BTC, 64_250.0, now))
    order.client_order_id, order.ts_event = "O-2", now
    await strategy.publish_order_request(order)
    await bus.settle()
    (dead,) = await portfolio.client.bus.dead_letters(OrderRequest)
    await bus.close()

    assert dead.reason is DeadLetterReason.MAX_DELIVERIES
    assert NoQuoteError.__name__ in dead.detail
    assert portfolio.tally.handler_errors == {"NoQuoteError": 2}
    assert [fill.last_client_order_id for fill in fills] == ["O-2"]
