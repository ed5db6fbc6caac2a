"""The Features engine on its generated client: quotes and trades in, one feature vector per
instrument per second of market time out.

An interval closes when the instrument's next event arrives after it, or when the one-second
market-time timer passes its end, so a quiet instrument still gets its vector on time.
"""

from __future__ import annotations

from nautilus.clients.features import FeaturesClient
from nautilus.engines.features.core import FeatureCalculator, FeaturesConfig
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.features.v1.features_pb2 import FeatureVector

__all__ = ["FeaturesService", "features_config"]


def features_config(settings: RunSettings) -> FeaturesConfig:
    """One-second intervals with a 30-second volatility window (the core's defaults)."""
    return FeaturesConfig()


class FeaturesService(EngineService[FeaturesClient]):
    """Publishes each closed interval's `FeatureVector`."""

    ENGINE = "features"

    def wire(self) -> None:
        self.core = FeatureCalculator(features_config(self.settings))
        client = self.client
        self.publishes(FeatureVector, client.publish_feature_vector)
        client.on_quote(self.market(self.core.on_quote))
        client.on_trade(self.market(self.core.on_trade))
        client.on_factor_covariance(self.record())
        client.on_factor_exposures(self.record())
        client.on_factor_returns(self.record())
        self.every("close-intervals", self.core.config.interval_ns, self.core.flush)
