from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FactorExposures(_message.Message):
    __slots__ = ("estimation_id", "factor_names", "instruments", "universe_size", "lookback_ns", "ts_event", "ts_init")
    ESTIMATION_ID_FIELD_NUMBER: _ClassVar[int]
    FACTOR_NAMES_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    UNIVERSE_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOOKBACK_NS_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    estimation_id: int
    factor_names: _containers.RepeatedScalarFieldContainer[str]
    instruments: _containers.RepeatedCompositeFieldContainer[InstrumentExposure]
    universe_size: int
    lookback_ns: int
    ts_event: int
    ts_init: int
    def __init__(self, estimation_id: _Optional[int] = ..., factor_names: _Optional[_Iterable[str]] = ..., instruments: _Optional[_Iterable[_Union[InstrumentExposure, _Mapping]]] = ..., universe_size: _Optional[int] = ..., lookback_ns: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class InstrumentExposure(_message.Message):
    __slots__ = ("instrument_id", "exposures")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPOSURES_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    exposures: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, instrument_id: _Optional[str] = ..., exposures: _Optional[_Iterable[float]] = ...) -> None: ...

class FactorReturns(_message.Message):
    __slots__ = ("estimation_id", "factor_returns", "return_period_ns", "universe_size", "r_squared", "residual_std", "ts_event", "ts_init")
    ESTIMATION_ID_FIELD_NUMBER: _ClassVar[int]
    FACTOR_RETURNS_FIELD_NUMBER: _ClassVar[int]
    RETURN_PERIOD_NS_FIELD_NUMBER: _ClassVar[int]
    UNIVERSE_SIZE_FIELD_NUMBER: _ClassVar[int]
    R_SQUARED_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_STD_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    estimation_id: int
    factor_returns: _containers.RepeatedCompositeFieldContainer[_common_pb2.NamedValue]
    return_period_ns: int
    universe_size: int
    r_squared: float
    residual_std: float
    ts_event: int
    ts_init: int
    def __init__(self, estimation_id: _Optional[int] = ..., factor_returns: _Optional[_Iterable[_Union[_common_pb2.NamedValue, _Mapping]]] = ..., return_period_ns: _Optional[int] = ..., universe_size: _Optional[int] = ..., r_squared: _Optional[float] = ..., residual_std: _Optional[float] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class FactorCovariance(_message.Message):
    __slots__ = ("estimation_id", "factor_names", "covariance", "return_period_ns", "estimation_window_ns", "observations", "half_life_ns", "universe_size", "ts_event", "ts_init")
    ESTIMATION_ID_FIELD_NUMBER: _ClassVar[int]
    FACTOR_NAMES_FIELD_NUMBER: _ClassVar[int]
    COVARIANCE_FIELD_NUMBER: _ClassVar[int]
    RETURN_PERIOD_NS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATION_WINDOW_NS_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    HALF_LIFE_NS_FIELD_NUMBER: _ClassVar[int]
    UNIVERSE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    estimation_id: int
    factor_names: _containers.RepeatedScalarFieldContainer[str]
    covariance: _containers.RepeatedScalarFieldContainer[float]
    return_period_ns: int
    estimation_window_ns: int
    observations: int
    half_life_ns: int
    universe_size: int
    ts_event: int
    ts_init: int
    def __init__(self, estimation_id: _Optional[int] = ..., factor_names: _Optional[_Iterable[str]] = ..., covariance: _Optional[_Iterable[float]] = ..., return_period_ns: _Optional[int] = ..., estimation_window_ns: _Optional[int] = ..., observations: _Optional[int] = ..., half_life_ns: _Optional[int] = ..., universe_size: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
