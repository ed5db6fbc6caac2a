from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Quote(_message.Message):
    __slots__ = ("instrument_id", "bid_price_e9", "ask_price_e9", "bid_size_e9", "ask_size_e9", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_E9_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_E9_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    bid_price_e9: int
    ask_price_e9: int
    bid_size_e9: int
    ask_size_e9: int
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., bid_price_e9: _Optional[int] = ..., ask_price_e9: _Optional[int] = ..., bid_size_e9: _Optional[int] = ..., ask_size_e9: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("instrument_id", "price_e9", "size_e9", "aggressor_side", "trade_id", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    SIZE_E9_FIELD_NUMBER: _ClassVar[int]
    AGGRESSOR_SIDE_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    price_e9: int
    size_e9: int
    aggressor_side: _common_pb2.OrderSide
    trade_id: str
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., price_e9: _Optional[int] = ..., size_e9: _Optional[int] = ..., aggressor_side: _Optional[_Union[_common_pb2.OrderSide, str]] = ..., trade_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
