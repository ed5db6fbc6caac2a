from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BreachKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREACH_KIND_UNSPECIFIED: _ClassVar[BreachKind]
    BREACH_KIND_POSITION_QUANTITY: _ClassVar[BreachKind]
    BREACH_KIND_POSITION_NOTIONAL: _ClassVar[BreachKind]
    BREACH_KIND_GROSS_EXPOSURE: _ClassVar[BreachKind]
    BREACH_KIND_NET_EXPOSURE: _ClassVar[BreachKind]
    BREACH_KIND_VALUE_AT_RISK: _ClassVar[BreachKind]
    BREACH_KIND_DRAWDOWN: _ClassVar[BreachKind]

class LimitStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIMIT_STATUS_UNSPECIFIED: _ClassVar[LimitStatus]
    LIMIT_STATUS_APPROACHING: _ClassVar[LimitStatus]
    LIMIT_STATUS_BREACHED: _ClassVar[LimitStatus]
    LIMIT_STATUS_RESTORED: _ClassVar[LimitStatus]

class RiskAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_ACTION_UNSPECIFIED: _ClassVar[RiskAction]
    RISK_ACTION_NONE: _ClassVar[RiskAction]
    RISK_ACTION_REDUCE_ONLY: _ClassVar[RiskAction]
    RISK_ACTION_HALT: _ClassVar[RiskAction]
    RISK_ACTION_LIQUIDATE: _ClassVar[RiskAction]
BREACH_KIND_UNSPECIFIED: BreachKind
BREACH_KIND_POSITION_QUANTITY: BreachKind
BREACH_KIND_POSITION_NOTIONAL: BreachKind
BREACH_KIND_GROSS_EXPOSURE: BreachKind
BREACH_KIND_NET_EXPOSURE: BreachKind
BREACH_KIND_VALUE_AT_RISK: BreachKind
BREACH_KIND_DRAWDOWN: BreachKind
LIMIT_STATUS_UNSPECIFIED: LimitStatus
LIMIT_STATUS_APPROACHING: LimitStatus
LIMIT_STATUS_BREACHED: LimitStatus
LIMIT_STATUS_RESTORED: LimitStatus
RISK_ACTION_UNSPECIFIED: RiskAction
RISK_ACTION_NONE: RiskAction
RISK_ACTION_REDUCE_ONLY: RiskAction
RISK_ACTION_HALT: RiskAction
RISK_ACTION_LIQUIDATE: RiskAction

class RiskMetrics(_message.Message):
    __slots__ = ("account_id", "currency", "gross_exposure_e9", "net_exposure_e9", "var_95_e9", "var_99_e9", "var_horizon_ns", "var_observations", "max_drawdown", "leverage", "limits", "ts_event", "ts_init")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GROSS_EXPOSURE_E9_FIELD_NUMBER: _ClassVar[int]
    NET_EXPOSURE_E9_FIELD_NUMBER: _ClassVar[int]
    VAR_95_E9_FIELD_NUMBER: _ClassVar[int]
    VAR_99_E9_FIELD_NUMBER: _ClassVar[int]
    VAR_HORIZON_NS_FIELD_NUMBER: _ClassVar[int]
    VAR_OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    currency: str
    gross_exposure_e9: int
    net_exposure_e9: int
    var_95_e9: int
    var_99_e9: int
    var_horizon_ns: int
    var_observations: int
    max_drawdown: float
    leverage: float
    limits: _containers.RepeatedCompositeFieldContainer[InstrumentLimitUsage]
    ts_event: int
    ts_init: int
    def __init__(self, account_id: _Optional[str] = ..., currency: _Optional[str] = ..., gross_exposure_e9: _Optional[int] = ..., net_exposure_e9: _Optional[int] = ..., var_95_e9: _Optional[int] = ..., var_99_e9: _Optional[int] = ..., var_horizon_ns: _Optional[int] = ..., var_observations: _Optional[int] = ..., max_drawdown: _Optional[float] = ..., leverage: _Optional[float] = ..., limits: _Optional[_Iterable[_Union[InstrumentLimitUsage, _Mapping]]] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class InstrumentLimitUsage(_message.Message):
    __slots__ = ("instrument_id", "position_quantity_e9", "notional_e9", "notional_limit_e9", "usage")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_QUANTITY_E9_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_E9_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_LIMIT_E9_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    position_quantity_e9: int
    notional_e9: int
    notional_limit_e9: int
    usage: float
    def __init__(self, instrument_id: _Optional[str] = ..., position_quantity_e9: _Optional[int] = ..., notional_e9: _Optional[int] = ..., notional_limit_e9: _Optional[int] = ..., usage: _Optional[float] = ...) -> None: ...

class PositionLimitEvent(_message.Message):
    __slots__ = ("account_id", "instrument_id", "breach_kind", "status", "limit_e9", "current_e9", "usage", "currency", "severity", "action", "ts_event", "ts_init")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BREACH_KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_E9_FIELD_NUMBER: _ClassVar[int]
    CURRENT_E9_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument_id: str
    breach_kind: BreachKind
    status: LimitStatus
    limit_e9: int
    current_e9: int
    usage: float
    currency: str
    severity: _common_pb2.Severity
    action: RiskAction
    ts_event: int
    ts_init: int
    def __init__(self, account_id: _Optional[str] = ..., instrument_id: _Optional[str] = ..., breach_kind: _Optional[_Union[BreachKind, str]] = ..., status: _Optional[_Union[LimitStatus, str]] = ..., limit_e9: _Optional[int] = ..., current_e9: _Optional[int] = ..., usage: _Optional[float] = ..., currency: _Optional[str] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., action: _Optional[_Union[RiskAction, str]] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
