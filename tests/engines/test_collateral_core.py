"""Collateral: margin requirement, utilisation and alerts with hysteresis."""

from __future__ import annotations

from nautilus.collateral.v1.collateral_pb2 import MarginAlert, MarginRequirement
from nautilus.common.v1 import common_pb2
from nautilus.engines.collateral import CollateralConfig, MarginCalculator, MarginRates
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.portfolio.v1.portfolio_pb2 import PnlUpdate, PositionUpdate

T0 = 1_764_028_800_000_000_000
E9 = 1_000_000_000
BTC = "BTCUSDT.BINANCE"
ACCOUNT = "BINANCE-001"


def _calculator() -> MarginCalculator:
    calculator = MarginCalculator(
        CollateralConfig(
            initial_equity=100_000.0,
            default_rates=MarginRates(initial=0.10, maintenance=0.05),
            warning_level=0.8,
            critical_level=0.95,
            hysteresis=0.05,
        )
    )
    calculator.on_position_update(
        PositionUpdate(
            account_id=ACCOUNT,
            strategy_id="MlTrend-001",
            instrument_id=BTC,
            side=common_pb2.POSITION_SIDE_LONG,
            quantity_e9=2 * E9,
            last_fill_price_e9=50_000 * E9,
            ts_event=T0,
        ),
        T0,
    )
    return calculator


def _equity(calculator: MarginCalculator, equity: int, ts: int) -> list[MarginAlert]:
    outputs = calculator.on_pnl_update(
        PnlUpdate(account_id=ACCOUNT, equity_e9=equity * E9, ts_event=ts), ts + 1
    )
    return [o for o in outputs if isinstance(o, MarginAlert)]


def test_requirement_from_notional_and_rates() -> None:
    """2 BTC at 50,000: notional 100,000; initial 10% = 10,000; maintenance 5% = 5,000;
    equity 100,000: free margin 90,000, utilisation 5,000 / 100,000 = 0.05."""
    requirement = _calculator().requirement(T0 + 1, T0 + 2)
    assert isinstance(requirement, MarginRequirement)
    assert (requirement.initial_margin_e9, requirement.maintenance_margin_e9) == (
        10_000 * E9,
        5_000 * E9,
    )
    assert requirement.free_margin_e9 == 90_000 * E9
    assert requirement.utilization == 0.05
    (row,) = requirement.instruments
    assert (row.instrument_id, row.notional_e9) == (BTC, 100_000 * E9)


def test_quote_re_marks_the_position() -> None:
    calculator = _calculator()
    quote = Quote(
        instrument_id=BTC, bid_price_e9=59_999 * E9, ask_price_e9=60_001 * E9, ts_event=T0 + 1
    )
    (requirement,) = calculator.on_quote(quote, T0 + 2)
    assert isinstance(requirement, MarginRequirement)
    assert requirement.maintenance_margin_e9 == 6_000 * E9


def test_warning_fires_once_then_re_arms_below_the_hysteresis_band() -> None:
    calculator = _calculator()  # maintenance 5,000
    (warning,) = _equity(calculator, 6_000, T0 + 1)  # utilisation 0.833
    assert warning.severity == common_pb2.SEVERITY_WARNING
    assert warning.threshold == 0.8
    assert (warning.required_margin_e9, warning.available_collateral_e9) == (
        5_000 * E9,
        6_000 * E9,
    )
    assert _equity(calculator, 6_400, T0 + 2) == []  # 0.781: inside the band
    assert _equity(calculator, 6_000, T0 + 3) == []  # 0.833 again: not re-armed
    assert _equity(calculator, 7_000, T0 + 4) == []  # 0.714 < 0.75: re-armed
    assert len(_equity(calculator, 6_000, T0 + 5)) == 1


def test_jump_past_both_levels_is_critical() -> None:
    (alert,) = _equity(_calculator(), 5_100, T0 + 1)  # 0.98
    assert alert.severity == common_pb2.SEVERITY_CRITICAL
    assert alert.threshold == 0.95
    assert alert.reason.startswith("utilization 0.98 >= 0.95")


def test_non_positive_equity_means_unbounded_utilisation() -> None:
    calculator = _calculator()
    (alert,) = _equity(calculator, -10, T0 + 1)
    assert alert.utilization == 1e9
