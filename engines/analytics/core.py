"""Analytics: per-instrument volatility regime and trend, sampled on a fixed time grid.

Each instrument's mid is sampled at the close of every `interval_ns` interval (the last mid
before the boundary). At each close the analyzer computes

- realised volatility: root mean square of the last `vol_window_intervals` interval log returns,
  annualised (x sqrt(intervals per year));
- its percentile: the mid-rank among the instrument's earlier realised-vol values (up to
  `vol_history`; ties count half), mapped to a regime by the schema's 25/75/95 cut-offs; UNSPECIFIED
  until `min_vol_history` values exist;
- the trend (see `trend.py`) over the last `trend_lookback_intervals` samples;

and returns a `MarketAnalysis`, plus a `TrendUpdate` when the direction changed or the strength
moved by `trend_strength_step` or more. Intervals close when the instrument's next quote at or
after the boundary arrives, or on `flush` (timer). Toxicity alerts and flash-crash warnings are
recorded as episodes (`toxicity_episodes`).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

from nautilus.analytics.v1 import analytics_pb2
from nautilus.analytics.v1.analytics_pb2 import MarketAnalysis, TrendUpdate
from nautilus.engines.analytics.episodes import ToxicityEpisode, ToxicityEpisodeLog
from nautilus.engines.analytics.trend import Ema, fit_line
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

__all__ = ["AnalyticsConfig", "AnalyticsOutput", "MarketAnalyzer", "volatility_regime"]

AnalyticsOutput = MarketAnalysis | TrendUpdate

_NS_PER_YEAR = 365 * 24 * 3600 * 1_000_000_000


def volatility_regime(percentile: float) -> analytics_pb2.VolatilityRegime.ValueType:
    """The schema's regime for a realised-vol percentile in [0, 1]."""
    if percentile < 0.25:
        return analytics_pb2.VOLATILITY_REGIME_LOW
    if percentile <= 0.75:
        return analytics_pb2.VOLATILITY_REGIME_NORMAL
    if percentile <= 0.95:
        return analytics_pb2.VOLATILITY_REGIME_HIGH
    return analytics_pb2.VOLATILITY_REGIME_EXTREME


@dataclass(frozen=True, slots=True)
class AnalyticsConfig:
    """Sampling grid, windows (in intervals), EMA spans, the EMA separation needed for a trend
    (`trend_band_bps`) and how long a quiet spell ends a toxicity episode."""

    interval_ns: int = 1_000_000_000
    vol_window_intervals: int = 60
    vol_history: int = 10_000
    min_vol_history: int = 30
    trend_lookback_intervals: int = 120
    ema_fast_span: int = 12
    ema_slow_span: int = 48
    trend_band_bps: float = 1.0
    trend_strength_step: float = 0.2
    episode_gap_ns: int = 300_000_000_000

    def __post_init__(self) -> None:
        if self.interval_ns <= 0 or self.episode_gap_ns <= 0:
            raise ValueError("interval_ns and episode_gap_ns must be > 0")
        if self.vol_window_intervals < 1 or self.trend_lookback_intervals < 3:
            raise ValueError("need vol_window_intervals >= 1 and trend_lookback_intervals >= 3")
        if not 1 <= self.min_vol_history <= self.vol_history:
            raise ValueError("need 1 <= min_vol_history <= vol_history")
        if not 1 <= self.ema_fast_span < self.ema_slow_span:
            raise ValueError("need 1 <= ema_fast_span < ema_slow_span")
        if self.trend_band_bps < 0 or not 0 < self.trend_strength_step <= 1:
            raise ValueError("need trend_band_bps >= 0 and 0 < trend_strength_step <= 1")


class _Instrument:
    def __init__(self, config: AnalyticsConfig) -> None:
        self.interval_start: int | None = None
        self.mid_e9 = 0
        self.samples: deque[tuple[int, float]] = deque(maxlen=config.trend_lookback_intervals)
        self.returns: deque[float] = deque(maxlen=config.vol_window_intervals)
        self.fast = Ema(config.ema_fast_span)
        self.slow = Ema(config.ema_slow_span)
        self.vol_order: deque[float] = deque()
        self.vol_sorted: list[float] = []
        self.spreads: deque[tuple[int, float]] = deque()
        self.volumes: deque[tuple[int, int]] = deque()
        self.direction = analytics_pb2.TREND_DIRECTION_UNSPECIFIED
        self.strength = 0.0


@dataclass(frozen=True, slots=True)
class _Trend:
    direction: analytics_pb2.TrendDirection.ValueType
    strength: float
    slope_bps: float
    r_squared: float


class MarketAnalyzer:
    """Regime and trend per instrument from quotes and trades; records toxicity episodes."""

    def __init__(self, config: AnalyticsConfig | None = None) -> None:
        self.config = config or AnalyticsConfig()
        self._instruments: dict[str, _Instrument] = {}
        self._episodes = ToxicityEpisodeLog(self.config.episode_gap_ns)

    @property
    def window_ns(self) -> int:
        """Length of the volatility, spread and volume window."""
        return self.config.interval_ns * self.config.vol_window_intervals

    @property
    def lookback_ns(self) -> int:
        """Length of the trend lookback."""
        return self.config.interval_ns * self.config.trend_lookback_intervals

    def on_quote(self, quote: Quote, now_ns: int) -> list[AnalyticsOutput]:
        """Closes the open interval if the quote is past it, then records the quote."""
        state = self._state(quote.instrument_id)
        outputs = self._advance(quote.instrument_id, state, quote.ts_event, now_ns)
        bid, ask = quote.bid_price_e9, quote.ask_price_e9
        state.mid_e9 = (bid + ask + 1) // 2
        state.spreads.append((quote.ts_event, (ask - bid) / ((bid + ask) / 2) * 1e4))
        self._prune(state, quote.ts_event)
        return outputs

    def on_trade(self, trade: Trade, now_ns: int) -> list[AnalyticsOutput]:
        """Counts the trade's volume; may close the open interval."""
        state = self._state(trade.instrument_id)
        outputs = self._advance(trade.instrument_id, state, trade.ts_event, now_ns)
        state.volumes.append((trade.ts_event, trade.size_e9))
        self._prune(state, trade.ts_event)
        return outputs

    def flush(self, ts_ns: int, now_ns: int) -> list[AnalyticsOutput]:
        """Closes every interval that ended at or before `ts_ns`, in instrument id order."""
        outputs: list[AnalyticsOutput] = []
        for instrument_id in sorted(self._instruments):
            outputs.extend(
                self._advance(instrument_id, self._instruments[instrument_id], ts_ns, now_ns)
            )
        return outputs

    def on_toxicity_alert(self, alert: ToxicityAlert) -> ToxicityEpisode:
        """Records the alert in its instrument's current (or a new) episode."""
        return self._episodes.record(
            alert.instrument_id, alert.ts_event, alert.vpin, alert.vpin_cdf
        )

    def on_flash_crash_warning(self, warning: FlashCrashWarning) -> ToxicityEpisode:
        """Records the warning in its instrument's current (or a new) episode."""
        return self._episodes.record(
            warning.instrument_id,
            warning.ts_event,
            warning.vpin,
            warning.vpin_cdf,
            flash_drop_bps=warning.price_drop_bps,
        )

    def toxicity_episodes(self, instrument_id: str) -> tuple[ToxicityEpisode, ...]:
        """The instrument's toxicity episodes, oldest first."""
        return self._episodes.episodes(instrument_id)

    def _state(self, instrument_id: str) -> _Instrument:
        state = self._instruments.get(instrument_id)
        if state is None:
            state = self._instruments[instrument_id] = _Instrument(self.config)
        return state

    def _prune(self, state: _Instrument, ts_ns: int) -> None:
        horizon = ts_ns - self.window_ns
        while state.spreads and state.spreads[0][0] < horizon:
            state.spreads.popleft()
        while state.volumes and state.volumes[0][0] < horizon:
            state.volumes.popleft()

    def _advance(
        self, instrument_id: str, state: _Instrument, ts_ns: int, now_ns: int
    ) -> list[AnalyticsOutput]:
        interval = self.config.interval_ns
        aligned = ts_ns - ts_ns % interval
        if state.interval_start is None:
            state.interval_start = aligned
        if aligned <= state.interval_start:
            return []
        end = state.interval_start + interval
        state.interval_start = aligned
        if state.mid_e9 <= 0:
            return []
        return self._close(instrument_id, state, end, now_ns)

    def _close(
        self, instrument_id: str, state: _Instrument, end_ns: int, now_ns: int
    ) -> list[AnalyticsOutput]:
        log_mid = math.log(state.mid_e9 / 1e9)
        if state.samples:
            state.returns.append(log_mid - state.samples[-1][1])
        state.samples.append((end_ns, log_mid))
        state.fast.update(state.mid_e9 / 1e9)
        state.slow.update(state.mid_e9 / 1e9)
        realized_vol = self._realized_vol(state)
        percentile = self._rank(state, realized_vol)
        enough = len(state.vol_sorted) > self.config.min_vol_history
        regime = (
            volatility_regime(percentile) if enough else analytics_pb2.VOLATILITY_REGIME_UNSPECIFIED
        )
        trend = self._trend(state)
        spreads = [bps for _, bps in state.spreads]
        outputs: list[AnalyticsOutput] = [
            MarketAnalysis(
                instrument_id=instrument_id,
                volatility_regime=regime,
                realized_vol=realized_vol,
                realized_vol_percentile=percentile if enough else 0.5,
                trend_direction=trend.direction,
                trend_strength=trend.strength,
                mean_spread_bps=sum(spreads) / len(spreads) if spreads else 0.0,
                volume_e9=sum(size for _, size in state.volumes),
                mid_price_e9=state.mid_e9,
                window_ns=self.window_ns,
                ts_event=end_ns,
                ts_init=now_ns,
            )
        ]
        changed = trend.direction != state.direction
        if changed or abs(trend.strength - state.strength) >= self.config.trend_strength_step:
            outputs.append(
                TrendUpdate(
                    instrument_id=instrument_id,
                    direction=trend.direction,
                    previous_direction=state.direction,
                    strength=trend.strength,
                    slope_bps=trend.slope_bps,
                    r_squared=trend.r_squared,
                    lookback_ns=self.lookback_ns,
                    mid_price_e9=state.mid_e9,
                    ts_event=end_ns,
                    ts_init=now_ns,
                )
            )
            state.direction, state.strength = trend.direction, trend.strength
        return outputs

    def _realized_vol(self, state: _Instrument) -> float:
        if not state.returns:
            return 0.0
        mean_square = sum(r * r for r in state.returns) / len(state.returns)
        return math.sqrt(mean_square * _NS_PER_YEAR / self.config.interval_ns)

    def _rank(self, state: _Instrument, value: float) -> float:
        """Mid-rank of `value` among earlier values (ties count half), then remembers `value`
        (bounded history)."""
        history = state.vol_sorted
        below = bisect.bisect_left(history, value)
        equal = bisect.bisect_right(history, value) - below
        rank = (below + 0.5 * equal) / len(history) if history else 0.5
        if len(state.vol_order) == self.config.vol_history:
            oldest = state.vol_order.popleft()
            del history[bisect.bisect_left(history, oldest)]
        state.vol_order.append(value)
        bisect.insort(history, value)
        return rank

    def _trend(self, state: _Instrument) -> _Trend:
        sideways = analytics_pb2.TREND_DIRECTION_SIDEWAYS
        if len(state.samples) < 3 or state.fast.value is None or state.slow.value is None:
            return _Trend(sideways, 0.0, 0.0, 0.0)
        origin = state.samples[0][0]
        fit = fit_line([((ts - origin) / 1e9, y) for ts, y in state.samples])
        slope_bps = fit.slope * self.lookback_ns / 1e9 * 1e4
        separation_bps = (state.fast.value / state.slow.value - 1.0) * 1e4
        band = self.config.trend_band_bps
        if separation_bps > band and fit.slope > 0:
            direction = analytics_pb2.TREND_DIRECTION_UP
        elif separation_bps < -band and fit.slope < 0:
            direction = analytics_pb2.TREND_DIRECTION_DOWN
        else:
            return _Trend(sideways, 0.0, slope_bps, fit.r_squared)
        return _Trend(direction, fit.r_squared, slope_bps, fit.r_squared)
