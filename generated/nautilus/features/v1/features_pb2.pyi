from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BucketKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUCKET_KIND_UNSPECIFIED: _ClassVar[BucketKind]
    BUCKET_KIND_TIME: _ClassVar[BucketKind]
    BUCKET_KIND_VOLUME: _ClassVar[BucketKind]
    BUCKET_KIND_TICK: _ClassVar[BucketKind]
BUCKET_KIND_UNSPECIFIED: BucketKind
BUCKET_KIND_TIME: BucketKind
BUCKET_KIND_VOLUME: BucketKind
BUCKET_KIND_TICK: BucketKind

class FeatureVector(_message.Message):
    __slots__ = ("instrument_id", "features", "feature_set_version", "bucket_kind", "bucket_index", "bucket_volume_e9", "bucket_trade_count", "mid_price_e9", "ts_bucket_start", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    BUCKET_KIND_FIELD_NUMBER: _ClassVar[int]
    BUCKET_INDEX_FIELD_NUMBER: _ClassVar[int]
    BUCKET_VOLUME_E9_FIELD_NUMBER: _ClassVar[int]
    BUCKET_TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MID_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    TS_BUCKET_START_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    features: _containers.RepeatedCompositeFieldContainer[_common_pb2.NamedValue]
    feature_set_version: int
    bucket_kind: BucketKind
    bucket_index: int
    bucket_volume_e9: int
    bucket_trade_count: int
    mid_price_e9: int
    ts_bucket_start: int
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., features: _Optional[_Iterable[_Union[_common_pb2.NamedValue, _Mapping]]] = ..., feature_set_version: _Optional[int] = ..., bucket_kind: _Optional[_Union[BucketKind, str]] = ..., bucket_index: _Optional[int] = ..., bucket_volume_e9: _Optional[int] = ..., bucket_trade_count: _Optional[int] = ..., mid_price_e9: _Optional[int] = ..., ts_bucket_start: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
