"""The runtime's errors: types that carry the context needed to act on them."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BackpressureError",
    "ClientStateError",
    "DeadLetterReason",
    "MessageBusError",
    "PublishRejectedError",
    "RegistryEntryError",
    "RoutingError",
    "SchemaNotRegisteredError",
    "ServerRejectedError",
    "ServerUnreachableError",
    "TransportError",
    "UndeliverableEntryError",
]


class MessageBusError(Exception):
    """Base class of every error the runtime raises on purpose."""


class DeadLetterReason(StrEnum):
    """Why an entry was moved to a dead-letter stream (the `dl.reason` field)."""

    #: The entry is not a valid wire-format entry: missing or malformed fields, or a payload that
    #: is not a valid protobuf encoding of its declared type.
    UNDECODABLE = "undecodable"
    #: The entry's wire-format version is not one this client reads.
    UNSUPPORTED_VERSION = "unsupported-version"
    #: No schema for the entry's message type is known to the consumer.
    UNKNOWN_TYPE = "unknown-type"
    #: The writer's schema fingerprint is not one the consumer can read.
    FINGERPRINT_MISMATCH = "fingerprint-mismatch"
    #: The writer's fingerprint is not in the schema registry (registry-backed resolvers).
    UNKNOWN_FINGERPRINT = "unknown-fingerprint"
    #: The registry has the writer's schema, and the consumer's schema cannot read it.
    INCOMPATIBLE_SCHEMA = "incompatible-schema"
    #: The handler failed (or its consumer died) on every one of `max_deliveries` deliveries.
    MAX_DELIVERIES = "max-deliveries"
    #: The entry's type is not routed on the stream it was read from, or its producer field is not
    #: the route's producer: it must not reach a handler.
    MISROUTED = "misrouted"


class UndeliverableEntryError(MessageBusError):
    """A stream entry that cannot be handed to a handler; it belongs in the dead-letter stream."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class RoutingError(MessageBusError):
    """The route of a message type does not allow this engine to publish or consume it."""

    def __init__(self, message_type: str, engine: str, action: str, reason: str) -> None:
        super().__init__(f"engine {engine!r} may not {action} {message_type}: {reason}")
        self.message_type = message_type
        self.engine = engine
        self.action = action
        self.reason = reason


class BackpressureError(MessageBusError):
    """The producer's bounded buffer is full: the message was not accepted (never dropped silently).

    Raised at once under the "raise" policy, or after `backpressure_timeout_s` under "block".
    """

    def __init__(self, stream: str, buffered: int, limit: int, waited_s: float = 0.0) -> None:
        super().__init__(
            f"publish to {stream!r} refused: {buffered} messages unsent, limit {limit}"
            + (f", waited {waited_s:.3f}s" if waited_s else "")
        )
        self.stream = stream
        self.buffered = buffered
        self.limit = limit
        self.waited_s = waited_s


class TransportError(MessageBusError):
    """The server could not be reached or refused a command; the operation may be retried."""

    def __init__(self, operation: str, detail: str) -> None:
        super().__init__(f"{operation}: {detail}")
        self.operation = operation
        self.detail = detail


class ServerUnreachableError(TransportError):
    """The server could not be reached, or cannot answer yet (connection refused or lost, timeout,
    loading its data set): the same command may succeed later, so callers retry with backoff."""


class ServerRejectedError(TransportError):
    """The server answered the command with an error (WRONGTYPE, NOPERM, OOM, a bad argument,
    failed authentication): repeating it unchanged fails again, so it is surfaced, not retried.

    `reply` is the server's error reply as it sent it.
    """

    def __init__(self, operation: str, reply: str) -> None:
        super().__init__(operation, reply)
        self.reply = reply


class PublishRejectedError(MessageBusError):
    """The server refused to store a published message, for good: the message was not written.

    `reply` is the server's error reply (e.g. "WRONGTYPE Operation against a key holding the wrong
    kind of value"), `kind` its first word. Raised by a publish that waits for its message to land,
    and by `flush()`/`close()` for messages published without waiting (`count` of them since the
    last report, `reply` the first one's). Rejections that can pass (LOADING, BUSY, ...) are retried
    first and become this error only when they outlast `rejected_write_timeout_s`.
    """

    def __init__(
        self, lane: str, reply: str, count: int = 1, message_type: str = "", sequence: int = 0
    ) -> None:
        what = f"{count} messages" if count != 1 else f"message {message_type or ''}".rstrip()
        super().__init__(f"{what} rejected by the server on {lane!r}: {reply}")
        self.lane = lane
        self.reply = reply
        self.kind = reply.split(" ", 1)[0]
        self.count = count
        self.message_type = message_type
        #: The entry's per-lane sequence number (`sq`), 0 when unknown.
        self.sequence = sequence


class ClientStateError(MessageBusError):
    """An operation was attempted in a client state that does not allow it (e.g. after close)."""


class SchemaNotRegisteredError(MessageBusError):
    """A producer's schemas are not in the registry and this identity may not register them.

    Registering is the schema-admin identity's job (the generated ACL gives engines read access
    to the registry only), so the producer refuses to start and says what to run.
    """

    def __init__(self, engine: str, missing: dict[str, str], detail: str = "") -> None:
        listed = ", ".join(f"{name} ({fp})" for name, fp in sorted(missing.items()))
        super().__init__(
            f"engine {engine!r} cannot start: schemas not registered: {listed}"
            + (f" ({detail})" if detail else "")
            + "; register them with the schema-admin identity: "
            "nautilus schema register --all --redis-url redis://schema-admin:PASSWORD@HOST:PORT"
        )
        self.engine = engine
        self.missing = dict(missing)
        self.detail = detail


class RegistryEntryError(MessageBusError):
    """An entry of the schema registry is malformed (or was tampered with): `key` says which."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"schema registry entry {key} is malformed: {detail}")
        self.key = key
        self.detail = detail
