"""The Toraniko engine on its generated client: market data in, a cross-sectional factor model
(exposures, factor returns, factor covariance) out, one estimation per factor cross-section.

The contract routes only quotes and trades to Toraniko, not the Factor engine's `FactorValues`
(whose consumers are ML and Analytics). So Toraniko computes the factor cross-sections itself,
with the same `FactorCalculator` and parameters as the Factor engine, from the same market data:
the values are identical to those Factor publishes, and nothing travels outside the contract.

With fewer instruments than needed for the full style set (more instruments than factors), the
model uses the market factor and momentum only.
"""

from __future__ import annotations

from typing import Any

from nautilus.clients.toraniko import ToranikoClient
from nautilus.engines.factor.core import FactorCalculator
from nautilus.engines.factor.service import factor_config
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.engines.toraniko.core import FactorModel, ToranikoConfig, ToranikoOutput
from nautilus.factor.v1.factor_pb2 import FactorValues
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.toraniko.v1.toraniko_pb2 import FactorCovariance, FactorExposures, FactorReturns

__all__ = ["ToranikoService", "toraniko_config"]

#: Instruments needed to estimate the market factor and all four style factors.
_FULL_MODEL_INSTRUMENTS = 6


def toraniko_config(settings: RunSettings) -> ToranikoConfig:
    """All style factors with six or more known instruments, else market and momentum."""
    if len(settings.instruments()) >= _FULL_MODEL_INSTRUMENTS:
        return ToranikoConfig()
    return ToranikoConfig(style_factors=("momentum",))


class ToranikoService(EngineService[ToranikoClient]):
    """Runs an estimation for every complete factor cross-section and publishes its results."""

    ENGINE = "toraniko"

    def wire(self) -> None:
        self.factors = FactorCalculator(factor_config(self.settings))
        self.core = FactorModel(toraniko_config(self.settings))
        client = self.client
        self.publishes(FactorExposures, client.publish_factor_exposures)
        self.publishes(FactorReturns, client.publish_factor_returns)
        self.publishes(FactorCovariance, client.publish_factor_covariance)
        client.on_quote(self.market(self._on_quote))
        client.on_trade(self.market(self._on_trade))
        self.every("cross-section", self.factors.config.interval_ns, self._on_timer)

    def _on_quote(self, quote: Quote, now_ns: int) -> list[ToranikoOutput]:
        outputs = self._estimate(self.factors.on_quote(quote, now_ns), now_ns)
        self.core.on_quote(quote, now_ns)
        return outputs

    def _on_trade(self, trade: Trade, now_ns: int) -> list[ToranikoOutput]:
        return self._estimate(self.factors.on_trade(trade, now_ns), now_ns)

    def _on_timer(self, boundary_ns: int, now_ns: int) -> list[ToranikoOutput]:
        return self._estimate(self.factors.flush(boundary_ns, now_ns), now_ns)

    def _estimate(self, cross_section: list[FactorValues], now_ns: int) -> list[ToranikoOutput]:
        outputs: list[ToranikoOutput] = []
        for values in cross_section:
            outputs.extend(self.core.on_factor_values(values, now_ns))
        return outputs

    def facts(self) -> dict[str, Any]:
        name: str = FactorReturns.DESCRIPTOR.full_name
        return {"estimations": self.tally.published[name], "factors": list(self.core.factor_names)}
