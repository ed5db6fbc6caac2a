"""The Analytics engine on its generated client: market data in, volatility regime and trend out;
toxicity alerts and flash-crash warnings recorded as episodes.

Intervals close on the instrument's next quote or on the one-second market-time timer. The other
routed inputs (features, predictions, factor values and model, positions and PnL) are consumed
for the record; this analyzer's computation uses market data and alerts.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from nautilus.analytics.v1.analytics_pb2 import MarketAnalysis, TrendUpdate
from nautilus.clients.analytics import AnalyticsClient
from nautilus.engines.analytics.core import AnalyticsConfig, MarketAnalyzer
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

__all__ = ["AnalyticsService", "analytics_config"]


def analytics_config(settings: RunSettings) -> AnalyticsConfig:
    """One-second sampling, a one-minute volatility window (the core's defaults)."""
    return AnalyticsConfig()


class AnalyticsService(EngineService[AnalyticsClient]):
    """Publishes each interval's `MarketAnalysis` and trend changes; keeps toxicity episodes."""

    ENGINE = "analytics"

    def wire(self) -> None:
        self.core = MarketAnalyzer(analytics_config(self.settings))
        self._alerted: set[str] = set()
        client = self.client
        self.publishes(MarketAnalysis, client.publish_market_analysis)
        self.publishes(TrendUpdate, client.publish_trend_update)
        client.on_quote(self.market(self.core.on_quote))
        client.on_trade(self.market(self.core.on_trade))
        client.on_toxicity_alert(self.alert(self._on_toxicity_alert))
        client.on_flash_crash_warning(self.alert(self._on_flash_crash_warning))
        for subscribe in (
            client.on_feature_vector,
            client.on_prediction,
            client.on_model_update,
            client.on_factor_values,
            client.on_pnl_update,
            client.on_position_update,
            client.on_factor_covariance,
            client.on_factor_exposures,
            client.on_factor_returns,
        ):
            subscribe(self.record())
        self.every("close-intervals", self.core.config.interval_ns, self.core.flush)

    def _on_toxicity_alert(self, alert: ToxicityAlert, now_ns: int) -> list[MarketAnalysis]:
        self.core.on_toxicity_alert(alert)
        self._alerted.add(alert.instrument_id)
        return []

    def _on_flash_crash_warning(
        self, warning: FlashCrashWarning, now_ns: int
    ) -> list[MarketAnalysis]:
        self.core.on_flash_crash_warning(warning)
        self._alerted.add(warning.instrument_id)
        return []

    def facts(self) -> dict[str, Any]:
        return {
            "toxicity_episodes": {
                instrument_id: [asdict(e) for e in self.core.toxicity_episodes(instrument_id)]
                for instrument_id in sorted(self._alerted)
            }
        }
