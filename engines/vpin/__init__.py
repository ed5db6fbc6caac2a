"""VPIN engine core: equal-volume buckets, bulk volume classification, toxicity alerts and
flash-crash warnings."""

from nautilus.engines.vpin.buckets import VolumeBucket, VolumeBucketer
from nautilus.engines.vpin.classification import (
    BulkVolumeClassifier,
    buy_fraction,
    standard_normal_cdf,
)
from nautilus.engines.vpin.core import VpinCalculator, VpinConfig, VpinOutput
from nautilus.engines.vpin.ecdf import RollingEcdf

__all__ = [
    "BulkVolumeClassifier",
    "RollingEcdf",
    "VolumeBucket",
    "VolumeBucketer",
    "VpinCalculator",
    "VpinConfig",
    "VpinOutput",
    "buy_fraction",
    "standard_normal_cdf",
]
