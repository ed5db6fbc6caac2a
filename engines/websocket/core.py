"""WebSocket: bus messages rendered as `FrontendUpdate`s (and browser frames).

The payload is the proto3 JSON mapping of the message as produced by
`google.protobuf.json_format.MessageToDict` with default options (lowerCamelCase names, int64 and
uint64 as strings, enums by name, fields at their default value omitted), serialised compactly in
field order, so the same message always yields the same bytes and validates against the
generated JSON Schemas. The producer engine comes from the message's route option. Sequence
numbers count the updates actually emitted, from 1, without gaps; filtered-out messages do not
consume a number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from nautilus.bus.v1 import options_pb2
from nautilus.engines.websocket.topics import TopicFilter, topic_for
from nautilus.websocket.v1.websocket_pb2 import FrontendUpdate

__all__ = [
    "FrontendEncoder",
    "NotABusMessageError",
    "WebSocketConfig",
    "browser_frame",
    "payload_json",
]


class NotABusMessageError(TypeError):
    """The message has no route option, so it is not something the bus carries."""

    def __init__(self, full_name: str) -> None:
        super().__init__(f"{full_name} has no (nautilus.bus.v1.route) option")
        self.full_name = full_name


@dataclass(frozen=True, slots=True)
class WebSocketConfig:
    """Which topics reach browsers, and which producers get per-instrument topics."""

    topic_filter: TopicFilter = field(default_factory=TopicFilter)
    per_instrument_engines: tuple[str, ...] = ("marketdata",)

    def __post_init__(self) -> None:
        if not self.topic_filter.include:
            raise ValueError("topic_filter.include must not be empty (use '*' for everything)")


@dataclass(frozen=True, slots=True)
class _Source:
    engine: options_pb2.Engine.ValueType
    engine_name: str


def _source(message: Message) -> _Source:
    descriptor = message.DESCRIPTOR
    options = descriptor.GetOptions()
    if not options.HasExtension(options_pb2.route):
        raise NotABusMessageError(descriptor.full_name)
    producer = options.Extensions[options_pb2.route].producer
    value = options_pb2.Engine.DESCRIPTOR.values_by_number[producer]
    spec = value.GetOptions().Extensions[options_pb2.engine]
    return _Source(producer, spec.name)


def payload_json(message: Message) -> str:
    """The message in the proto3 JSON mapping, compact and deterministic."""
    return json.dumps(json_format.MessageToDict(message), separators=(",", ":"))


class FrontendEncoder:
    """Turns bus messages into numbered `FrontendUpdate`s, applying the topic filter."""

    def __init__(self, config: WebSocketConfig | None = None) -> None:
        self.config = config or WebSocketConfig()
        self._sequence = 0
        self._sources: dict[str, _Source] = {}

    @property
    def sequence(self) -> int:
        """Sequence number of the last update emitted (0 before the first)."""
        return self._sequence

    def topic(self, message: Message) -> str:
        """The topic `message` would be published under."""
        source = self._source(message)
        instrument_id = str(getattr(message, "instrument_id", ""))
        per_instrument = source.engine_name in self.config.per_instrument_engines
        return topic_for(source.engine_name, message.DESCRIPTOR.name, instrument_id, per_instrument)

    def encode(self, message: Message, now_ns: int) -> FrontendUpdate | None:
        """The update for `message`, or None when the filter drops it."""
        source = self._source(message)
        instrument_id = str(getattr(message, "instrument_id", ""))
        topic = self.topic(message)
        if not self.config.topic_filter.allows(topic, instrument_id):
            return None
        self._sequence += 1
        return FrontendUpdate(
            topic=topic,
            source_type=message.DESCRIPTOR.full_name,
            source_engine=source.engine,
            payload_json=payload_json(message),
            sequence=self._sequence,
            instrument_id=instrument_id,
            ts_event=int(getattr(message, "ts_event", 0)),
            ts_init=now_ns,
        )

    def _source(self, message: Message) -> _Source:
        name = message.DESCRIPTOR.full_name
        source = self._sources.get(name)
        if source is None:
            source = self._sources[name] = _source(message)
        return source


def browser_frame(update: FrontendUpdate) -> str:
    """The text frame sent to browsers: the update in the proto3 JSON mapping, with the payload
    embedded as a JSON object under `payload` instead of the `payloadJson` string."""
    frame: dict[str, Any] = json_format.MessageToDict(update)
    frame["payload"] = json.loads(frame.pop("payloadJson", "{}"))
    return json.dumps(frame, separators=(",", ":"))
