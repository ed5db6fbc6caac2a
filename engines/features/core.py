"""Features: per-instrument feature vectors on a fixed time grid.

Each instrument's time is cut into intervals `[k * interval_ns, (k + 1) * interval_ns)`. An
interval is closed, and its `FeatureVector` returned, when the first event at or after its end
arrives for that instrument, or when `flush` is called with a later time (a timer). Intervals
without events are still published (returns 0, the spread carried forward), up to
`max_empty_intervals` in a row; longer gaps publish that many and jump. Nothing is published
before the instrument's first quote, since every feature needs a mid price.

Features, with the interval (`1s`) or the volatility window (`30s`) in the name:

- `log_return_1s`: log of the closing mid over the previous interval's closing mid;
- `realized_vol_30s`: square root of the sum of squared interval log returns over the window
  (not annualised);
- `spread_bps`: mean quoted spread of the interval's quotes in bps of their mid (the last
  quote's spread when there were none);
- `ofi_1s`: Cont et al. order-flow imbalance summed over the interval, instrument units;
- `trade_imbalance_1s`: (buy volume - sell volume) / volume, sides from the aggressor, or from
  the trade price against the mid when the venue does not say; 0 without trades.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from nautilus.common.v1 import common_pb2
from nautilus.common.v1.common_pb2 import NamedValue
from nautilus.engines.features.ofi import ofi_contribution
from nautilus.features.v1 import features_pb2
from nautilus.features.v1.features_pb2 import FeatureVector
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

__all__ = ["FeatureCalculator", "FeaturesConfig", "duration_label"]


def duration_label(ns: int) -> str:
    """A compact duration for feature names: `500ms`, `1s`, `90s`, `5m`, `1h`."""
    units = (("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000))
    for suffix, size in units:
        if ns % size == 0:
            return f"{ns // size}{suffix}"
    if ns % 1_000_000 == 0:
        return f"{ns // 1_000_000}ms"
    return f"{ns}ns"


@dataclass(frozen=True, slots=True)
class FeaturesConfig:
    """Interval length, volatility window (in intervals), gap policy and the version stamped on
    every vector (bump it when a definition changes)."""

    interval_ns: int = 1_000_000_000
    vol_window_intervals: int = 30
    max_empty_intervals: int = 60
    feature_set_version: int = 1

    def __post_init__(self) -> None:
        if self.interval_ns <= 0:
            raise ValueError("interval_ns must be > 0")
        if self.vol_window_intervals < 1 or self.max_empty_intervals < 0:
            raise ValueError("vol_window_intervals >= 1 and max_empty_intervals >= 0 required")
        if self.feature_set_version < 1:
            raise ValueError("feature_set_version must be >= 1")

    def feature_names(self) -> tuple[str, ...]:
        """The feature names, in the order every vector carries them."""
        interval = duration_label(self.interval_ns)
        window = duration_label(self.interval_ns * self.vol_window_intervals)
        return (
            f"log_return_{interval}",
            f"realized_vol_{window}",
            "spread_bps",
            f"ofi_{interval}",
            f"trade_imbalance_{interval}",
        )


class _Instrument:
    def __init__(self, vol_window: int) -> None:
        self.interval_start: int | None = None
        self.bucket_index = 0
        self.last_quote: Quote | None = None
        self.last_close_mid: float | None = None
        self.returns: deque[float] = deque(maxlen=vol_window)
        self.reset_interval()

    def reset_interval(self) -> None:
        self.ofi = 0.0
        self.spread_sum = 0.0
        self.spread_count = 0
        self.buy_e9 = 0
        self.sell_e9 = 0
        self.volume_e9 = 0
        self.trade_count = 0


def _mid(quote: Quote) -> float:
    return (quote.bid_price_e9 + quote.ask_price_e9) / 2e9


def _spread_bps(quote: Quote) -> float:
    mid = (quote.bid_price_e9 + quote.ask_price_e9) / 2
    return (quote.ask_price_e9 - quote.bid_price_e9) / mid * 1e4 if mid > 0 else 0.0


class FeatureCalculator:
    """Turns quotes and trades into `FeatureVector`s, one per instrument per interval."""

    def __init__(self, config: FeaturesConfig | None = None) -> None:
        self.config = config or FeaturesConfig()
        self._names = self.config.feature_names()
        self._instruments: dict[str, _Instrument] = {}

    def on_quote(self, quote: Quote, now_ns: int) -> list[FeatureVector]:
        """Closes due intervals, then adds the quote to the open one."""
        state, closed = self._advance(quote.instrument_id, quote.ts_event, now_ns)
        if state.last_quote is not None:
            state.ofi += ofi_contribution(state.last_quote, quote)
        state.spread_sum += _spread_bps(quote)
        state.spread_count += 1
        state.last_quote = quote
        return closed

    def on_trade(self, trade: Trade, now_ns: int) -> list[FeatureVector]:
        """Closes due intervals, then adds the trade to the open one."""
        state, closed = self._advance(trade.instrument_id, trade.ts_event, now_ns)
        state.volume_e9 += trade.size_e9
        state.trade_count += 1
        side = trade.aggressor_side
        if side == common_pb2.ORDER_SIDE_UNSPECIFIED and state.last_quote is not None:
            mid_e9 = (state.last_quote.bid_price_e9 + state.last_quote.ask_price_e9) / 2
            if trade.price_e9 > mid_e9:
                side = common_pb2.ORDER_SIDE_BUY
            elif trade.price_e9 < mid_e9:
                side = common_pb2.ORDER_SIDE_SELL
        if side == common_pb2.ORDER_SIDE_BUY:
            state.buy_e9 += trade.size_e9
        elif side == common_pb2.ORDER_SIDE_SELL:
            state.sell_e9 += trade.size_e9
        return closed

    def flush(self, ts_ns: int, now_ns: int) -> list[FeatureVector]:
        """Closes every interval that ended at or before `ts_ns` (timer-driven publishing), in
        instrument id order."""
        closed: list[FeatureVector] = []
        for instrument_id in sorted(self._instruments):
            closed.extend(self._advance(instrument_id, ts_ns, now_ns)[1])
        return closed

    def _advance(
        self, instrument_id: str, ts_ns: int, now_ns: int
    ) -> tuple[_Instrument, list[FeatureVector]]:
        interval = self.config.interval_ns
        state = self._instruments.get(instrument_id)
        if state is None:
            state = self._instruments[instrument_id] = _Instrument(self.config.vol_window_intervals)
        aligned = ts_ns - ts_ns % interval
        if state.interval_start is None:
            state.interval_start = aligned
        closed: list[FeatureVector] = []
        empties = 0
        while state.interval_start < aligned:
            if empties > self.config.max_empty_intervals:
                state.interval_start = aligned
                break
            vector = self._close(instrument_id, state, now_ns)
            if vector is not None:
                closed.append(vector)
            empties += 1
            state.interval_start += interval
        return state, closed

    def _close(self, instrument_id: str, state: _Instrument, now_ns: int) -> FeatureVector | None:
        quote = state.last_quote
        start = state.interval_start
        assert start is not None
        if quote is None:
            state.reset_interval()
            return None
        mid = _mid(quote)
        log_return = math.log(mid / state.last_close_mid) if state.last_close_mid else 0.0
        state.last_close_mid = mid
        state.returns.append(log_return)
        spread = state.spread_sum / state.spread_count if state.spread_count else _spread_bps(quote)
        traded = state.buy_e9 + state.sell_e9
        imbalance = (state.buy_e9 - state.sell_e9) / traded if traded else 0.0
        values = (
            log_return,
            math.sqrt(sum(r * r for r in state.returns)),
            spread,
            state.ofi,
            imbalance,
        )
        vector = FeatureVector(
            instrument_id=instrument_id,
            features=[
                NamedValue(name=n, value=v) for n, v in zip(self._names, values, strict=True)
            ],
            feature_set_version=self.config.feature_set_version,
            bucket_kind=features_pb2.BUCKET_KIND_TIME,
            bucket_index=state.bucket_index,
            bucket_volume_e9=state.volume_e9,
            bucket_trade_count=state.trade_count,
            mid_price_e9=(quote.bid_price_e9 + quote.ask_price_e9 + 1) // 2,
            ts_bucket_start=start,
            ts_event=start + self.config.interval_ns,
            ts_init=now_ns,
        )
        state.bucket_index += 1
        state.reset_interval()
        return vector
