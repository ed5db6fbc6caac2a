"""Factor engine core: momentum, volatility, liquidity and size per instrument, standardised
across the universe at fixed calculation times."""

from nautilus.engines.factor.core import FACTOR_NAMES, FactorCalculator, FactorConfig, zscores

__all__ = ["FACTOR_NAMES", "FactorCalculator", "FactorConfig", "zscores"]
