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

Operators inspect, replay and purge dead letters (`nautilus dlq`) with the functions at the end of
this module. Replay is atomic per entry (one server-side script): the original fields go back to
their lane and the dead letter is deleted together, so a crash can never lose an entry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.errors import DeadLetterReason
from nautilus.runtime.lanes import dead_letter_stream, lanes_in_read_order
from nautilus.runtime.transport.base import Entry

__all__ = [
    "DL_FIELD_PREFIX",
    "DeadLetter",
    "ReplayedDeadLetter",
    "dead_letter_fields",
    "purge_dead_letters",
    "read_dead_letters",
    "replay_dead_letters",
    "select_dead_letters",
]

DL_FIELD_PREFIX = b"dl."


#: `dl.detail` is at most this many bytes of UTF-8 (docs/wire-format.md).
_DETAIL_MAX_BYTES = 4096


def _detail_bytes(detail: str) -> bytes:
    """`detail` as UTF-8, cut to the cap without leaving part of a character behind."""
    encoded = detail.encode(errors="replace")[:_DETAIL_MAX_BYTES]
    return encoded.decode(errors="ignore").encode()


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
        _detail_bytes(detail),
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


@dataclass(frozen=True, slots=True)
class ReplayedDeadLetter:
    """One replayed dead letter: where it went back to and its new id there."""

    dead_letter_id: str
    lane: str
    #: Id of the re-published entry; None when the dead letter was already gone (replayed or
    #: purged concurrently), in which case nothing was written.
    new_id: str | None


# Atomic per entry: nothing happens when the dead letter is gone (no double replay); the XADD comes
# before the XDEL, so a failing XADD aborts the script before anything is deleted.
_REPLAY_SCRIPT = """
if #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) == 0 then return false end
local new_id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('XDEL', KEYS[2], ARGV[1])
return new_id
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def read_dead_letters(
    redis: RedisAdmin | Redis,
    stream: str,
    *,
    start: str = "-",
    end: str = "+",
    count: int | None = None,
) -> list[DeadLetter]:
    """Dead letters of route stream `stream`, oldest first: ids `start`..`end`, at most `count`.

    Raises ServerUnreachableError or ServerRejectedError (runtime/admin.py).
    """
    entries = await RedisAdmin.of(redis).entries(dead_letter_stream(stream), start, end, count)
    return [DeadLetter.from_entry(entry) for entry in entries]


def select_dead_letters(
    letters: Iterable[DeadLetter],
    *,
    ids: Collection[str] | None = None,
    reasons: Collection[DeadLetterReason] | None = None,
) -> list[DeadLetter]:
    """The dead letters whose id is in `ids` and whose reason is in `reasons` (None: any)."""
    return [
        letter
        for letter in letters
        if (ids is None or letter.dead_letter_id in ids)
        and (reasons is None or letter.reason in reasons)
    ]


async def replay_dead_letters(
    redis: RedisAdmin | Redis, stream: str, letters: Sequence[DeadLetter]
) -> list[ReplayedDeadLetter]:
    """Put each dead letter's original fields back on its original lane, then delete it.

    Each entry moves in one server-side script (XADD to `dl.lane`, XDEL from the dead-letter
    stream), so a crash part-way through a batch leaves every entry in exactly one of the two
    places. The replayed entry gets a new id and is read again by every consumer group of the lane:
    a group that had already handled it sees a duplicate, which at-least-once handlers tolerate.

    Raises ValueError, before anything is moved, when a letter's lane is not a lane of `stream`;
    ServerUnreachableError or ServerRejectedError when the server cannot be reached or refuses
    (entries replayed so far stay replayed).
    """
    admin = RedisAdmin.of(redis)
    lanes = lanes_in_read_order(stream)
    for letter in letters:
        if letter.lane not in lanes:
            raise ValueError(
                f"dead letter {letter.dead_letter_id} names lane {letter.lane!r}, "
                f"which is not a lane of {stream!r} {list(lanes)}"
            )
    dead_letters = dead_letter_stream(stream)
    results = []
    for letter in letters:
        arguments: list[bytes | str] = [letter.dead_letter_id]
        for name, value in letter.original_fields.items():
            arguments += (name, value)
        new_id = await admin.run_script(
            "replay dead letter", _REPLAY_SCRIPT, (letter.lane, dead_letters), *arguments
        )
        results.append(
            ReplayedDeadLetter(
                letter.dead_letter_id, letter.lane, None if new_id is None else _text(new_id)
            )
        )
    return results


async def purge_dead_letters(redis: RedisAdmin | Redis, stream: str, ids: Sequence[str]) -> int:
    """Delete dead letters `ids` of route stream `stream` for good; the number deleted."""
    return await RedisAdmin.of(redis).delete_entries(dead_letter_stream(stream), ids)
