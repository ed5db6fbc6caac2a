from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignalDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_DIRECTION_UNSPECIFIED: _ClassVar[SignalDirection]
    SIGNAL_DIRECTION_LONG: _ClassVar[SignalDirection]
    SIGNAL_DIRECTION_SHORT: _ClassVar[SignalDirection]
    SIGNAL_DIRECTION_FLAT: _ClassVar[SignalDirection]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IOC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FOK: _ClassVar[TimeInForce]
    TIME_IN_FORCE_DAY: _ClassVar[TimeInForce]
SIGNAL_DIRECTION_UNSPECIFIED: SignalDirection
SIGNAL_DIRECTION_LONG: SignalDirection
SIGNAL_DIRECTION_SHORT: SignalDirection
SIGNAL_DIRECTION_FLAT: SignalDirection
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_TYPE_LIMIT: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_GTC: TimeInForce
TIME_IN_FORCE_IOC: TimeInForce
TIME_IN_FORCE_FOK: TimeInForce
TIME_IN_FORCE_DAY: TimeInForce

class TradingSignal(_message.Message):
    __slots__ = ("signal_id", "strategy_id", "instrument_id", "direction", "strength", "reason", "sources", "mid_price_e9", "ts_expire", "ts_event", "ts_init")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    MID_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    TS_EXPIRE_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    strategy_id: str
    instrument_id: str
    direction: SignalDirection
    strength: float
    reason: str
    sources: _containers.RepeatedScalarFieldContainer[_options_pb2.Engine]
    mid_price_e9: int
    ts_expire: int
    ts_event: int
    ts_init: int
    def __init__(self, signal_id: _Optional[str] = ..., strategy_id: _Optional[str] = ..., instrument_id: _Optional[str] = ..., direction: _Optional[_Union[SignalDirection, str]] = ..., strength: _Optional[float] = ..., reason: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[_options_pb2.Engine, str]]] = ..., mid_price_e9: _Optional[int] = ..., ts_expire: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class OrderRequest(_message.Message):
    __slots__ = ("client_order_id", "strategy_id", "instrument_id", "side", "order_type", "quantity_e9", "limit_price_e9", "time_in_force", "reduce_only", "post_only", "signal_id", "ts_event", "ts_init")
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_E9_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    REDUCE_ONLY_FIELD_NUMBER: _ClassVar[int]
    POST_ONLY_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    client_order_id: str
    strategy_id: str
    instrument_id: str
    side: _common_pb2.OrderSide
    order_type: OrderType
    quantity_e9: int
    limit_price_e9: int
    time_in_force: TimeInForce
    reduce_only: bool
    post_only: bool
    signal_id: str
    ts_event: int
    ts_init: int
    def __init__(self, client_order_id: _Optional[str] = ..., strategy_id: _Optional[str] = ..., instrument_id: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.OrderSide, str]] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., quantity_e9: _Optional[int] = ..., limit_price_e9: _Optional[int] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., reduce_only: _Optional[bool] = ..., post_only: _Optional[bool] = ..., signal_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
