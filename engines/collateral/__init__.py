"""Collateral engine core: initial and maintenance margin, utilisation and margin alerts."""

from nautilus.engines.collateral.core import (
    UNBOUNDED_UTILIZATION,
    CollateralConfig,
    CollateralOutput,
    MarginCalculator,
    MarginRates,
    margin_utilization,
)

__all__ = [
    "UNBOUNDED_UTILIZATION",
    "CollateralConfig",
    "CollateralOutput",
    "MarginCalculator",
    "MarginRates",
    "margin_utilization",
]
