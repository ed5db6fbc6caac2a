"""Factor: style factors per instrument, computed for the whole universe at fixed times.

Calculation times are the multiples of `interval_ns`. When the first event at or after the next
calculation time arrives (any instrument), or `flush` is called past it, each instrument's state
is sampled as of that time (its last mid, the interval's mean spread and traded notional) and
every instrument with at least `min_samples` samples gets, over the last `lookback_intervals`
intervals:

- `momentum`: log return of the sampled mid over the lookback;
- `volatility`: annualised root mean square of the sampled log returns;
- `liquidity`: minus the mean quoted spread in bps (higher is more liquid);
- `size`: log(1 + traded notional in the quote currency);

as raw values or, when `standardize` is on, as cross-sectional z-scores over those instruments
(population standard deviation; 0 when the universe has fewer than two members or no spread).
One `FactorValues` per instrument, all with the same `ts_event`, in instrument id order.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

from nautilus.common.v1.common_pb2 import NamedValue
from nautilus.factor.v1.factor_pb2 import FactorValues
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

__all__ = ["FACTOR_NAMES", "FactorCalculator", "FactorConfig", "zscores"]

#: The factors of factor set version 1, in message order.
FACTOR_NAMES = ("momentum", "volatility", "liquidity", "size")

_NS_PER_YEAR = 365 * 24 * 3600 * 1_000_000_000


def zscores(values: list[float]) -> list[float]:
    """Cross-sectional z-scores with the population standard deviation; all 0 when there are
    fewer than two values or they are all equal."""
    n = len(values)
    if n < 2:
        return [0.0] * n
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    if std == 0:
        return [0.0] * n
    return [(v - mean) / std for v in values]


@dataclass(frozen=True, slots=True)
class FactorConfig:
    """Calculation period, lookback (in periods), minimum history to enter the universe,
    standardisation and the version stamped on every message."""

    interval_ns: int = 60_000_000_000
    lookback_intervals: int = 30
    min_samples: int = 5
    standardize: bool = True
    factor_set_version: int = 1

    def __post_init__(self) -> None:
        if self.interval_ns <= 0 or self.lookback_intervals < 1:
            raise ValueError("need interval_ns > 0 and lookback_intervals >= 1")
        if not 2 <= self.min_samples <= self.lookback_intervals + 1:
            raise ValueError("need 2 <= min_samples <= lookback_intervals + 1")
        if self.factor_set_version < 1:
            raise ValueError("factor_set_version must be >= 1")


class _Instrument:
    def __init__(self, lookback: int) -> None:
        self.mid = 0.0
        self.spread_bps = 0.0
        self.spread_sum = 0.0
        self.spread_count = 0
        self.notional = 0.0
        self.mids: deque[float] = deque(maxlen=lookback + 1)
        self.spreads: deque[float] = deque(maxlen=lookback)
        self.notionals: deque[float] = deque(maxlen=lookback)

    def sample(self) -> None:
        self.mids.append(self.mid)
        self.spreads.append(
            self.spread_sum / self.spread_count if self.spread_count else self.spread_bps
        )
        self.notionals.append(self.notional)
        self.spread_sum, self.spread_count, self.notional = 0.0, 0, 0.0


class FactorCalculator:
    """Samples quotes and trades, and publishes a factor cross-section every `interval_ns`."""

    def __init__(self, config: FactorConfig | None = None) -> None:
        self.config = config or FactorConfig()
        self._instruments: dict[str, _Instrument] = {}
        self._next_ns: int | None = None

    @property
    def lookback_ns(self) -> int:
        """The lookback every factor is computed over."""
        return self.config.interval_ns * self.config.lookback_intervals

    def on_quote(self, quote: Quote, now_ns: int) -> list[FactorValues]:
        """Publishes a due cross-section, then records the quote."""
        outputs = self.flush(quote.ts_event, now_ns)
        state = self._state(quote.instrument_id)
        bid, ask = quote.bid_price_e9, quote.ask_price_e9
        state.mid = (bid + ask) / 2e9
        state.spread_bps = (ask - bid) / ((bid + ask) / 2) * 1e4
        state.spread_sum += state.spread_bps
        state.spread_count += 1
        return outputs

    def on_trade(self, trade: Trade, now_ns: int) -> list[FactorValues]:
        """Publishes a due cross-section, then records the trade's notional."""
        outputs = self.flush(trade.ts_event, now_ns)
        self._state(trade.instrument_id).notional += (trade.price_e9 / 1e9) * (trade.size_e9 / 1e9)
        return outputs

    def flush(self, ts_ns: int, now_ns: int) -> list[FactorValues]:
        """Publishes the cross-section of the latest calculation time <= `ts_ns`, if one is due
        (missed calculation times in between are skipped, not back-filled)."""
        interval = self.config.interval_ns
        aligned = ts_ns - ts_ns % interval
        if self._next_ns is None:
            self._next_ns = aligned + interval
            return []
        if ts_ns < self._next_ns:
            return []
        self._next_ns = aligned + interval
        return self._cross_section(aligned, now_ns)

    def _state(self, instrument_id: str) -> _Instrument:
        state = self._instruments.get(instrument_id)
        if state is None:
            state = self._instruments[instrument_id] = _Instrument(self.config.lookback_intervals)
        return state

    def _cross_section(self, ts_ns: int, now_ns: int) -> list[FactorValues]:
        raw: dict[str, list[float]] = {}
        for instrument_id in sorted(self._instruments):
            state = self._instruments[instrument_id]
            if state.mid <= 0:
                continue
            state.sample()
            if len(state.mids) >= self.config.min_samples:
                raw[instrument_id] = self._raw_factors(state)
        ids = list(raw)
        columns = [[raw[i][k] for i in ids] for k in range(len(FACTOR_NAMES))]
        if self.config.standardize:
            columns = [zscores(column) for column in columns]
        return [
            FactorValues(
                instrument_id=instrument_id,
                factors=[
                    NamedValue(name=name, value=columns[k][row])
                    for k, name in enumerate(FACTOR_NAMES)
                ],
                standardized=self.config.standardize,
                factor_set_version=self.config.factor_set_version,
                universe_size=len(ids),
                lookback_ns=self.lookback_ns,
                ts_event=ts_ns,
                ts_init=now_ns,
            )
            for row, instrument_id in enumerate(ids)
        ]

    def _raw_factors(self, state: _Instrument) -> list[float]:
        mids = list(state.mids)
        returns = [math.log(b / a) for a, b in itertools.pairwise(mids)]
        mean_square = sum(r * r for r in returns) / len(returns)
        periods_per_year = _NS_PER_YEAR / self.config.interval_ns
        return [
            math.log(mids[-1] / mids[0]),
            math.sqrt(mean_square * periods_per_year),
            -sum(state.spreads) / len(state.spreads),
            math.log1p(sum(state.notionals)),
        ]
