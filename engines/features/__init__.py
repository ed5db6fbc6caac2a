"""Features engine core: per-instrument feature vectors (returns, realised volatility, spread,
order-flow and trade imbalance) on a fixed time grid."""

from nautilus.engines.features.core import FeatureCalculator, FeaturesConfig, duration_label
from nautilus.engines.features.ofi import ofi_contribution

__all__ = ["FeatureCalculator", "FeaturesConfig", "duration_label", "ofi_contribution"]
