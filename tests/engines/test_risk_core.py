"""Risk: historical VaR, drawdown, exposures and limit events."""

from __future__ import annotations

import pytest

from nautilus.common.v1 import common_pb2
from nautilus.engines.risk import DrawdownTracker, RiskConfig, RiskMonitor, historical_var
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.portfolio.v1.portfolio_pb2 import PnlUpdate, PositionUpdate
from nautilus.risk.v1 import risk_pb2
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

T0 = 1_764_028_800_000_000_000
MINUTE = 60_000_000_000
E9 = 1_000_000_000
BTC = "BTCUSDT.BINANCE"
ETH = "ETHUSDT.BINANCE"
ACCOUNT = "BINANCE-001"


def _position(instrument_id: str, quantity: float, price: float, ts: int = T0) -> PositionUpdate:
    side = common_pb2.POSITION_SIDE_LONG if quantity > 0 else common_pb2.POSITION_SIDE_SHORT
    return PositionUpdate(
        account_id=ACCOUNT,
        strategy_id="MlTrend-001",
        instrument_id=instrument_id,
        side=side if quantity else common_pb2.POSITION_SIDE_FLAT,
        quantity_e9=round(abs(quantity) * E9),
        last_fill_price_e9=round(price * E9),
        ts_event=ts,
    )


def _quote(instrument_id: str, mid: float, ts: int) -> Quote:
    price = round(mid * E9)
    return Quote(instrument_id=instrument_id, bid_price_e9=price, ask_price_e9=price, ts_event=ts)


def test_historical_var_is_the_empirical_loss_quantile() -> None:
    # Losses 1 .. 100: 95 of the 100 scenarios lose at most 95, 99 at most 99.
    changes = [-float(loss) for loss in range(1, 101)]
    assert historical_var(changes, 0.95) == 95.0
    assert historical_var(changes, 0.99) == 99.0


def test_historical_var_of_only_gains_is_zero() -> None:
    assert historical_var([1.0, 2.0, 3.0], 0.99) == 0.0


def test_drawdown_on_a_known_equity_curve() -> None:
    """100 -> 120 -> 90 (25% below the 120 peak) -> 130 -> 104 (20% below 130)."""
    tracker = DrawdownTracker()
    for equity in (100.0, 120.0, 90.0, 130.0, 104.0):
        tracker.update(equity)
    assert tracker.max_drawdown == pytest.approx(0.25)
    assert tracker.current == pytest.approx(26.0)


def test_notional_limit_events_approach_breach_and_restore() -> None:
    monitor = RiskMonitor(RiskConfig(position_notional_limit=10_000.0, warning_level=0.8))
    (approaching,) = monitor.on_position_update(_position(BTC, 0.085, 100_000.0), T0 + 1)
    assert approaching.status == risk_pb2.LIMIT_STATUS_APPROACHING
    assert approaching.severity == common_pb2.SEVERITY_WARNING
    (breached,) = monitor.on_quote(_quote(BTC, 120_000.0, T0 + 2), T0 + 3)
    assert breached.breach_kind == risk_pb2.BREACH_KIND_POSITION_NOTIONAL
    assert breached.status == risk_pb2.LIMIT_STATUS_BREACHED
    assert breached.severity == common_pb2.SEVERITY_CRITICAL
    assert breached.action == risk_pb2.RISK_ACTION_REDUCE_ONLY
    assert (breached.limit_e9, breached.current_e9) == (10_000 * E9, 10_200 * E9)
    assert breached.usage == pytest.approx(1.02)
    assert (breached.instrument_id, breached.currency) == (BTC, "USDT")
    assert (breached.ts_event, breached.ts_init) == (T0 + 2, T0 + 3)
    # 0.085 x 110,000 = 9,350: usage 0.935 is inside the hysteresis band, still breached
    assert monitor.on_quote(_quote(BTC, 110_000.0, T0 + 4), T0) == []
    (restored,) = monitor.on_quote(_quote(BTC, 90_000.0, T0 + 5), T0)
    assert restored.status == risk_pb2.LIMIT_STATUS_RESTORED
    assert (restored.severity, restored.action) == (
        common_pb2.SEVERITY_INFO,
        risk_pb2.RISK_ACTION_NONE,
    )


def test_toxicity_alert_tightens_the_instruments_limits() -> None:
    monitor = RiskMonitor(RiskConfig(position_notional_limit=10_000.0, toxicity_limit_scale=0.5))
    monitor.on_position_update(_position(BTC, 0.06, 100_000.0), T0)  # 6,000: usage 0.6
    (event,) = monitor.on_toxicity_alert(ToxicityAlert(instrument_id=BTC, ts_event=T0 + 1), T0)
    assert event.status == risk_pb2.LIMIT_STATUS_BREACHED
    assert event.limit_e9 == 5_000 * E9


def test_metrics_report_exposures_and_leverage() -> None:
    monitor = RiskMonitor(RiskConfig(initial_equity=50_000.0, position_notional_limit=100_000.0))
    monitor.on_position_update(_position(BTC, 0.5, 60_000.0), T0)
    monitor.on_position_update(_position(ETH, -4.0, 3_000.0), T0)
    metrics = monitor.metrics(T0 + 1, T0 + 2)
    assert metrics.gross_exposure_e9 == 42_000 * E9  # 30,000 + 12,000
    assert metrics.net_exposure_e9 == 18_000 * E9  # 30,000 - 12,000
    assert metrics.leverage == pytest.approx(42_000 / 50_000)
    assert [(row.instrument_id, row.position_quantity_e9) for row in metrics.limits] == [
        (BTC, E9 // 2),
        (ETH, -4 * E9),
    ]
    assert metrics.limits[0].usage == pytest.approx(0.3)


def test_var_from_equity_changes_sampled_per_horizon() -> None:
    monitor = RiskMonitor(RiskConfig(min_var_observations=4, var_99_limit=0.0))
    for i, equity in enumerate((100_000, 99_000, 99_500, 97_500, 98_000)):
        monitor.on_pnl_update(
            PnlUpdate(account_id=ACCOUNT, equity_e9=equity * E9, ts_event=T0 + i * MINUTE), T0
        )
    # changes -1,000, +500, -2,000, +500 -> losses 1000, -500, 2000, -500
    metrics = monitor.metrics(T0 + 5 * MINUTE, T0)
    assert metrics.var_observations == 4
    assert metrics.var_95_e9 == 2_000 * E9  # ceil(0.95 x 4) = 4th smallest loss
    assert metrics.max_drawdown == pytest.approx(0.025)  # 100,000 -> 97,500
