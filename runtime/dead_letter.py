"""Dead-letter entries: the original entry, unchanged, plus why and where it failed.

A dead-letter entry keeps every field of the original entry (even when they are garbage) and adds:

    dl.reason      a DeadLetterReason value ("undecodable", "max-deliveries", ...)
    dl.detail      human-readable detail (exception text, mismatching fingerprints)
    dl.id          the original entry id
    dl.lane        the lane key the original was read from
    dl.group       consumer group that gave up on it
    dl.consumer    consumer that moved it
    dl.deliveries  delivery count when it was moved
    dl.ts          when it was moved, ns since the Unix epoch, from the consumer's clock
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nautilus.runtime.errors import DeadLetterReason
from nautilus.runtime.transport.base import Entry

__all__ = ["DL_FIELD_PREFIX", "DeadLetter", "dead_letter_fields"]

DL_FIELD_PREFIX = b"dl."


def dead_letter_fields(
    original: Mapping[bytes, bytes],
    *,
    reason: DeadLetterReason,
    detail: str,
    entry_id: str,
    lane: str,
    group: str,
    consumer: str,
    deliveries: int,
    dead_lettered_at_ns: int,
) -> tuple[bytes, ...]:
    """The fields of the dead-letter entry for `original`."""
    fields: list[bytes] = []
    for name, value in original.items():
        if not name.startswith(DL_FIELD_PREFIX):
            fields += (name, value)
    fields += (
        b"dl.reason",
        reason.value.encode(),
        b"dl.detail",
        detail.encode(errors="replace")[:4096],
        b"dl.id",
        entry_id.encode(),
        b"dl.lane",
        lane.encode(),
        b"dl.group",
        group.encode(),
        b"dl.consumer",
        consumer.encode(),
        b"dl.deliveries",
        b"%d" % deliveries,
        b"dl.ts",
        b"%d" % dead_lettered_at_ns,
    )
    return tuple(fields)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead-letter entry read back (operators, tests, replay tools)."""

    dead_letter_id: str
    reason: DeadLetterReason
    detail: str
    original_id: str
    lane: str
    group: str
    consumer: str
    deliveries: int
    dead_lettered_at_ns: int
    #: The original entry's fields, exactly as they were.
    original_fields: dict[bytes, bytes]

    @classmethod
    def from_entry(cls, entry: Entry) -> DeadLetter:
        entry_id, fields = entry

        def text(name: str) -> str:
            return fields.get(b"dl." + name.encode(), b"").decode(errors="replace")

        return cls(
            dead_letter_id=entry_id,
            reason=DeadLetterReason(text("reason")),
            detail=text("detail"),
            original_id=text("id"),
            lane=text("lane"),
            group=text("group"),
            consumer=text("consumer"),
            deliveries=int(text("deliveries") or 0),
            dead_lettered_at_ns=int(text("ts") or 0),
            original_fields={k: v for k, v in fields.items() if not k.startswith(DL_FIELD_PREFIX)},
        )
