"""The Factor engine on its generated client: market data in, a cross-section of style factors
(momentum, volatility, liquidity, size) every ten seconds of market time out.

A cross-section is due when the first event past its time arrives or the market-time timer
passes it.
"""

from __future__ import annotations

from nautilus.clients.factor import FactorClient
from nautilus.engines.factor.core import FactorCalculator, FactorConfig
from nautilus.engines.run_settings import NS_PER_SECOND, RunSettings
from nautilus.engines.service import EngineService
from nautilus.factor.v1.factor_pb2 import FactorValues

__all__ = ["FactorService", "factor_config"]


def factor_config(settings: RunSettings) -> FactorConfig:
    """Ten-second cross-sections over a five-minute lookback; members after 50 seconds."""
    return FactorConfig(interval_ns=10 * NS_PER_SECOND, lookback_intervals=30, min_samples=5)


class FactorService(EngineService[FactorClient]):
    """Publishes one `FactorValues` per instrument for every cross-section."""

    ENGINE = "factor"

    def wire(self) -> None:
        self.core = FactorCalculator(factor_config(self.settings))
        client = self.client
        self.publishes(FactorValues, client.publish_factor_values)
        client.on_quote(self.market(self.core.on_quote))
        client.on_trade(self.market(self.core.on_trade))
        client.on_factor_covariance(self.record())
        client.on_factor_exposures(self.record())
        client.on_factor_returns(self.record())
        self.every("cross-section", self.core.config.interval_ns, self.core.flush)
