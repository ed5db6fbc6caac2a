"""ML: per-instrument online direction models on `FeatureVector`s.

For each instrument, every vector is first used to label the previous one (label 1 when the mid
rose between the two vectors' closes, 0 when it fell; unchanged mids give no label), which trains
the model one SGD step; then the model predicts the next move from the new vector. So a
prediction always comes from a model that has never seen its own label (prequential, or
progressive, validation): the recorded validation loss and accuracy are honest out-of-sample
figures over the last `metrics_window` labels; training loss is measured on the same samples just
after their update.

Every `update_every` labelled samples the model version goes up by one (the first update
announces version 1) and a `ModelUpdate` is returned ahead of the prediction, so the prediction
carries the new version. Predictions from an untrained model carry version 0.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from nautilus.common.v1.common_pb2 import NamedValue
from nautilus.engines.ml.logistic import OnlineLogisticRegression, RunningScaler, log_loss
from nautilus.features.v1.features_pb2 import FeatureVector
from nautilus.ml.v1 import ml_pb2
from nautilus.ml.v1.ml_pb2 import ModelUpdate, Prediction

__all__ = [
    "ALGORITHM",
    "DirectionModelConfig",
    "FeatureSetMismatchError",
    "MlOutput",
    "OnlineDirectionModel",
]

MlOutput = Prediction | ModelUpdate

ALGORITHM = "online_logistic_regression"


class FeatureSetMismatchError(ValueError):
    """A vector lacks features the model was built on."""

    def __init__(self, instrument_id: str, missing: tuple[str, ...], version: int) -> None:
        super().__init__(
            f"{instrument_id}: feature vector (feature_set_version {version}) lacks {missing}"
        )
        self.instrument_id = instrument_id
        self.missing = missing
        self.feature_set_version = version


@dataclass(frozen=True, slots=True)
class DirectionModelConfig:
    """SGD and publishing parameters. `feature_names` fixes the inputs; empty means "the names
    of the first vector seen, in its order". `neutral_band` is the distance from 0.5 within
    which the direction is FLAT."""

    model_id: str = "logreg_direction_1s"
    feature_names: tuple[str, ...] = ()
    learning_rate: float = 0.05
    l2: float = 1e-4
    decay: float = 0.0
    clip: float = 5.0
    neutral_band: float = 0.05
    update_every: int = 100
    metrics_window: int = 500

    def __post_init__(self) -> None:
        if not self.model_id or self.model_id != self.model_id.lower():
            raise ValueError("model_id must be non-empty lower_snake_case")
        if len(set(self.feature_names)) != len(self.feature_names):
            raise ValueError("feature_names must be unique")
        if self.learning_rate <= 0 or self.l2 < 0 or self.decay < 0 or self.clip <= 0:
            raise ValueError("need learning_rate > 0, l2 >= 0, decay >= 0, clip > 0")
        if not 0 <= self.neutral_band < 0.5:
            raise ValueError("neutral_band must be in [0, 0.5)")
        if self.update_every < 1 or self.metrics_window < 1:
            raise ValueError("update_every and metrics_window must be >= 1")


@dataclass(slots=True)
class _Pending:
    x: list[float]
    mid_e9: int
    probability: float


class _Model:
    def __init__(self, names: tuple[str, ...], config: DirectionModelConfig) -> None:
        self.names = names
        self.scaler = RunningScaler(len(names), config.clip)
        self.regression = OnlineLogisticRegression(
            len(names), config.learning_rate, config.l2, config.decay
        )
        self.version = 0
        self.samples = 0
        self.pending: _Pending | None = None
        self.validation_loss: deque[float] = deque(maxlen=config.metrics_window)
        self.validation_hits: deque[int] = deque(maxlen=config.metrics_window)
        self.training_loss: deque[float] = deque(maxlen=config.metrics_window)
        self.abs_return_bps: deque[float] = deque(maxlen=config.metrics_window)

    def accuracy(self) -> float:
        hits = self.validation_hits
        return sum(hits) / len(hits) if hits else 0.5


def _mean(values: deque[float] | deque[int]) -> float:
    return sum(values) / len(values) if values else 0.0


class OnlineDirectionModel:
    """One online logistic model per instrument, trained and queried from feature vectors."""

    def __init__(self, config: DirectionModelConfig | None = None) -> None:
        self.config = config or DirectionModelConfig()
        self._models: dict[str, _Model] = {}

    def on_feature_vector(self, vector: FeatureVector, now_ns: int) -> list[MlOutput]:
        """Learns from the label `vector` gives the previous vector, then predicts from it."""
        model = self._model(vector)
        x = self._inputs(model, vector)
        outputs: list[MlOutput] = []
        pending = model.pending
        labelled = pending is not None and vector.mid_price_e9 != pending.mid_e9
        if labelled and pending is not None and self._learn(model, pending, vector.mid_price_e9):
            outputs.append(self._model_update(vector, model, now_ns))
        model.scaler.update(x)
        probability = model.regression.predict(model.scaler.transform(x))
        model.pending = _Pending(x, vector.mid_price_e9, probability)
        outputs.append(self._prediction(vector, model, probability, now_ns))
        return outputs

    def _model(self, vector: FeatureVector) -> _Model:
        model = self._models.get(vector.instrument_id)
        if model is None:
            names = self.config.feature_names or tuple(f.name for f in vector.features)
            model = self._models[vector.instrument_id] = _Model(names, self.config)
        return model

    @staticmethod
    def _inputs(model: _Model, vector: FeatureVector) -> list[float]:
        values = {f.name: f.value for f in vector.features}
        missing = tuple(name for name in model.names if name not in values)
        if missing:
            raise FeatureSetMismatchError(vector.instrument_id, missing, vector.feature_set_version)
        return [values[name] for name in model.names]

    def _learn(self, model: _Model, pending: _Pending, mid_e9: int) -> bool:
        """Trains on the pending sample; True when a new model version is due."""
        label = 1 if mid_e9 > pending.mid_e9 else 0
        model.validation_loss.append(log_loss(pending.probability, label))
        model.validation_hits.append(int((pending.probability >= 0.5) == (label == 1)))
        model.abs_return_bps.append(abs(mid_e9 - pending.mid_e9) / pending.mid_e9 * 1e4)
        scaled = model.scaler.transform(pending.x)
        model.regression.learn(scaled, label)
        model.training_loss.append(log_loss(model.regression.predict(scaled), label))
        model.samples += 1
        if model.samples % self.config.update_every:
            return False
        model.version += 1
        return True

    def _model_update(self, vector: FeatureVector, model: _Model, now_ns: int) -> ModelUpdate:
        regression = model.regression
        return ModelUpdate(
            model_id=self.config.model_id,
            model_version=model.version,
            instrument_id=vector.instrument_id,
            algorithm=ALGORITHM,
            coefficients=[
                NamedValue(name=n, value=w)
                for n, w in zip(model.names, regression.weights, strict=True)
            ],
            intercept=regression.intercept,
            training_samples=model.samples,
            training_loss=_mean(model.training_loss),
            validation_loss=_mean(model.validation_loss),
            validation_accuracy=model.accuracy(),
            ts_event=vector.ts_event,
            ts_init=now_ns,
        )

    def _prediction(
        self, vector: FeatureVector, model: _Model, probability: float, now_ns: int
    ) -> Prediction:
        band = self.config.neutral_band
        if probability >= 0.5 + band:
            direction = ml_pb2.PREDICTED_DIRECTION_UP
        elif probability <= 0.5 - band:
            direction = ml_pb2.PREDICTED_DIRECTION_DOWN
        else:
            direction = ml_pb2.PREDICTED_DIRECTION_FLAT
        edge = 2.0 * probability - 1.0
        return Prediction(
            instrument_id=vector.instrument_id,
            model_id=self.config.model_id,
            model_version=model.version,
            horizon_ns=max(0, vector.ts_event - vector.ts_bucket_start),
            probability_up=probability,
            direction=direction,
            confidence=abs(edge) * model.accuracy(),
            expected_return_bps=edge * _mean(model.abs_return_bps),
            ts_features=vector.ts_event,
            ts_event=vector.ts_event,
            ts_init=now_ns,
        )
