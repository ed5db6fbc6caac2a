from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MarginAlert(_message.Message):
    __slots__ = ("account_id", "currency", "severity", "utilization", "threshold", "required_margin_e9", "available_collateral_e9", "reason", "ts_event", "ts_init")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_MARGIN_E9_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_COLLATERAL_E9_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    currency: str
    severity: _common_pb2.Severity
    utilization: float
    threshold: float
    required_margin_e9: int
    available_collateral_e9: int
    reason: str
    ts_event: int
    ts_init: int
    def __init__(self, account_id: _Optional[str] = ..., currency: _Optional[str] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., utilization: _Optional[float] = ..., threshold: _Optional[float] = ..., required_margin_e9: _Optional[int] = ..., available_collateral_e9: _Optional[int] = ..., reason: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class MarginRequirement(_message.Message):
    __slots__ = ("account_id", "currency", "initial_margin_e9", "maintenance_margin_e9", "equity_e9", "free_margin_e9", "utilization", "instruments", "ts_event", "ts_init")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    INITIAL_MARGIN_E9_FIELD_NUMBER: _ClassVar[int]
    MAINTENANCE_MARGIN_E9_FIELD_NUMBER: _ClassVar[int]
    EQUITY_E9_FIELD_NUMBER: _ClassVar[int]
    FREE_MARGIN_E9_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    currency: str
    initial_margin_e9: int
    maintenance_margin_e9: int
    equity_e9: int
    free_margin_e9: int
    utilization: float
    instruments: _containers.RepeatedCompositeFieldContainer[InstrumentMargin]
    ts_event: int
    ts_init: int
    def __init__(self, account_id: _Optional[str] = ..., currency: _Optional[str] = ..., initial_margin_e9: _Optional[int] = ..., maintenance_margin_e9: _Optional[int] = ..., equity_e9: _Optional[int] = ..., free_margin_e9: _Optional[int] = ..., utilization: _Optional[float] = ..., instruments: _Optional[_Iterable[_Union[InstrumentMargin, _Mapping]]] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class InstrumentMargin(_message.Message):
    __slots__ = ("instrument_id", "notional_e9", "initial_margin_e9", "maintenance_margin_e9")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_E9_FIELD_NUMBER: _ClassVar[int]
    INITIAL_MARGIN_E9_FIELD_NUMBER: _ClassVar[int]
    MAINTENANCE_MARGIN_E9_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    notional_e9: int
    initial_margin_e9: int
    maintenance_margin_e9: int
    def __init__(self, instrument_id: _Optional[str] = ..., notional_e9: _Optional[int] = ..., initial_margin_e9: _Optional[int] = ..., maintenance_margin_e9: _Optional[int] = ...) -> None: ...
