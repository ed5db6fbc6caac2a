"""Analytics: trend fits, volatility regimes, toxicity episodes."""

from __future__ import annotations

import math

import pytest

from nautilus.analytics.v1 import analytics_pb2
from nautilus.analytics.v1.analytics_pb2 import MarketAnalysis, TrendUpdate
from nautilus.engines.analytics import AnalyticsConfig, MarketAnalyzer, fit_line, volatility_regime
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

T0 = 1_764_028_800_000_000_000
SECOND = 1_000_000_000
BTC = "BTCUSDT.BINANCE"


def _quote(mid: float, ts: int) -> Quote:
    """A quote 1 bp wide around `mid` (to 1e-9)."""
    return Quote(
        instrument_id=BTC,
        bid_price_e9=round(mid * (1 - 0.5e-4) * 1e9),
        ask_price_e9=round(mid * (1 + 0.5e-4) * 1e9),
        bid_size_e9=10**9,
        ask_size_e9=10**9,
        ts_event=ts,
        ts_init=ts,
    )


def _feed(analyzer: MarketAnalyzer, mids: list[float]) -> list[object]:
    outputs: list[object] = []
    for i, mid in enumerate(mids):
        outputs += analyzer.on_quote(_quote(mid, T0 + i * SECOND), T0 + i * SECOND + 1)
    return outputs


def test_fit_line_on_an_exact_line() -> None:
    fit = fit_line([(0.0, 2.0), (1.0, 2.5), (2.0, 3.0), (4.0, 4.0)])
    assert fit.slope == pytest.approx(0.5)
    assert fit.intercept == pytest.approx(2.0)
    assert fit.r_squared == pytest.approx(1.0)


def test_regime_cut_offs_follow_the_schema() -> None:
    assert volatility_regime(0.10) == analytics_pb2.VOLATILITY_REGIME_LOW
    assert volatility_regime(0.50) == analytics_pb2.VOLATILITY_REGIME_NORMAL
    assert volatility_regime(0.80) == analytics_pb2.VOLATILITY_REGIME_HIGH
    assert volatility_regime(0.97) == analytics_pb2.VOLATILITY_REGIME_EXTREME


def test_steady_rise_is_an_up_trend_of_full_strength() -> None:
    """Mid grows 1 bp a second, exactly exponentially: log mid is a line with slope 1e-4 per
    second, so R-squared is 1 and over a 10 s lookback the fitted change is 10 bps."""
    config = AnalyticsConfig(trend_lookback_intervals=10, ema_fast_span=2, ema_slow_span=5)
    outputs = _feed(MarketAnalyzer(config), [100 * math.exp(1e-4 * i) for i in range(30)])
    trends = [o for o in outputs if isinstance(o, TrendUpdate)]
    assert trends[0].direction == analytics_pb2.TREND_DIRECTION_SIDEWAYS
    assert trends[0].previous_direction == analytics_pb2.TREND_DIRECTION_UNSPECIFIED
    up = trends[1]
    assert (up.direction, up.previous_direction) == (
        analytics_pb2.TREND_DIRECTION_UP,
        analytics_pb2.TREND_DIRECTION_SIDEWAYS,
    )
    assert up.strength == pytest.approx(1.0, abs=1e-6)
    assert up.slope_bps == pytest.approx(10.0, rel=1e-3)
    assert up.lookback_ns == 10 * SECOND
    assert len(trends) == 2  # no update while the trend stays the same


def test_realised_vol_is_annualised_rms_of_interval_returns() -> None:
    """Log returns alternate +-1e-4 per 1 s interval: RMS 1e-4, annualised x sqrt(31,536,000)."""
    config = AnalyticsConfig(vol_window_intervals=4)
    mids = [100 * math.exp(1e-4 * (i % 2)) for i in range(7)]
    analyses = [o for o in _feed(MarketAnalyzer(config), mids) if isinstance(o, MarketAnalysis)]
    assert analyses[-1].realized_vol == pytest.approx(1e-4 * math.sqrt(31_536_000), rel=1e-4)
    assert analyses[-1].window_ns == 4 * SECOND
    assert analyses[-1].mean_spread_bps == pytest.approx(1.0, rel=1e-4)


def test_volatility_burst_is_an_extreme_regime() -> None:
    config = AnalyticsConfig(vol_window_intervals=2, min_vol_history=10)
    calm = [100 * math.exp(1e-5 * (i % 2)) for i in range(20)]
    burst = [calm[-1] * math.exp(0.01)]
    analyses = [
        o
        for o in _feed(MarketAnalyzer(config), [*calm, *burst, burst[0]])
        if isinstance(o, MarketAnalysis)
    ]
    assert analyses[5].volatility_regime == analytics_pb2.VOLATILITY_REGIME_UNSPECIFIED
    assert analyses[-1].volatility_regime == analytics_pb2.VOLATILITY_REGIME_EXTREME
    assert analyses[-1].realized_vol_percentile == 1.0


def _alert(ts: int, vpin: float) -> ToxicityAlert:
    return ToxicityAlert(instrument_id=BTC, vpin=vpin, vpin_cdf=0.95, ts_event=ts)


def test_toxicity_alerts_are_grouped_into_episodes() -> None:
    analyzer = MarketAnalyzer(AnalyticsConfig(episode_gap_ns=60 * SECOND))
    analyzer.on_toxicity_alert(_alert(T0, 0.6))
    analyzer.on_flash_crash_warning(
        FlashCrashWarning(
            instrument_id=BTC, price_drop_bps=320.0, vpin=0.8, vpin_cdf=0.99, ts_event=T0 + SECOND
        )
    )
    analyzer.on_toxicity_alert(_alert(T0 + 30 * SECOND, 0.7))
    analyzer.on_toxicity_alert(_alert(T0 + 200 * SECOND, 0.5))
    first, second = analyzer.toxicity_episodes(BTC)
    assert (first.start_ns, first.last_ns) == (T0, T0 + 30 * SECOND)
    assert (first.alerts, first.flash_crash_warnings) == (2, 1)
    assert (first.peak_vpin, first.peak_vpin_cdf, first.worst_drop_bps) == (0.8, 0.99, 320.0)
    assert (second.start_ns, second.alerts) == (T0 + 200 * SECOND, 1)
