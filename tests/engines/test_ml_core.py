"""ML: online logistic regression on feature vectors."""

from __future__ import annotations

import math
import random

import pytest

from nautilus.common.v1.common_pb2 import NamedValue
from nautilus.engines.ml import (
    DirectionModelConfig,
    FeatureSetMismatchError,
    OnlineDirectionModel,
    log_loss,
    sigmoid,
)
from nautilus.features.v1.features_pb2 import FeatureVector
from nautilus.ml.v1 import ml_pb2
from nautilus.ml.v1.ml_pb2 import ModelUpdate, Prediction

T0 = 1_764_028_800_000_000_000
SECOND = 1_000_000_000
E9 = 1_000_000_000
BTC = "BTCUSDT.BINANCE"


def _vector(index: int, x: float, mid: float) -> FeatureVector:
    return FeatureVector(
        instrument_id=BTC,
        features=[NamedValue(name="signal", value=x), NamedValue(name="noise", value=0.0)],
        feature_set_version=1,
        bucket_index=index,
        mid_price_e9=round(mid * E9),
        ts_bucket_start=T0 + index * SECOND,
        ts_event=T0 + (index + 1) * SECOND,
    )


def _separable_stream(count: int, seed: int = 3) -> list[FeatureVector]:
    """The mid rises after every vector whose `signal` is positive and falls otherwise."""
    rng = random.Random(seed)
    vectors, mid = [], 100.0
    for i in range(count):
        x = rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.5)
        vectors.append(_vector(i, x, mid))
        mid *= 1.001 if x > 0 else 0.999
    return vectors


def _run(model: OnlineDirectionModel, vectors: list[FeatureVector]) -> list[object]:
    outputs: list[object] = []
    for v in vectors:
        outputs += model.on_feature_vector(v, v.ts_event + 1)
    return outputs


def test_sigmoid_and_log_loss_by_hand() -> None:
    assert sigmoid(0.0) == 0.5
    assert sigmoid(-800.0) == 0.0  # no overflow
    assert log_loss(0.5, 1) == pytest.approx(math.log(2))
    assert log_loss(0.9, 0) == pytest.approx(-math.log(0.1))


def test_untrained_model_predicts_a_coin_flip_with_version_0() -> None:
    (prediction,) = OnlineDirectionModel().on_feature_vector(_vector(0, 1.0, 100.0), T0)
    assert isinstance(prediction, Prediction)
    assert prediction.model_version == 0
    assert prediction.probability_up == 0.5
    assert prediction.direction == ml_pb2.PREDICTED_DIRECTION_FLAT
    assert prediction.confidence == 0.0
    assert prediction.horizon_ns == SECOND
    assert prediction.ts_features == prediction.ts_event == T0 + SECOND
    assert prediction.ts_init == T0


def test_sgd_converges_on_a_separable_stream() -> None:
    model = OnlineDirectionModel(DirectionModelConfig(update_every=100, metrics_window=100))
    stream = _separable_stream(400)
    outputs = _run(model, stream)
    updates = [o for o in outputs if isinstance(o, ModelUpdate)]
    last = updates[-1]
    assert last.validation_accuracy >= 0.95
    assert last.validation_loss < 0.3
    coefficients = {c.name: c.value for c in last.coefficients}
    assert coefficients["signal"] > 1.0
    assert abs(coefficients["noise"]) < 1e-9
    # Same mid as the last vector: no new label, so the mean |return| stays at 10 bps.
    up = model.on_feature_vector(_vector(400, 1.0, stream[-1].mid_price_e9 / E9), T0)[-1]
    assert isinstance(up, Prediction)
    assert up.probability_up > 0.8
    assert up.direction == ml_pb2.PREDICTED_DIRECTION_UP
    assert up.expected_return_bps == pytest.approx((2 * up.probability_up - 1) * 10.0, rel=1e-4)


def test_model_update_every_n_labels_with_increasing_versions() -> None:
    model = OnlineDirectionModel(DirectionModelConfig(update_every=10))
    outputs = _run(model, _separable_stream(21))  # 20 labels
    updates = [o for o in outputs if isinstance(o, ModelUpdate)]
    assert [(u.model_version, u.training_samples) for u in updates] == [(1, 10), (2, 20)]
    assert updates[0].algorithm == "online_logistic_regression"
    assert updates[0].instrument_id == BTC
    assert [c.name for c in updates[0].coefficients] == ["signal", "noise"]
    # The update precedes the prediction that already uses the new version.
    index = outputs.index(updates[1])
    following = outputs[index + 1]
    assert isinstance(following, Prediction)
    assert following.model_version == 2


def test_unchanged_mid_gives_no_label() -> None:
    model = OnlineDirectionModel(DirectionModelConfig(update_every=1))
    outputs = _run(model, [_vector(0, 1.0, 100.0), _vector(1, 1.0, 100.0)])
    assert not any(isinstance(o, ModelUpdate) for o in outputs)


def test_missing_feature_is_an_error_naming_it() -> None:
    model = OnlineDirectionModel()
    model.on_feature_vector(_vector(0, 1.0, 100.0), T0)
    partial = FeatureVector(
        instrument_id=BTC, features=[NamedValue(name="signal", value=1.0)], feature_set_version=2
    )
    with pytest.raises(FeatureSetMismatchError, match=r"lacks \('noise',\)"):
        model.on_feature_vector(partial, T0)
