"""WebSocket engine core (the pure part): bus messages to numbered, filtered `FrontendUpdate`s
and browser frames."""

from nautilus.engines.websocket.core import (
    FrontendEncoder,
    NotABusMessageError,
    WebSocketConfig,
    browser_frame,
    payload_json,
)
from nautilus.engines.websocket.topics import TopicFilter, snake_case, topic_for

__all__ = [
    "FrontendEncoder",
    "NotABusMessageError",
    "TopicFilter",
    "WebSocketConfig",
    "browser_frame",
    "payload_json",
    "snake_case",
    "topic_for",
]
