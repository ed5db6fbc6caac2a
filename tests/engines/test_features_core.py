"""Features: OFI, interval vectors, gap handling."""

from __future__ import annotations

import math

import pytest

from nautilus.common.v1 import common_pb2
from nautilus.engines.features import (
    FeatureCalculator,
    FeaturesConfig,
    duration_label,
    ofi_contribution,
)
from nautilus.features.v1 import features_pb2
from nautilus.features.v1.features_pb2 import FeatureVector
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

T0 = 1_764_028_800_000_000_000  # a whole second
MS = 1_000_000
SECOND = 1_000_000_000
E9 = 1_000_000_000
BTC = "BTCUSDT.BINANCE"


def _quote(bid: float, ask: float, ts: int, bid_size: float = 1.0, ask_size: float = 1.0) -> Quote:
    return Quote(
        instrument_id=BTC,
        bid_price_e9=round(bid * E9),
        ask_price_e9=round(ask * E9),
        bid_size_e9=round(bid_size * E9),
        ask_size_e9=round(ask_size * E9),
        ts_event=ts,
        ts_init=ts,
    )


def _trade(price: float, size: float, side: int, ts: int) -> Trade:
    return Trade(
        instrument_id=BTC,
        price_e9=round(price * E9),
        size_e9=round(size * E9),
        aggressor_side=side,  # type: ignore[arg-type]
        ts_event=ts,
        ts_init=ts,
    )


def _features(vector: FeatureVector) -> dict[str, float]:
    return {f.name: f.value for f in vector.features}


def test_ofi_contribution_by_hand() -> None:
    """Bid unchanged at 100 with size 2 -> 5: +5 - 2; ask improves 101 -> 100.5 (size 1): -1.
    OFI = 5 - 2 - 1 = 2."""
    previous = _quote(100.0, 101.0, 0, bid_size=2.0, ask_size=3.0)
    current = _quote(100.0, 100.5, 1, bid_size=5.0, ask_size=1.0)
    assert ofi_contribution(previous, current) == 2.0


def test_feature_names_carry_their_windows() -> None:
    assert FeaturesConfig().feature_names() == (
        "log_return_1s",
        "realized_vol_30s",
        "spread_bps",
        "ofi_1s",
        "trade_imbalance_1s",
    )
    assert duration_label(500 * MS) == "500ms"
    assert duration_label(300 * SECOND) == "5m"


def test_interval_close_publishes_the_features_by_hand() -> None:
    calculator = FeatureCalculator()
    assert calculator.on_quote(_quote(99.95, 100.05, T0 + 200 * MS), T0) == []
    calculator.on_trade(_trade(100.05, 3.0, common_pb2.ORDER_SIDE_BUY, T0 + 500 * MS), T0)
    calculator.on_trade(_trade(99.95, 1.0, common_pb2.ORDER_SIDE_SELL, T0 + 600 * MS), T0)
    closed = calculator.on_quote(_quote(100.95, 101.05, T0 + 1300 * MS), T0 + 1300 * MS + 5)
    assert len(closed) == 1
    vector = closed[0]
    assert _features(vector) == pytest.approx(
        {
            "log_return_1s": 0.0,  # first interval: no previous close
            "realized_vol_30s": 0.0,
            "spread_bps": 10.0,  # 0.10 / 100.00
            "ofi_1s": 0.0,  # a single quote
            "trade_imbalance_1s": 0.5,  # (3 - 1) / 4
        }
    )
    assert vector.bucket_kind == features_pb2.BUCKET_KIND_TIME
    assert (vector.bucket_index, vector.bucket_trade_count) == (0, 2)
    assert vector.bucket_volume_e9 == 4 * E9
    assert vector.mid_price_e9 == 100 * E9
    assert (vector.ts_bucket_start, vector.ts_event) == (T0, T0 + SECOND)
    assert vector.ts_init == T0 + 1300 * MS + 5
    assert vector.feature_set_version == 1


def test_second_interval_has_the_log_return_and_realised_vol() -> None:
    calculator = FeatureCalculator()
    calculator.on_quote(_quote(99.95, 100.05, T0 + 200 * MS), T0)
    calculator.on_quote(_quote(100.95, 101.05, T0 + 1300 * MS), T0)
    (vector,) = calculator.flush(T0 + 2 * SECOND, T0)
    features = _features(vector)
    assert features["log_return_1s"] == pytest.approx(math.log(101 / 100))
    assert features["realized_vol_30s"] == pytest.approx(math.log(101 / 100))
    assert vector.bucket_index == 1


def test_empty_intervals_are_published_with_zero_returns() -> None:
    calculator = FeatureCalculator()
    calculator.on_quote(_quote(99.95, 100.05, T0), T0)
    closed = calculator.flush(T0 + 3 * SECOND, T0)
    assert [v.bucket_index for v in closed] == [0, 1, 2]
    assert [_features(v)["log_return_1s"] for v in closed] == [0.0, 0.0, 0.0]
    assert [v.ts_bucket_start - T0 for v in closed] == [0, SECOND, 2 * SECOND]


def test_trade_without_side_is_classified_against_the_mid() -> None:
    calculator = FeatureCalculator()
    calculator.on_quote(_quote(99.95, 100.05, T0), T0)
    calculator.on_trade(_trade(100.05, 1.0, common_pb2.ORDER_SIDE_UNSPECIFIED, T0 + 1), T0)
    (vector,) = calculator.flush(T0 + SECOND, T0)
    assert _features(vector)["trade_imbalance_1s"] == 1.0


def test_nothing_is_published_before_the_first_quote() -> None:
    calculator = FeatureCalculator()
    calculator.on_trade(_trade(100.0, 1.0, common_pb2.ORDER_SIDE_BUY, T0), T0)
    assert calculator.flush(T0 + 5 * SECOND, T0) == []
