"""VPIN: volume buckets, bulk volume classification, alerts and flash-crash warnings."""

from __future__ import annotations

import math

import pytest

from nautilus.common.v1 import common_pb2
from nautilus.engines.marketdata import SyntheticMarket, scenario
from nautilus.engines.vpin import (
    BulkVolumeClassifier,
    RollingEcdf,
    VolumeBucketer,
    VpinCalculator,
    VpinConfig,
    buy_fraction,
)
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

T0 = 1_764_028_800_000_000_000
SECOND = 1_000_000_000
E9 = 1_000_000_000
BTC = "BTCUSDT.BINANCE"


def _trade(price: float, size: float = 1.0, ts: int = T0) -> Trade:
    return Trade(
        instrument_id=BTC,
        price_e9=round(price * E9),
        size_e9=round(size * E9),
        trade_id=f"t-{ts}",
        ts_event=ts,
        ts_init=ts,
    )


def _quote(bid: float, ask: float, ts: int) -> Quote:
    return Quote(
        instrument_id=BTC,
        bid_price_e9=round(bid * E9),
        ask_price_e9=round(ask * E9),
        bid_size_e9=E9,
        ask_size_e9=E9,
        ts_event=ts,
        ts_init=ts,
    )


def test_bucketer_splits_a_trade_larger_than_the_room_left() -> None:
    bucketer = VolumeBucketer(10 * E9)
    assert bucketer.add(100 * E9, 4 * E9, 1) == []
    # 15 units: 6 close bucket 0, the other 9 open bucket 1.
    first = bucketer.add(101 * E9, 15 * E9, 2)
    # 3 units: 1 closes bucket 1, 2 stay open.
    second = bucketer.add(102 * E9, 3 * E9, 3)
    buckets = first + second
    assert [b.index for b in buckets] == [0, 1]
    assert [b.volume_e9 for b in buckets] == [10 * E9, 10 * E9]
    assert [(b.open_price_e9, b.close_price_e9) for b in buckets] == [
        (100 * E9, 101 * E9),
        (101 * E9, 102 * E9),
    ]
    assert [b.trade_count for b in buckets] == [2, 2]
    assert bucketer.filled_e9 == 2 * E9  # 4 + 15 + 3 = 22 = 2 buckets + 2


def test_one_trade_can_close_several_buckets() -> None:
    bucketer = VolumeBucketer(2 * E9)
    buckets = bucketer.add(100 * E9, 7 * E9, 5)
    assert [b.index for b in buckets] == [0, 1, 2]
    assert bucketer.filled_e9 == E9


def test_bvc_buy_fraction_is_normal_cdf_of_standardised_change() -> None:
    # Phi(1) = 0.841344746...; Phi(-1.96) = 0.0249978...
    assert buy_fraction(1.0, 1.0) == pytest.approx(0.8413447461)
    assert buy_fraction(-3.92, 2.0) == pytest.approx(0.0249978951)
    assert buy_fraction(0.0, 0.5) == 0.5
    assert buy_fraction(1.0, 0.0) == 0.5  # no scale yet: no information


def test_bvc_scale_is_stdev_of_previous_changes() -> None:
    classifier = BulkVolumeClassifier(sigma_window=10)
    assert classifier.classify(1.0) == 0.5  # no history
    assert classifier.classify(-1.0) == 0.5  # one change: no stdev
    # Previous changes [1, -1]: sample stdev sqrt(2); sqrt(2) / sqrt(2) = 1 -> Phi(1).
    assert classifier.classify(math.sqrt(2.0)) == pytest.approx(0.8413447461)


def test_ecdf_is_the_mid_rank_among_past_values() -> None:
    ecdf = RollingEcdf(capacity=4)
    for value in (0.1, 0.2, 0.3, 0.4):
        ecdf.add(value)
    assert ecdf.cdf(0.3) == pytest.approx((2 + 0.5) / 4)
    assert ecdf.cdf(0.5) == 1.0
    ecdf.add(0.5)  # evicts 0.1
    assert ecdf.cdf(0.15) == 0.0


def test_vpin_on_a_known_bucket_series() -> None:
    """One unit per trade and bucket, so each bucket's open = close = its trade price.

    bucket 0 @ 100: dP = close - open = 0, no scale -> buy fraction 0.5, imbalance 0
    bucket 1 @ 101: dP = +1, one earlier change only -> 0.5, imbalance 0
    bucket 2 @ 100: dP = -1, sigma = stdev(0, 1) = 0.7071 -> z = -sqrt(2),
                    imbalance |2 Phi(z) - 1| = erf(1) = 0.8427008; VPIN(n=2) = (0 + 0.8427) / 2
    bucket 3 @ 102: dP = +2, sigma = stdev(1, -1) = sqrt(2) -> z = sqrt(2), imbalance erf(1);
                    VPIN = (0.8427 + 0.8427) / 2 = 0.8427008
    """
    calculator = VpinCalculator(
        VpinConfig(bucket_volume=1.0, window_buckets=2, sigma_window=2, min_history=0)
    )
    vpins = []
    for i, price in enumerate((100.0, 101.0, 100.0, 102.0)):
        calculator.on_trade(_trade(price, ts=T0 + i), now_ns=T0 + i)
        vpins.append(calculator.vpin(BTC))
    assert vpins[:2] == [None, 0.0]
    assert vpins[2] == pytest.approx(math.erf(1.0) / 2)
    assert vpins[3] == pytest.approx(math.erf(1.0))


def _calm_then_crash(
    calculator: VpinCalculator, crash_price: float
) -> list[ToxicityAlert | FlashCrashWarning]:
    """60 calm one-unit buckets, one a second, bouncing 99.99 / 100.01 around a 100.00 mid;
    then the mid drops to `crash_price` and a trade prints at its bid."""
    for i in range(60):
        ts = T0 + i * SECOND
        assert calculator.on_quote(_quote(99.99, 100.01, ts), ts) == []
        calculator.on_trade(_trade(99.99 if i % 2 else 100.01, ts=ts), ts)
    ts = T0 + 60 * SECOND
    calculator.on_quote(_quote(crash_price - 0.01, crash_price + 0.01, ts), ts)
    return calculator.on_trade(_trade(crash_price - 0.01, ts=ts), ts + 7)


def _config(**overrides: float) -> VpinConfig:
    base = {
        "bucket_volume": 1.0,
        "window_buckets": 1,
        "sigma_window": 50,
        "min_history": 20,
        "flash_window_ns": 10 * SECOND,
    }
    return VpinConfig(**(base | overrides))  # type: ignore[arg-type]


def test_toxicity_alert_when_vpin_tops_its_history() -> None:
    outputs = _calm_then_crash(VpinCalculator(_config()), crash_price=99.0)
    assert [type(o) for o in outputs] == [ToxicityAlert]
    alert = outputs[0]
    assert isinstance(alert, ToxicityAlert)
    assert alert.vpin_cdf == 1.0  # above every earlier VPIN
    assert alert.vpin > 0.99  # a -1.02 move against a ~0.02 scale is all selling
    assert alert.severity == common_pb2.SEVERITY_CRITICAL
    assert alert.bucket_index == 60
    assert alert.bucket_volume_e9 == E9
    assert alert.window_buckets == 1
    assert alert.threshold == 0.9
    assert (alert.ts_event, alert.ts_init) == (T0 + 60 * SECOND, T0 + 60 * SECOND + 7)


def test_alert_does_not_repeat_while_the_episode_lasts() -> None:
    calculator = VpinCalculator(_config())
    _calm_then_crash(calculator, crash_price=99.0)
    ts = T0 + 61 * SECOND
    # Still toxic (near the top of history), but the episode is already CRITICAL.
    assert calculator.on_trade(_trade(97.0, ts=ts), ts) == []
    assert calculator.vpin_cdf(BTC) is not None
    assert calculator.vpin_cdf(BTC) >= 0.9  # type: ignore[operator]


def test_flash_crash_warning_needs_toxicity_and_a_fall() -> None:
    outputs = _calm_then_crash(VpinCalculator(_config()), crash_price=97.0)
    assert [type(o).__name__ for o in outputs] == ["ToxicityAlert", "FlashCrashWarning"]
    warning = outputs[1]
    assert isinstance(warning, FlashCrashWarning)
    # Mid 100.00 at the start of the 10 s window, 97.00 now: a 300 bps fall.
    assert warning.price_drop_bps == pytest.approx(300.0)
    assert warning.reference_mid_price_e9 == 100 * E9
    assert warning.mid_price_e9 == 97 * E9
    assert warning.window_ns == 10 * SECOND
    assert warning.window_volume_e9 == 11 * E9  # trades at 50 s .. 60 s
    assert warning.severity == common_pb2.SEVERITY_WARNING  # below the 500 bps hard drop


def test_no_flash_crash_warning_for_a_small_fall() -> None:
    outputs = _calm_then_crash(VpinCalculator(_config()), crash_price=99.0)  # -100 bps
    assert not any(isinstance(o, FlashCrashWarning) for o in outputs)


def test_synthetic_flash_crash_is_detected_in_the_crash_window() -> None:
    config = scenario("flash-crash", seed=7, start_ns=T0, duration_ns=300 * SECOND)
    crash = config.flash_crash
    assert crash is not None
    calculator = VpinCalculator(VpinConfig(bucket_volume=2.0))
    warnings = []
    for ts, message in SyntheticMarket(config):
        if message.instrument_id != BTC:
            continue
        if isinstance(message, Quote):
            outputs = calculator.on_quote(message, ts)
        else:
            outputs = calculator.on_trade(message, ts)
        warnings += [o for o in outputs if isinstance(o, FlashCrashWarning)]
    assert warnings
    assert all(crash.start_ns <= w.ts_event <= crash.start_ns + crash.fall_ns for w in warnings)


def test_config_validates_threshold_order() -> None:
    with pytest.raises(ValueError, match="rearm_threshold <= alert_threshold"):
        VpinConfig(alert_threshold=0.9, rearm_threshold=0.95)
