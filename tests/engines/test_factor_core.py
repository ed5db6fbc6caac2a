"""Factor: raw factors on a known path, cross-sectional z-scores."""

from __future__ import annotations

import math

import pytest

from nautilus.common.v1 import common_pb2
from nautilus.engines.factor import FACTOR_NAMES, FactorCalculator, FactorConfig, zscores
from nautilus.factor.v1.factor_pb2 import FactorValues
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

T0 = 1_764_028_800_000_000_000
SECOND = 1_000_000_000
MS = 1_000_000


def _quote(instrument_id: str, mid: float, ts: int) -> Quote:
    """A quote exactly 2 bps wide around `mid`."""
    return Quote(
        instrument_id=instrument_id,
        bid_price_e9=round(mid * (1 - 1e-4) * 1e9),
        ask_price_e9=round(mid * (1 + 1e-4) * 1e9),
        bid_size_e9=10**9,
        ask_size_e9=10**9,
        ts_event=ts,
        ts_init=ts,
    )


def _values(message: FactorValues) -> dict[str, float]:
    return {f.name: f.value for f in message.factors}


def test_zscores_by_hand() -> None:
    # mean 2, population stdev sqrt(2/3) = 0.8165
    assert zscores([1.0, 2.0, 3.0]) == pytest.approx([-1.2247449, 0.0, 1.2247449])
    assert zscores([5.0, 5.0]) == [0.0, 0.0]
    assert zscores([1.0]) == [0.0]


def test_raw_factors_on_a_known_path() -> None:
    """Mids sampled at the 1 s boundaries: 100, 110, 121 (two +10% steps).
    momentum = ln(1.21); volatility = ln(1.1) x sqrt(periods per year); liquidity = -2 bps;
    size = ln(1 + 100 x 2) from one trade of 2 units at 100 inside the lookback."""
    calculator = FactorCalculator(
        FactorConfig(interval_ns=SECOND, lookback_intervals=2, min_samples=3, standardize=False)
    )
    btc = "BTCUSDT.BINANCE"
    outputs: list[FactorValues] = []
    calculator.on_quote(_quote(btc, 100.0, T0 + 500 * MS), T0)
    outputs += calculator.on_quote(_quote(btc, 110.0, T0 + 1500 * MS), T0)
    calculator.on_trade(
        Trade(
            instrument_id=btc,
            price_e9=100 * 10**9,
            size_e9=2 * 10**9,
            aggressor_side=common_pb2.ORDER_SIDE_BUY,
            ts_event=T0 + 1600 * MS,
        ),
        T0,
    )
    outputs += calculator.on_quote(_quote(btc, 121.0, T0 + 2500 * MS), T0)
    assert outputs == []  # two samples: not enough history yet
    outputs += calculator.on_quote(_quote(btc, 121.0, T0 + 3500 * MS), T0 + 3500 * MS + 1)
    (message,) = outputs
    assert [f.name for f in message.factors] == list(FACTOR_NAMES)
    assert _values(message) == pytest.approx(
        {
            "momentum": math.log(1.21),
            "volatility": math.log(1.1) * math.sqrt(31_536_000),
            "liquidity": -2.0,
            "size": math.log1p(200.0),
        },
        rel=1e-6,
    )
    assert not message.standardized
    assert (message.universe_size, message.lookback_ns) == (1, 2 * SECOND)
    assert (message.ts_event, message.ts_init) == (T0 + 3 * SECOND, T0 + 3500 * MS + 1)


def test_standardised_cross_section_shares_one_timestamp() -> None:
    calculator = FactorCalculator(
        FactorConfig(interval_ns=SECOND, lookback_intervals=1, min_samples=2)
    )
    paths = {"A.X": (100.0, 101.0), "B.X": (100.0, 102.0), "C.X": (100.0, 103.0)}
    outputs: list[FactorValues] = []
    for step in range(3):
        for instrument_id, path in sorted(paths.items()):
            mid = path[min(step, 1)]
            outputs += calculator.on_quote(_quote(instrument_id, mid, T0 + step * SECOND + 1), T0)
    # the cross-section at 2 s uses the samples at 1 s (100) and 2 s (101 / 102 / 103)
    assert [m.instrument_id for m in outputs] == ["A.X", "B.X", "C.X"]
    assert {m.ts_event for m in outputs} == {T0 + 2 * SECOND}
    momentum = [_values(m)["momentum"] for m in outputs]
    raw = [math.log(1.01), math.log(1.02), math.log(1.03)]
    assert momentum == pytest.approx(zscores(raw))
    assert all(m.standardized and m.universe_size == 3 for m in outputs)
