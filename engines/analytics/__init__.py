"""Analytics engine core: volatility regimes, trends and toxicity episodes per instrument."""

from nautilus.engines.analytics.core import (
    AnalyticsConfig,
    AnalyticsOutput,
    MarketAnalyzer,
    volatility_regime,
)
from nautilus.engines.analytics.episodes import ToxicityEpisode, ToxicityEpisodeLog
from nautilus.engines.analytics.trend import Ema, LineFit, fit_line

__all__ = [
    "AnalyticsConfig",
    "AnalyticsOutput",
    "Ema",
    "LineFit",
    "MarketAnalyzer",
    "ToxicityEpisode",
    "ToxicityEpisodeLog",
    "fit_line",
    "volatility_regime",
]
