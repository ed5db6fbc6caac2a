"""The ML engine on its generated client: feature vectors in, predictions and model updates out.

Each instrument's online model learns from every vector's label of the previous one, then
predicts the next move; a `ModelUpdate` announces every hundredth labelled sample's new version.
Quotes, trades, factor values and the factor model are routed here by the contract and consumed,
but this model's inputs are the feature vectors only.
"""

from __future__ import annotations

from typing import Any

from nautilus.clients.ml import MLClient
from nautilus.engines.ml.core import DirectionModelConfig, OnlineDirectionModel
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.ml.v1.ml_pb2 import ModelUpdate, Prediction

__all__ = ["MlService", "ml_config"]


def ml_config(settings: RunSettings) -> DirectionModelConfig:
    """A new model version every 50 labelled seconds, so trading starts within a minute."""
    return DirectionModelConfig(update_every=50)


class MlService(EngineService[MLClient]):
    """Publishes a prediction for every feature vector (and model updates as versions change)."""

    ENGINE = "ml"

    def wire(self) -> None:
        self.core = OnlineDirectionModel(ml_config(self.settings))
        client = self.client
        self.publishes(Prediction, client.publish_prediction)
        self.publishes(ModelUpdate, client.publish_model_update)
        client.on_feature_vector(self.react(self.core.on_feature_vector))
        client.on_quote(self.market())
        client.on_trade(self.market())
        client.on_factor_values(self.record())
        client.on_factor_covariance(self.record())
        client.on_factor_exposures(self.record())
        client.on_factor_returns(self.record())

    def facts(self) -> dict[str, Any]:
        return {"model_updates": self.tally.published[ModelUpdate.DESCRIPTOR.full_name]}
