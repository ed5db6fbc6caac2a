"""Toraniko engine core: cross-sectional factor model (exposures, factor returns by
least squares, factor covariance) over the instrument universe."""

from nautilus.engines.toraniko.core import (
    MARKET_FACTOR,
    FactorModel,
    ToranikoConfig,
    ToranikoOutput,
)
from nautilus.engines.toraniko.covariance import weighted_covariance
from nautilus.engines.toraniko.regression import (
    LeastSquaresFit,
    SingularSystemError,
    least_squares,
    solve,
)

__all__ = [
    "MARKET_FACTOR",
    "FactorModel",
    "LeastSquaresFit",
    "SingularSystemError",
    "ToranikoConfig",
    "ToranikoOutput",
    "least_squares",
    "solve",
    "weighted_covariance",
]
