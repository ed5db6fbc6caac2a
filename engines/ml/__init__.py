"""ML engine core: online logistic regression predicting next-interval price direction."""

from nautilus.engines.ml.core import (
    ALGORITHM,
    DirectionModelConfig,
    FeatureSetMismatchError,
    MlOutput,
    OnlineDirectionModel,
)
from nautilus.engines.ml.logistic import (
    OnlineLogisticRegression,
    RunningScaler,
    log_loss,
    sigmoid,
)

__all__ = [
    "ALGORITHM",
    "DirectionModelConfig",
    "FeatureSetMismatchError",
    "MlOutput",
    "OnlineDirectionModel",
    "OnlineLogisticRegression",
    "RunningScaler",
    "log_loss",
    "sigmoid",
]
