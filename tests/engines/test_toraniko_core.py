"""Toraniko: cross-sectional regression and factor covariance."""

from __future__ import annotations

import pytest

from nautilus.common.v1.common_pb2 import NamedValue
from nautilus.engines.toraniko import FactorModel, least_squares, solve, weighted_covariance
from nautilus.factor.v1.factor_pb2 import FactorValues
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.toraniko.v1.toraniko_pb2 import FactorCovariance, FactorExposures, FactorReturns

T0 = 1_764_028_800_000_000_000
MINUTE = 60_000_000_000
IDS = ("A.X", "B.X", "C.X", "D.X")
MOMENTUM = (-1.0, -1.0, 1.0, 1.0)  # already z-scores: mean 0, population stdev 1


def _quote(instrument_id: str, mid: float, ts: int) -> Quote:
    return Quote(
        instrument_id=instrument_id,
        bid_price_e9=round(mid * 1e9),
        ask_price_e9=round(mid * 1e9),
        ts_event=ts,
    )


def _cross_section(model: FactorModel, ts: int, mids: tuple[float, ...]) -> list[object]:
    outputs: list[object] = []
    for instrument_id, mid in zip(IDS, mids, strict=True):
        model.on_quote(_quote(instrument_id, mid, ts - 1), ts)
    for instrument_id, exposure in zip(IDS, MOMENTUM, strict=True):
        message = FactorValues(
            instrument_id=instrument_id,
            factors=[NamedValue(name="momentum", value=exposure)],
            standardized=True,
            universe_size=len(IDS),
            lookback_ns=30 * MINUTE,
            ts_event=ts,
        )
        outputs += model.on_factor_values(message, ts + 5)
    return outputs


def test_solve_a_small_system() -> None:
    # 2x + y = 5, x + 3y = 10 -> x = 1, y = 3
    assert solve([[2.0, 1.0], [1.0, 3.0]], [5.0, 10.0]) == pytest.approx([1.0, 3.0])


def test_least_squares_r_squared_with_noise() -> None:
    # y = 1 + x with residuals +-0.5: SSR = 1, SST = 5 + 1 = 6 around mean 2.5... by hand below
    design = [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]]
    fit = least_squares(design, [1.5, 1.5, 3.5, 3.5], [0.0, 0.0])
    # slope = S_xy / S_xx = 4 / 5 = 0.8, intercept = 2.5 - 0.8 * 1.5 = 1.3
    assert fit.coefficients == pytest.approx([1.3, 0.8])
    # SST = 4 x 1 = 4, SSR = 4 - 0.8^2 x 5 = 0.8, R^2 = 0.8
    assert fit.r_squared == pytest.approx(0.8)


def test_factor_returns_recover_an_exact_model() -> None:
    """Returns r = 0.01 + 0.02 x momentum: -1% for A, B and +3% for C, D."""
    model = FactorModel()
    assert _cross_section(model, T0, (100.0, 100.0, 100.0, 100.0)) == []
    outputs = _cross_section(model, T0 + MINUTE, (99.0, 99.0, 103.0, 103.0))
    exposures, returns, covariance = outputs
    assert isinstance(exposures, FactorExposures)
    assert isinstance(returns, FactorReturns)
    assert isinstance(covariance, FactorCovariance)
    assert {exposures.estimation_id, returns.estimation_id, covariance.estimation_id} == {1}
    assert {exposures.ts_event, returns.ts_event, covariance.ts_event} == {T0 + MINUTE}
    assert list(exposures.factor_names) == ["market", "momentum"]
    assert [list(row.exposures) for row in exposures.instruments] == [
        [1.0, -1.0],
        [1.0, -1.0],
        [1.0, 1.0],
        [1.0, 1.0],
    ]
    assert exposures.lookback_ns == 30 * MINUTE
    factor_returns = {f.name: f.value for f in returns.factor_returns}
    assert factor_returns == pytest.approx({"market": 0.01, "momentum": 0.02}, abs=1e-9)
    assert returns.r_squared == pytest.approx(1.0)
    assert returns.residual_std == pytest.approx(0.0, abs=1e-9)
    assert (returns.return_period_ns, returns.universe_size) == (MINUTE, 4)
    assert covariance.observations == 1
    assert list(covariance.covariance) == [0.0, 0.0, 0.0, 0.0]


def test_covariance_of_factor_returns_over_runs() -> None:
    """Factor returns (market, momentum): (0.01, 0.02), (0.03, 0.00), (0.02, 0.01).
    Means (0.02, 0.01); deviations (-.01, .01), (.01, -.01), (0, 0); n - 1 = 2:
    var = 0.0002 / 2 = 0.0001 each, covariance = -0.0002 / 2 = -0.0001."""
    model = FactorModel()
    low = high = 100.0
    _cross_section(model, T0, (low, low, high, high))
    outputs: list[object] = []
    for step, (market, momentum) in enumerate(((0.01, 0.02), (0.03, 0.0), (0.02, 0.01)), 1):
        low *= 1 + market - momentum
        high *= 1 + market + momentum
        outputs = _cross_section(model, T0 + step * MINUTE, (low, low, high, high))
    covariance = outputs[2]
    assert isinstance(covariance, FactorCovariance)
    assert covariance.estimation_id == 3
    assert covariance.observations == 3
    assert list(covariance.covariance) == pytest.approx(
        [0.0001, -0.0001, -0.0001, 0.0001], abs=1e-9
    )
    assert covariance.estimation_window_ns == 3 * MINUTE
    assert covariance.half_life_ns == 0


def test_exponential_weights_favour_recent_observations() -> None:
    # Half-life of one run: weights 0.5, 1 for the two observations of one factor, 0 and 3.
    # Weighted mean 2; W = 1.5; sum w (x - mean)^2 = 0.5 x 4 + 1 x 1 = 3;
    # denominator W - sum(w^2) / W = 1.5 - 1.25 / 1.5 = 0.6667; variance 4.5.
    assert weighted_covariance([[0.0], [3.0]], half_life=1.0)[0] == pytest.approx([4.5])


def test_incomplete_cross_section_is_estimated_when_the_next_begins() -> None:
    model = FactorModel()
    _cross_section(model, T0, (100.0, 100.0, 100.0, 100.0))
    for instrument_id, mid in zip(IDS, (99.0, 99.0, 103.0, 103.0), strict=True):
        model.on_quote(_quote(instrument_id, mid, T0 + MINUTE - 1), T0)
    for instrument_id, exposure in zip(IDS[:3], MOMENTUM[:3], strict=True):  # D.X never arrives
        message = FactorValues(
            instrument_id=instrument_id,
            factors=[NamedValue(name="momentum", value=exposure)],
            universe_size=4,
            ts_event=T0 + MINUTE,
        )
        assert model.on_factor_values(message, T0) == []
    later = FactorValues(instrument_id="A.X", universe_size=4, ts_event=T0 + 2 * MINUTE)
    outputs = model.on_factor_values(later, T0)
    assert [type(o) for o in outputs] == [FactorExposures, FactorReturns, FactorCovariance]
    returns = outputs[1]
    assert isinstance(returns, FactorReturns)
    assert returns.universe_size == 4  # regression on the exposures measured at T0
