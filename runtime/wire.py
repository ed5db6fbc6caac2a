"""The stream-entry layout (wire format version 1), shared by every publisher and consumer.

One message is one stream entry whose field/value pairs are byte strings:

    v   wire-format version, b"1"
    t   message type, the protobuf full name (b"nautilus.vpin.v1.ToxicityAlert")
    f   schema fingerprint of the writer's type, 16 lowercase hex characters
    p   payload: the message's protobuf binary encoding
    s   producer: the publishing engine's name (b"vpin")
    ts  publish time, integer ns since the Unix epoch, decimal ASCII, from the publisher's clock
    pr  priority, decimal ASCII 1..5 (MessagePriority)
    pi  optional: producer instance, 16 lowercase hex characters, new for each publisher instance
    sq  optional (with pi): the instance's sequence number on this lane, decimal ASCII from 1
    k   optional: partition key (UTF-8), e.g. the instrument id
    tc  optional: trace context, a W3C `traceparent` value

Writers emit the fields in this order; readers accept any order and ignore fields they do not know,
so later versions can add fields without a version bump. docs/wire-format.md is the normative text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nautilus.runtime.errors import DeadLetterReason, UndeliverableEntryError
from nautilus.runtime.priority import MessagePriority

__all__ = [
    "FIELD_FINGERPRINT",
    "FIELD_KEY",
    "FIELD_PAYLOAD",
    "FIELD_PRIORITY",
    "FIELD_PRODUCER",
    "FIELD_PRODUCER_INSTANCE",
    "FIELD_PUBLISHED_AT",
    "FIELD_SEQUENCE",
    "FIELD_TRACE_CONTEXT",
    "FIELD_TYPE",
    "FIELD_VERSION",
    "WIRE_VERSION",
    "EncodedEntry",
    "WireEntry",
    "WireValues",
    "decode_entry",
    "decode_values",
    "encode_entry",
]

WIRE_VERSION = b"1"
FIELD_VERSION = b"v"
FIELD_TYPE = b"t"
FIELD_FINGERPRINT = b"f"
FIELD_PAYLOAD = b"p"
FIELD_PRODUCER = b"s"
FIELD_PUBLISHED_AT = b"ts"
FIELD_PRIORITY = b"pr"
FIELD_PRODUCER_INSTANCE = b"pi"
FIELD_SEQUENCE = b"sq"
FIELD_KEY = b"k"
FIELD_TRACE_CONTEXT = b"tc"

#: A stream entry ready to write: field, value, field, value, ... (the XADD argument order).
EncodedEntry = tuple[bytes, ...]

_PRIORITY_BYTES = {p: str(int(p)).encode() for p in MessagePriority}
_PRIORITY_BY_BYTES = {v: p for p, v in _PRIORITY_BYTES.items()}
_REQUIRED = (FIELD_TYPE, FIELD_FINGERPRINT, FIELD_PAYLOAD, FIELD_PRODUCER, FIELD_PUBLISHED_AT)


def encode_entry(
    message_type: bytes,
    fingerprint: bytes,
    payload: bytes,
    *,
    producer: bytes,
    published_at_ns: int,
    priority: MessagePriority,
    key: str | None = None,
    trace_context: str | None = None,
    instance: bytes | None = None,
    sequence: int = 0,
) -> EncodedEntry:
    """The fields of one entry; type, fingerprint and producer arrive pre-encoded per type.

    With `instance`, the entry carries the producer instance and its per-lane `sequence`: what a
    publisher reads back after losing a connection to resend only the entries the server lacks.
    """
    entry: EncodedEntry
    if instance is None:
        entry = (
            FIELD_VERSION,
            WIRE_VERSION,
            FIELD_TYPE,
            message_type,
            FIELD_FINGERPRINT,
            fingerprint,
            FIELD_PAYLOAD,
            payload,
            FIELD_PRODUCER,
            producer,
            FIELD_PUBLISHED_AT,
            b"%d" % published_at_ns,
            FIELD_PRIORITY,
            _PRIORITY_BYTES[priority],
        )
    else:
        entry = (
            FIELD_VERSION,
            WIRE_VERSION,
            FIELD_TYPE,
            message_type,
            FIELD_FINGERPRINT,
            fingerprint,
            FIELD_PAYLOAD,
            payload,
            FIELD_PRODUCER,
            producer,
            FIELD_PUBLISHED_AT,
            b"%d" % published_at_ns,
            FIELD_PRIORITY,
            _PRIORITY_BYTES[priority],
            FIELD_PRODUCER_INSTANCE,
            instance,
            FIELD_SEQUENCE,
            b"%d" % sequence,
        )
    if key is not None:
        entry += (FIELD_KEY, key.encode())
    if trace_context is not None:
        entry += (FIELD_TRACE_CONTEXT, trace_context.encode())
    return entry


@dataclass(frozen=True, slots=True)
class WireEntry:
    """A decoded entry whose payload has not yet been parsed (that needs the type's schema)."""

    message_type: str
    fingerprint: str
    payload: bytes
    producer: str
    published_at_ns: int
    priority: MessagePriority
    key: str | None
    trace_context: str | None


def _undecodable(detail: str) -> UndeliverableEntryError:
    return UndeliverableEntryError(DeadLetterReason.UNDECODABLE, detail)


#: The values of a decoded entry, in `WireEntry`'s field order.
WireValues = tuple[str, str, bytes, str, int, MessagePriority, str | None, str | None]


def decode_entry(fields: Mapping[bytes, bytes]) -> WireEntry:
    """Validate and decode an entry's fields.

    Raises UndeliverableEntryError (UNDECODABLE or UNSUPPORTED_VERSION) for anything that is not a
    well-formed version-1 entry, so callers can dead-letter it with the reason.
    """
    return WireEntry(*decode_values(fields))


def _missing(fields: Mapping[bytes, bytes]) -> UndeliverableEntryError | None:
    missing = [name.decode() for name in _REQUIRED if name not in fields]
    return _undecodable(f"missing fields {missing}") if missing else None


def decode_values(fields: Mapping[bytes, bytes]) -> WireValues:
    """`decode_entry` as a plain tuple, with the same checks: the consumer's per-entry path.

    The well-formed case costs one lookup per field; the reasons for a rejection are worked out
    only when something is wrong.
    """
    version = fields.get(FIELD_VERSION)
    if version != WIRE_VERSION:
        if version is None:
            raise _undecodable("missing field 'v' (wire-format version)")
        raise UndeliverableEntryError(
            DeadLetterReason.UNSUPPORTED_VERSION, f"wire-format version {version!r} is not 1"
        )
    try:
        message_type = fields[FIELD_TYPE].decode("ascii")
        fingerprint = fields[FIELD_FINGERPRINT].decode("ascii")
        payload = fields[FIELD_PAYLOAD]
        producer = fields[FIELD_PRODUCER].decode("ascii")
        stamp = fields[FIELD_PUBLISHED_AT]
        if not stamp.isdigit():  # ASCII digits only: no sign, space or underscore int() allows
            raise ValueError(f"ts {stamp!r} is not decimal ASCII digits")
        published_at_ns = int(stamp)
        key_bytes = fields.get(FIELD_KEY)
        trace_bytes = fields.get(FIELD_TRACE_CONTEXT)
        key = None if key_bytes is None else key_bytes.decode()
        trace_context = None if trace_bytes is None else trace_bytes.decode("ascii")
    except KeyError:
        raise _missing(fields) or _undecodable("missing fields") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise _missing(fields) or _undecodable(f"malformed header field: {exc}") from None
    priority = _PRIORITY_BY_BYTES.get(fields.get(FIELD_PRIORITY, b""))
    if priority is None:
        raise _undecodable(f"malformed priority {fields.get(FIELD_PRIORITY)!r}")
    return (
        message_type,
        fingerprint,
        payload,
        producer,
        published_at_ns,
        priority,
        key,
        trace_context,
    )
