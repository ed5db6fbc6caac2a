from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessagePriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_PRIORITY_UNSPECIFIED: _ClassVar[MessagePriority]
    MESSAGE_PRIORITY_LOW: _ClassVar[MessagePriority]
    MESSAGE_PRIORITY_NORMAL: _ClassVar[MessagePriority]
    MESSAGE_PRIORITY_HIGH: _ClassVar[MessagePriority]
    MESSAGE_PRIORITY_URGENT: _ClassVar[MessagePriority]
    MESSAGE_PRIORITY_CRITICAL: _ClassVar[MessagePriority]

class Engine(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENGINE_UNSPECIFIED: _ClassVar[Engine]
    ENGINE_VPIN: _ClassVar[Engine]
    ENGINE_RISK: _ClassVar[Engine]
    ENGINE_ML: _ClassVar[Engine]
    ENGINE_FEATURES: _ClassVar[Engine]
    ENGINE_ANALYTICS: _ClassVar[Engine]
    ENGINE_STRATEGY: _ClassVar[Engine]
    ENGINE_PORTFOLIO: _ClassVar[Engine]
    ENGINE_MARKET_DATA: _ClassVar[Engine]
    ENGINE_FACTOR: _ClassVar[Engine]
    ENGINE_COLLATERAL: _ClassVar[Engine]
    ENGINE_WEBSOCKET: _ClassVar[Engine]
    ENGINE_TORANIKO: _ClassVar[Engine]
    ENGINE_FRONTEND: _ClassVar[Engine]
MESSAGE_PRIORITY_UNSPECIFIED: MessagePriority
MESSAGE_PRIORITY_LOW: MessagePriority
MESSAGE_PRIORITY_NORMAL: MessagePriority
MESSAGE_PRIORITY_HIGH: MessagePriority
MESSAGE_PRIORITY_URGENT: MessagePriority
MESSAGE_PRIORITY_CRITICAL: MessagePriority
ENGINE_UNSPECIFIED: Engine
ENGINE_VPIN: Engine
ENGINE_RISK: Engine
ENGINE_ML: Engine
ENGINE_FEATURES: Engine
ENGINE_ANALYTICS: Engine
ENGINE_STRATEGY: Engine
ENGINE_PORTFOLIO: Engine
ENGINE_MARKET_DATA: Engine
ENGINE_FACTOR: Engine
ENGINE_COLLATERAL: Engine
ENGINE_WEBSOCKET: Engine
ENGINE_TORANIKO: Engine
ENGINE_FRONTEND: Engine
ENGINE_FIELD_NUMBER: _ClassVar[int]
engine: _descriptor.FieldDescriptor
ROUTE_FIELD_NUMBER: _ClassVar[int]
route: _descriptor.FieldDescriptor

class EngineSpec(_message.Message):
    __slots__ = ("name", "display_name", "port", "stream", "external")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    port: int
    stream: str
    external: bool
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., port: _Optional[int] = ..., stream: _Optional[str] = ..., external: _Optional[bool] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("stream", "producer", "consumers", "priority")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    stream: str
    producer: Engine
    consumers: _containers.RepeatedScalarFieldContainer[Engine]
    priority: MessagePriority
    def __init__(self, stream: _Optional[str] = ..., producer: _Optional[_Union[Engine, str]] = ..., consumers: _Optional[_Iterable[_Union[Engine, str]]] = ..., priority: _Optional[_Union[MessagePriority, str]] = ...) -> None: ...
