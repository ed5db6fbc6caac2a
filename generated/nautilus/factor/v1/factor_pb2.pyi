from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FactorValues(_message.Message):
    __slots__ = ("instrument_id", "factors", "standardized", "factor_set_version", "universe_size", "lookback_ns", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    STANDARDIZED_FIELD_NUMBER: _ClassVar[int]
    FACTOR_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    UNIVERSE_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOOKBACK_NS_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    factors: _containers.RepeatedCompositeFieldContainer[_common_pb2.NamedValue]
    standardized: bool
    factor_set_version: int
    universe_size: int
    lookback_ns: int
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., factors: _Optional[_Iterable[_Union[_common_pb2.NamedValue, _Mapping]]] = ..., standardized: _Optional[bool] = ..., factor_set_version: _Optional[int] = ..., universe_size: _Optional[int] = ..., lookback_ns: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
