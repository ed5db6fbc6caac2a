from nautilus.bus.v1 import options_pb2 as _options_pb2
from nautilus.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PositionUpdate(_message.Message):
    __slots__ = ("account_id", "strategy_id", "instrument_id", "side", "quantity_e9", "avg_price_e9", "last_fill_side", "last_fill_quantity_e9", "last_fill_price_e9", "last_client_order_id", "ts_event", "ts_init")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_E9_FIELD_NUMBER: _ClassVar[int]
    AVG_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    LAST_FILL_SIDE_FIELD_NUMBER: _ClassVar[int]
    LAST_FILL_QUANTITY_E9_FIELD_NUMBER: _ClassVar[int]
    LAST_FILL_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    LAST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    strategy_id: str
    instrument_id: str
    side: _common_pb2.PositionSide
    quantity_e9: int
    avg_price_e9: int
    last_fill_side: _common_pb2.OrderSide
    last_fill_quantity_e9: int
    last_fill_price_e9: int
    last_client_order_id: str
    ts_event: int
    ts_init: int
    def __init__(self, account_id: _Optional[str] = ..., strategy_id: _Optional[str] = ..., instrument_id: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.PositionSide, str]] = ..., quantity_e9: _Optional[int] = ..., avg_price_e9: _Optional[int] = ..., last_fill_side: _Optional[_Union[_common_pb2.OrderSide, str]] = ..., last_fill_quantity_e9: _Optional[int] = ..., last_fill_price_e9: _Optional[int] = ..., last_client_order_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class PnlUpdate(_message.Message):
    __slots__ = ("account_id", "strategy_id", "instrument_id", "currency", "realized_pnl_e9", "unrealized_pnl_e9", "total_pnl_e9", "commissions_e9", "equity_e9", "ts_event", "ts_init")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_E9_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_E9_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PNL_E9_FIELD_NUMBER: _ClassVar[int]
    COMMISSIONS_E9_FIELD_NUMBER: _ClassVar[int]
    EQUITY_E9_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    strategy_id: str
    instrument_id: str
    currency: str
    realized_pnl_e9: int
    unrealized_pnl_e9: int
    total_pnl_e9: int
    commissions_e9: int
    equity_e9: int
    ts_event: int
    ts_init: int
    def __init__(self, account_id: _Optional[str] = ..., strategy_id: _Optional[str] = ..., instrument_id: _Optional[str] = ..., currency: _Optional[str] = ..., realized_pnl_e9: _Optional[int] = ..., unrealized_pnl_e9: _Optional[int] = ..., total_pnl_e9: _Optional[int] = ..., commissions_e9: _Optional[int] = ..., equity_e9: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
