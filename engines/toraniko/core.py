"""Toraniko: a cross-sectional factor model over the instrument universe.

Inputs are the Factor engine's cross-sections (`FactorValues` sharing a `ts_event`) and quotes.
A cross-section is complete when `universe_size` messages with its `ts_event` have arrived (or
when a later cross-section starts). Each complete cross-section after the first is one
estimation run over the period from the previous cross-section to this one:

1. exposures are those measured at the start of the period (no look-ahead): `market` = 1 and
   each style factor re-standardised to a z-score over the instruments in the run;
2. instrument returns are simple mid returns over the period, from the last quote at or before
   each cross-section time;
3. factor returns solve the least-squares regression of returns on exposures (a tiny ridge on
   the style factors keeps degenerate columns solvable);
4. the covariance is estimated over the last `covariance_window` runs' factor returns.

A run returns `FactorExposures`, `FactorReturns`, `FactorCovariance` sharing `estimation_id`
(from 1) and `ts_event` (the period end). Runs need more instruments than factors; with fewer,
or with fewer than two runs of history, see `ToranikoConfig`. The covariance has
`observations` < 2 (and is all zeros) until two runs exist.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from nautilus.common.v1.common_pb2 import NamedValue
from nautilus.engines.toraniko.covariance import weighted_covariance
from nautilus.engines.toraniko.regression import least_squares
from nautilus.factor.v1.factor_pb2 import FactorValues
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.toraniko.v1.toraniko_pb2 import (
    FactorCovariance,
    FactorExposures,
    FactorReturns,
    InstrumentExposure,
)

__all__ = ["MARKET_FACTOR", "FactorModel", "ToranikoConfig", "ToranikoOutput"]

ToranikoOutput = FactorExposures | FactorReturns | FactorCovariance

#: Name of the market factor, exposure 1 for every instrument.
MARKET_FACTOR = "market"


@dataclass(frozen=True, slots=True)
class ToranikoConfig:
    """`style_factors` fixes the style factors (empty: the names of the first cross-section,
    in order); `covariance_window` and `half_life_runs` (0: equal weights) shape the
    covariance; `ridge` is the style-factor penalty."""

    style_factors: tuple[str, ...] = ()
    covariance_window: int = 60
    half_life_runs: float = 0.0
    ridge: float = 1e-10

    def __post_init__(self) -> None:
        if len(set(self.style_factors)) != len(self.style_factors):
            raise ValueError("style_factors must be unique")
        if MARKET_FACTOR in self.style_factors:
            raise ValueError(f"{MARKET_FACTOR!r} is the market factor, not a style factor")
        if self.covariance_window < 2 or self.half_life_runs < 0 or self.ridge < 0:
            raise ValueError("need covariance_window >= 2, half_life_runs >= 0, ridge >= 0")


@dataclass(frozen=True, slots=True)
class _CrossSection:
    ts_ns: int
    lookback_ns: int
    styles: dict[str, list[float]]
    mids: dict[str, float]


class _Mids:
    """An instrument's mid prices in time order, for as-of lookups."""

    def __init__(self) -> None:
        self.times: list[int] = []
        self.values: list[float] = []

    def add(self, ts_ns: int, mid: float) -> None:
        if self.times and ts_ns < self.times[-1]:
            return  # out of order: the as-of view already has a later mid
        self.times.append(ts_ns)
        self.values.append(mid)

    def at(self, ts_ns: int) -> float | None:
        index = bisect.bisect_right(self.times, ts_ns) - 1
        return self.values[index] if index >= 0 else None

    def forget_before(self, ts_ns: int) -> None:
        """Drops mids no longer needed for lookups at or after `ts_ns`."""
        index = max(0, bisect.bisect_right(self.times, ts_ns) - 1)
        del self.times[:index], self.values[:index]


def _standardize(values: list[float]) -> list[float]:
    n = len(values)
    mean = sum(values) / n
    std = (sum((v - mean) ** 2 for v in values) / n) ** 0.5
    return [(v - mean) / std if std > 0 else 0.0 for v in values]


class FactorModel:
    """Runs the cross-sectional estimation as factor cross-sections complete."""

    def __init__(self, config: ToranikoConfig | None = None) -> None:
        self.config = config or ToranikoConfig()
        self._styles: tuple[str, ...] = self.config.style_factors
        self._mids: dict[str, _Mids] = {}
        self._pending: dict[str, FactorValues] = {}
        self._pending_ts: int | None = None
        self._previous: _CrossSection | None = None
        self._history: list[tuple[int, int, list[float]]] = []
        self._estimation_id = 0

    @property
    def factor_names(self) -> tuple[str, ...]:
        """`market` followed by the style factors."""
        return (MARKET_FACTOR, *self._styles)

    def on_quote(self, quote: Quote, now_ns: int) -> list[ToranikoOutput]:
        """Records the mid for return calculations (returns nothing, for a uniform API)."""
        mids = self._mids.setdefault(quote.instrument_id, _Mids())
        mids.add(quote.ts_event, (quote.bid_price_e9 + quote.ask_price_e9) / 2e9)
        return []

    def on_factor_values(self, values: FactorValues, now_ns: int) -> list[ToranikoOutput]:
        """Collects a cross-section; runs an estimation when one completes."""
        outputs: list[ToranikoOutput] = []
        if self._pending_ts is not None and values.ts_event != self._pending_ts:
            if values.ts_event < self._pending_ts:
                return []  # a straggler from a cross-section already estimated
            outputs.extend(self._complete(now_ns))
        if not self._styles:
            self._styles = tuple(f.name for f in values.factors)
        self._pending_ts = values.ts_event
        self._pending[values.instrument_id] = values
        if len(self._pending) >= max(1, values.universe_size):
            outputs.extend(self._complete(now_ns))
        return outputs

    def _complete(self, now_ns: int) -> list[ToranikoOutput]:
        assert self._pending_ts is not None
        section = self._cross_section(self._pending_ts)
        self._pending, self._pending_ts = {}, None
        previous, self._previous = self._previous, section
        for mids in self._mids.values():
            mids.forget_before(section.ts_ns)
        if previous is None:
            return []
        return self._estimate(previous, section, now_ns)

    def _cross_section(self, ts_ns: int) -> _CrossSection:
        """Exposures of the instruments that have all style factors and a mid, and the mids of
        every quoted instrument (a return needs no exposure at its end)."""
        mids: dict[str, float] = {}
        for instrument_id in sorted(self._mids):
            mid = self._mids[instrument_id].at(ts_ns)
            if mid is not None:
                mids[instrument_id] = mid
        styles: dict[str, list[float]] = {}
        lookback = 0
        for instrument_id in sorted(self._pending):
            message = self._pending[instrument_id]
            named = {f.name: f.value for f in message.factors}
            if instrument_id not in mids or any(name not in named for name in self._styles):
                continue
            styles[instrument_id] = [named[name] for name in self._styles]
            lookback = message.lookback_ns
        return _CrossSection(ts_ns, lookback, styles, mids)

    def _estimate(
        self, start: _CrossSection, end: _CrossSection, now_ns: int
    ) -> list[ToranikoOutput]:
        universe = [i for i in start.styles if i in end.mids and start.mids[i] > 0]
        k = len(self.factor_names)
        if len(universe) <= k:
            return []
        columns = [_standardize([start.styles[i][j] for i in universe]) for j in range(k - 1)]
        design = [[1.0, *(column[row] for column in columns)] for row in range(len(universe))]
        returns = [end.mids[i] / start.mids[i] - 1.0 for i in universe]
        fit = least_squares(design, returns, [0.0] + [self.config.ridge] * (k - 1))
        period = end.ts_ns - start.ts_ns
        self._history.append((end.ts_ns, period, fit.coefficients))
        del self._history[: -self.config.covariance_window]
        self._estimation_id += 1
        residual_std = (sum(e * e for e in fit.residuals) / len(universe)) ** 0.5
        names = list(self.factor_names)
        common = {"estimation_id": self._estimation_id, "ts_event": end.ts_ns, "ts_init": now_ns}
        exposures = FactorExposures(
            factor_names=names,
            instruments=[
                InstrumentExposure(instrument_id=i, exposures=design[row])
                for row, i in enumerate(universe)
            ],
            universe_size=len(universe),
            lookback_ns=start.lookback_ns,
            **common,
        )
        factor_returns = FactorReturns(
            factor_returns=[
                NamedValue(name=n, value=f) for n, f in zip(names, fit.coefficients, strict=True)
            ],
            return_period_ns=period,
            universe_size=len(universe),
            r_squared=fit.r_squared,
            residual_std=residual_std,
            **common,
        )
        return [exposures, factor_returns, self._covariance(names, period, len(universe), common)]

    def _covariance(
        self, names: list[str], period: int, universe: int, common: dict[str, int]
    ) -> FactorCovariance:
        observations = [coefficients for _, _, coefficients in self._history]
        matrix = weighted_covariance(observations, self.config.half_life_runs)
        first_ts, first_period, _ = self._history[0]
        return FactorCovariance(
            factor_names=names,
            covariance=[value for row in matrix for value in row],
            return_period_ns=period,
            estimation_window_ns=self._history[-1][0] - (first_ts - first_period),
            observations=len(observations),
            half_life_ns=round(self.config.half_life_runs * period),
            universe_size=universe,
            **common,
        )
