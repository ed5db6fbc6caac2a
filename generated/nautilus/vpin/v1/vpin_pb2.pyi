from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ToxicityAlert(_message.Message):
    __slots__ = ("instrument_id", "vpin", "vpin_cdf", "threshold", "severity", "bucket_index", "bucket_volume_e9", "window_buckets", "price_change_bps", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VPIN_FIELD_NUMBER: _ClassVar[int]
    VPIN_CDF_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    BUCKET_INDEX_FIELD_NUMBER: _ClassVar[int]
    BUCKET_VOLUME_E9_FIELD_NUMBER: _ClassVar[int]
    WINDOW_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    PRICE_CHANGE_BPS_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    vpin: float
    vpin_cdf: float
    threshold: float
    severity: _common_pb2.Severity
    bucket_index: int
    bucket_volume_e9: int
    window_buckets: int
    price_change_bps: float
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., vpin: _Optional[float] = ..., vpin_cdf: _Optional[float] = ..., threshold: _Optional[float] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., bucket_index: _Optional[int] = ..., bucket_volume_e9: _Optional[int] = ..., window_buckets: _Optional[int] = ..., price_change_bps: _Optional[float] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class FlashCrashWarning(_message.Message):
    __slots__ = ("instrument_id", "price_drop_bps", "window_ns", "reference_mid_price_e9", "mid_price_e9", "vpin", "vpin_cdf", "window_volume_e9", "severity", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_DROP_BPS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_NS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_MID_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    MID_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    VPIN_FIELD_NUMBER: _ClassVar[int]
    VPIN_CDF_FIELD_NUMBER: _ClassVar[int]
    WINDOW_VOLUME_E9_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    price_drop_bps: float
    window_ns: int
    reference_mid_price_e9: int
    mid_price_e9: int
    vpin: float
    vpin_cdf: float
    window_volume_e9: int
    severity: _common_pb2.Severity
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., price_drop_bps: _Optional[float] = ..., window_ns: _Optional[int] = ..., reference_mid_price_e9: _Optional[int] = ..., mid_price_e9: _Optional[int] = ..., vpin: _Optional[float] = ..., vpin_cdf: _Optional[float] = ..., window_volume_e9: _Optional[int] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
