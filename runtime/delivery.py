"""`Delivery`: one decoded message handed to a handler, with its envelope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, NamedTuple, TypeVar

from google.protobuf.message import Message

from nautilus.runtime.priority import MessagePriority

__all__ = ["Delivery", "Handler", "M"]

M = TypeVar("M", bound=Message)


class Delivery(NamedTuple, Generic[M]):
    """A message and where it came from; immutable.

    The entry is acknowledged only after the handler returns; a handler that raises gets the entry
    again (possibly in another process) until `max_deliveries`, then it goes to the dead-letter
    stream. Handlers must therefore be idempotent: delivery is at least once. Types a route
    declares best effort for this engine (quotes) are read without acknowledgement: never
    redelivered, dead-lettered at once when the handler raises, lost if the process dies first.

    A named tuple rather than a frozen dataclass: one is made per message on the consumer's hot
    path, and a tuple is built about four times faster (0.3 µs against 1.2 µs).
    """

    message: M
    message_type: str
    #: The route stream, and the lane key the entry was read from.
    stream: str
    lane: str
    entry_id: str
    producer: str
    published_at_ns: int
    priority: MessagePriority
    key: str | None
    trace_context: str | None
    #: 1 on first delivery; higher when the entry was reclaimed after a failure or a dead consumer.
    delivery_count: int


#: A handler for messages of type M: a coroutine function, or a plain function.
Handler = Callable[[Delivery[M]], Awaitable[None] | None]
