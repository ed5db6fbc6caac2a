"""The Transport protocol: the stream operations the bus needs, and nothing more.

Two implementations honour it: `RedisTransport` (Redis Streams commands) and `InMemoryTransport`
(the same semantics in process, for backtests). The bus above talks only to this protocol, so
both run the same contract tests.

Entry ids are strings in Redis's `<ms>-<seq>` form and compare as (ms, seq). Entry fields are
`bytes -> bytes` mappings. Writes are prepared first (`prepare_add`, where the Redis transport
packs the whole command once) and sent in batches (`send_adds`, one write per batch), which
report one outcome per write (`outcomes.BatchOutcome`): an id, or the server's rejection. A
publisher writing many entries of one lane, type and priority gets a preparer for them once
(`add_preparer`), so that a publish formats only the values that change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from nautilus.runtime.transport.outcomes import BatchOutcome
from nautilus.runtime.wire import (
    FIELD_FINGERPRINT,
    FIELD_PAYLOAD,
    FIELD_PRIORITY,
    FIELD_PRODUCER,
    FIELD_PRODUCER_INSTANCE,
    FIELD_PUBLISHED_AT,
    FIELD_SEQUENCE,
    FIELD_TYPE,
    FIELD_VERSION,
    EncodedEntry,
)

__all__ = [
    "PER_MESSAGE_SLOTS",
    "SEQUENCED_NAMES",
    "AddPreparer",
    "ClaimResult",
    "Entry",
    "GroupState",
    "PreparedAdd",
    "Transport",
    "check_sequenced_entry",
    "parse_entry_id",
]

#: One stream entry as read: (id, fields).
Entry = tuple[str, Mapping[bytes, bytes]]

#: A write prepared by a transport for `send_adds`; opaque to the bus.
PreparedAdd = object

#: Prepares the write of one entry of a fixed lane and layout from the values that change per
#: message: (payload, publish time in ns, sequence) -> what `prepare_add` gives for that entry.
AddPreparer = Callable[[bytes, int, int], PreparedAdd]

#: The field names of a sequenced entry of `wire.encode_entry` without key or trace context, and
#: the positions of its values that an `AddPreparer` fills: payload, publish time, sequence.
SEQUENCED_NAMES = (
    FIELD_VERSION,
    FIELD_TYPE,
    FIELD_FINGERPRINT,
    FIELD_PAYLOAD,
    FIELD_PRODUCER,
    FIELD_PUBLISHED_AT,
    FIELD_PRIORITY,
    FIELD_PRODUCER_INSTANCE,
    FIELD_SEQUENCE,
)
PER_MESSAGE_SLOTS = (7, 11, 17)


@dataclass(frozen=True, slots=True)
class GroupState:
    """What trimming needs to know about one consumer group of a stream."""

    name: str
    #: Id of the last entry delivered to the group ("0-0" when none).
    last_delivered_id: str
    #: Entries delivered to the group and not yet acknowledged.
    pending: int
    #: Smallest pending id, or None when nothing is pending.
    first_pending_id: str | None


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """One XAUTOCLAIM step: entries now owned by the claimer, and where to continue."""

    next_start: str
    entries: list[Entry]
    #: Pending ids whose entries no longer exist (trimmed); already removed from the pending list.
    deleted_ids: list[str]


def parse_entry_id(entry_id: str) -> tuple[int, int]:
    """`"<ms>-<seq>"` as a comparable pair."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def check_sequenced_entry(entry: EncodedEntry) -> None:
    """ValueError unless `entry` has the layout `Transport.add_preparer` takes."""
    if len(entry) != 2 * len(SEQUENCED_NAMES) or entry[::2] != SEQUENCED_NAMES:
        raise ValueError(
            f"not a sequenced wire entry without key or trace context: fields {entry[::2]!r}"
        )


class Transport(Protocol):
    """Stream storage with consumer groups, as the bus uses it.

    Every method may raise TransportError when the server cannot be reached; callers retry.
    """

    #: Connections to the server lost so far, by any caller of this transport: a publisher that
    #: shares its transport with a consumer learns of an outage (a failover) the consumer met.
    connection_losses: int

    def prepare_add(self, key: str, fields: EncodedEntry) -> PreparedAdd:
        """Prepare an append of `fields` to stream `key` (cheap; done at publish time)."""
        ...

    def add_preparer(self, key: str, entry: EncodedEntry) -> AddPreparer:
        """`prepare_add` for the entries of `key` that are `entry` but for their payload, publish
        time and sequence (`entry` is a sequenced entry of `wire.encode_entry` without key or
        trace context; ValueError otherwise). What stays the same is encoded once, here.
        """
        ...

    async def send_adds(self, batch: Sequence[PreparedAdd]) -> BatchOutcome:
        """Append a batch in order, in one round trip; one outcome per write, in batch order.

        Each write is judged on its own: written (its id) or rejected (the server's reply). The
        outcomes may cover only a prefix of the batch: the rest was not sent. Appends to one key
        are applied in batch order. When the connection breaks first, WriteInterruptedError carries
        the outcomes that arrived; the others are unknown.
        """
        ...

    def describe_add(self, prepared: PreparedAdd) -> tuple[str, Mapping[bytes, bytes]]:
        """The lane key and the fields of a prepared write (error reports and read-back)."""
        ...

    async def find_written(self, batch: Sequence[PreparedAdd], since_ms: int) -> list[bool]:
        """Which writes of `batch`, whose replies were lost, the server holds (True), in order.

        Decided by the producer-instance and sequence fields (`pi`, `sq`) of each lane's entries
        newer than `since_ms` (server clock), read back from the lane's tail; writes without them
        count as not held.
        """
        ...

    async def ensure_group(self, key: str, group: str) -> None:
        """Create `group` on `key` (and the stream) reading from the start; no-op if it exists."""
        ...

    async def read_group(
        self,
        group: str,
        consumer: str,
        keys: Sequence[str],
        *,
        count: int,
        block_ms: int | None,
        noack: bool = False,
    ) -> list[tuple[str, list[Entry]]]:
        """New entries for `consumer` (XREADGROUP `>`), up to `count` per key, keys in given order.

        Blocks up to `block_ms` when nothing is available (None: do not block). With `noack`
        (XREADGROUP ... NOACK) the entries do not enter the group's pending entries: they are
        delivered once, never acknowledged, renewed or reclaimed.
        """
        ...

    async def ack(self, key: str, group: str, ids: Sequence[str]) -> int:
        """Acknowledge `ids`; the number that were pending."""
        ...

    async def autoclaim(
        self, key: str, group: str, consumer: str, *, min_idle_ms: int, start: str, count: int
    ) -> ClaimResult:
        """Transfer to `consumer` up to `count` entries pending longer than `min_idle_ms`.

        Each claimed entry's delivery count goes up by one.
        """
        ...

    async def delivery_counts(self, key: str, group: str, ids: Sequence[str]) -> dict[str, int]:
        """How many times each of `ids` (pending in `group`) has been delivered."""
        ...

    async def keep_claimed(
        self, key: str, group: str, consumer: str, ids: Sequence[str]
    ) -> list[str]:
        """Renew `consumer`'s claim on `ids` (XCLAIM ... 0 ... JUSTID): their idle time restarts.

        Delivery counts are left alone. Returns the ids still pending in `group`; the others were
        acknowledged (by a consumer that took them over) or deleted meanwhile.
        """
        ...

    async def remove_consumers(
        self,
        key: str,
        group: str,
        *,
        min_idle_ms: int,
        names: Sequence[str] | None = None,
    ) -> list[str]:
        """Delete consumers of `group` (all, or those in `names`) that hold no pending entry and
        have been idle at least `min_idle_ms`; the names deleted.

        Deleting a consumer drops its pending entries, so callers ask only for consumers that
        cannot read meanwhile: themselves once their loop has stopped, or consumers idle for
        minutes (dead processes).
        """
        ...

    async def group_states(self, key: str) -> list[GroupState]:
        """Every consumer group of `key`; empty when the stream does not exist."""
        ...

    async def length(self, key: str) -> int:
        """Number of entries in `key` (0 when missing)."""
        ...

    async def id_at(self, key: str, index: int) -> str | None:
        """Id of the entry at position `index` (0 = oldest), None when out of range."""
        ...

    async def trim_before(self, key: str, min_id: str) -> int:
        """Delete entries with ids below `min_id` (XTRIM MINID, exact); the number deleted."""
        ...

    async def add_one(self, key: str, fields: EncodedEntry) -> str:
        """Append one entry immediately (dead letters, tools); its id."""
        ...

    async def range(self, key: str, start: str = "-", end: str = "+") -> list[Entry]:
        """Entries of `key` between `start` and `end` inclusive (dead letters, inspection)."""
        ...

    async def close(self) -> None:
        """Release connections; the transport is unusable afterwards."""
        ...
