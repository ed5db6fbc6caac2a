from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PredictedDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PREDICTED_DIRECTION_UNSPECIFIED: _ClassVar[PredictedDirection]
    PREDICTED_DIRECTION_UP: _ClassVar[PredictedDirection]
    PREDICTED_DIRECTION_DOWN: _ClassVar[PredictedDirection]
    PREDICTED_DIRECTION_FLAT: _ClassVar[PredictedDirection]
PREDICTED_DIRECTION_UNSPECIFIED: PredictedDirection
PREDICTED_DIRECTION_UP: PredictedDirection
PREDICTED_DIRECTION_DOWN: PredictedDirection
PREDICTED_DIRECTION_FLAT: PredictedDirection

class Prediction(_message.Message):
    __slots__ = ("instrument_id", "model_id", "model_version", "horizon_ns", "probability_up", "direction", "confidence", "expected_return_bps", "ts_features", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    HORIZON_NS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_UP_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RETURN_BPS_FIELD_NUMBER: _ClassVar[int]
    TS_FEATURES_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    model_id: str
    model_version: int
    horizon_ns: int
    probability_up: float
    direction: PredictedDirection
    confidence: float
    expected_return_bps: float
    ts_features: int
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., model_id: _Optional[str] = ..., model_version: _Optional[int] = ..., horizon_ns: _Optional[int] = ..., probability_up: _Optional[float] = ..., direction: _Optional[_Union[PredictedDirection, str]] = ..., confidence: _Optional[float] = ..., expected_return_bps: _Optional[float] = ..., ts_features: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class ModelUpdate(_message.Message):
    __slots__ = ("model_id", "model_version", "instrument_id", "algorithm", "coefficients", "intercept", "training_samples", "training_loss", "validation_loss", "validation_accuracy", "ts_event", "ts_init")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENTS_FIELD_NUMBER: _ClassVar[int]
    INTERCEPT_FIELD_NUMBER: _ClassVar[int]
    TRAINING_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    TRAINING_LOSS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_LOSS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: int
    instrument_id: str
    algorithm: str
    coefficients: _containers.RepeatedCompositeFieldContainer[_common_pb2.NamedValue]
    intercept: float
    training_samples: int
    training_loss: float
    validation_loss: float
    validation_accuracy: float
    ts_event: int
    ts_init: int
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[int] = ..., instrument_id: _Optional[str] = ..., algorithm: _Optional[str] = ..., coefficients: _Optional[_Iterable[_Union[_common_pb2.NamedValue, _Mapping]]] = ..., intercept: _Optional[float] = ..., training_samples: _Optional[int] = ..., training_loss: _Optional[float] = ..., validation_loss: _Optional[float] = ..., validation_accuracy: _Optional[float] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
