from nautilus.bus.v1 import options_pb2 as _options_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FrontendUpdate(_message.Message):
    __slots__ = ("topic", "source_type", "source_engine", "payload_json", "sequence", "instrument_id", "ts_event", "ts_init")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ENGINE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    topic: str
    source_type: str
    source_engine: _options_pb2.Engine
    payload_json: str
    sequence: int
    instrument_id: str
    ts_event: int
    ts_init: int
    def __init__(self, topic: _Optional[str] = ..., source_type: _Optional[str] = ..., source_engine: _Optional[_Union[_options_pb2.Engine, str]] = ..., payload_json: _Optional[str] = ..., sequence: _Optional[int] = ..., instrument_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
