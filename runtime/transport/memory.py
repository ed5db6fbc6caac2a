"""The in-process transport: Redis Streams semantics in memory, deterministic, for backtests.

Streams, ids, consumer groups, pending-entry lists, delivery counts, acknowledgements, claims and
trims behave as on Redis, so the bus and the contract tests run unchanged on it. Ids and idle times
come from the runtime's `Clock`: with a `TestClock`, the same inputs give the same ids and the same
delivery order on every run. It serves one process only; every Redis behaviour is also tested
against a real server.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from nautilus.runtime.clock import Clock, LiveClock
from nautilus.runtime.errors import TransportError
from nautilus.runtime.transport.base import (
    PER_MESSAGE_SLOTS,
    AddPreparer,
    ClaimResult,
    Entry,
    GroupState,
    PreparedAdd,
    check_sequenced_entry,
    parse_entry_id,
)
from nautilus.runtime.transport.outcomes import BatchOutcome, Rejection
from nautilus.runtime.wire import FIELD_PRODUCER_INSTANCE, FIELD_SEQUENCE, EncodedEntry

__all__ = ["InMemoryTransport"]

_NS_PER_MS = 1_000_000
EntryId = tuple[int, int]


def _format_id(entry_id: EntryId) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def _parse_bound(bound: str, default: EntryId) -> EntryId:
    if bound in ("-", "+"):
        return default
    return parse_entry_id(bound)


@dataclass(slots=True)
class _Pending:
    consumer: str
    delivered_at_ns: int
    deliveries: int


@dataclass(slots=True)
class _Group:
    last_delivered: EntryId = (0, 0)
    #: Pending entries in id order (entries are delivered in id order, claims keep their place).
    pending: dict[EntryId, _Pending] = field(default_factory=dict)


@dataclass(slots=True)
class _Stream:
    ids: list[EntryId] = field(default_factory=list)
    fields: list[Mapping[bytes, bytes]] = field(default_factory=list)
    last_id: EntryId = (0, 0)
    groups: dict[str, _Group] = field(default_factory=dict)

    def index_after(self, entry_id: EntryId) -> int:
        return bisect.bisect_right(self.ids, entry_id)

    def lookup(self, entry_id: EntryId) -> Mapping[bytes, bytes] | None:
        i = bisect.bisect_left(self.ids, entry_id)
        if i < len(self.ids) and self.ids[i] == entry_id:
            return self.fields[i]
        return None


class InMemoryTransport:
    """Transport held in this process's memory; see transport/base.py for the contract."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or LiveClock()
        self._streams: dict[str, _Stream] = {}
        self._new_entries = asyncio.Event()
        #: Nothing to lose: the streams are in this process.
        self.connection_losses = 0

    def __repr__(self) -> str:
        return f"InMemoryTransport({len(self._streams)} streams)"

    def _stream(self, key: str) -> _Stream:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream()
        return stream

    def _append(self, key: str, fields: EncodedEntry) -> str:
        stream = self._stream(key)
        ms = self._clock.timestamp_ns() // _NS_PER_MS
        last_ms, last_seq = stream.last_id
        entry_id = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        stream.last_id = entry_id
        stream.ids.append(entry_id)
        stream.fields.append(dict(zip(fields[::2], fields[1::2], strict=True)))
        return _format_id(entry_id)

    def _wake_readers(self) -> None:
        self._new_entries.set()
        self._new_entries = asyncio.Event()

    def prepare_add(self, key: str, fields: EncodedEntry) -> PreparedAdd:
        return (key, fields)

    def add_preparer(self, key: str, entry: EncodedEntry) -> AddPreparer:
        check_sequenced_entry(entry)
        payload_at, stamp_at, number_at = PER_MESSAGE_SLOTS
        head, middle = entry[:payload_at], entry[payload_at + 1 : stamp_at]
        tail = entry[stamp_at + 1 : number_at]

        def prepare(payload: bytes, published_at_ns: int, sequence: int) -> PreparedAdd:
            fields = (*head, payload, *middle, b"%d" % published_at_ns, *tail, b"%d" % sequence)
            return (key, fields)

        return prepare

    async def send_adds(self, batch: Sequence[PreparedAdd]) -> BatchOutcome:
        ids: list[str | Rejection] = []
        for prepared in batch:
            key, fields = cast(tuple[str, EncodedEntry], prepared)
            ids.append(self._append(key, fields))
        if ids:
            self._wake_readers()
        return BatchOutcome(ids, 0)

    def describe_add(self, prepared: PreparedAdd) -> tuple[str, Mapping[bytes, bytes]]:
        key, fields = cast(tuple[str, EncodedEntry], prepared)
        return key, dict(zip(fields[::2], fields[1::2], strict=True))

    async def find_written(self, batch: Sequence[PreparedAdd], since_ms: int) -> list[bool]:
        found = []
        for prepared in batch:
            key, fields = self.describe_add(prepared)
            instance, sequence = fields.get(FIELD_PRODUCER_INSTANCE), fields.get(FIELD_SEQUENCE)
            stream = self._streams.get(key)
            found.append(
                instance is not None
                and stream is not None
                and any(
                    held.get(FIELD_PRODUCER_INSTANCE) == instance
                    and held.get(FIELD_SEQUENCE) == sequence
                    for held in stream.fields
                )
            )
        return found

    async def add_one(self, key: str, fields: EncodedEntry) -> str:
        entry_id = self._append(key, fields)
        self._wake_readers()
        return entry_id

    async def ensure_group(self, key: str, group: str) -> None:
        self._stream(key).groups.setdefault(group, _Group())

    def _read_now(
        self, group: str, consumer: str, keys: Sequence[str], count: int, noack: bool
    ) -> list[tuple[str, list[Entry]]]:
        now = self._clock.timestamp_ns()
        result: list[tuple[str, list[Entry]]] = []
        for key in keys:
            stream = self._streams.get(key)
            state = stream.groups.get(group) if stream is not None else None
            if stream is None or state is None:
                raise _no_group(key, group)
            start = stream.index_after(state.last_delivered)
            stop = min(start + count, len(stream.ids))
            if start >= stop:
                continue
            entries: list[Entry] = []
            for i in range(start, stop):
                entry_id = stream.ids[i]
                if not noack:
                    state.pending[entry_id] = _Pending(consumer, now, 1)
                entries.append((_format_id(entry_id), stream.fields[i]))
            state.last_delivered = stream.ids[stop - 1]
            result.append((key, entries))
        return result

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
        result = self._read_now(group, consumer, keys, count, noack)
        if result or not block_ms:
            return result
        try:
            await asyncio.wait_for(self._new_entries.wait(), block_ms / 1000)
        except TimeoutError:
            return []
        return self._read_now(group, consumer, keys, count, noack)

    async def ack(self, key: str, group: str, ids: Sequence[str]) -> int:
        stream = self._streams.get(key)
        state = stream.groups.get(group) if stream is not None else None
        if state is None:
            return 0
        return sum(state.pending.pop(parse_entry_id(i), None) is not None for i in ids)

    async def autoclaim(
        self, key: str, group: str, consumer: str, *, min_idle_ms: int, start: str, count: int
    ) -> ClaimResult:
        stream = self._streams.get(key)
        state = stream.groups.get(group) if stream is not None else None
        if stream is None or state is None:
            raise _no_group(key, group)
        now = self._clock.timestamp_ns()
        first = parse_entry_id(start) if start not in ("-", "0") else (0, 0)
        entries: list[Entry] = []
        deleted: list[str] = []
        next_start = "0-0"
        for entry_id in [i for i in state.pending if i >= first]:
            if len(entries) + len(deleted) >= count:
                next_start = _format_id(entry_id)
                break
            item = state.pending[entry_id]
            if now - item.delivered_at_ns < min_idle_ms * _NS_PER_MS:
                continue
            fields = stream.lookup(entry_id)
            if fields is None:
                del state.pending[entry_id]
                deleted.append(_format_id(entry_id))
                continue
            item.consumer, item.delivered_at_ns = consumer, now
            item.deliveries += 1
            entries.append((_format_id(entry_id), fields))
        return ClaimResult(next_start, entries, deleted)

    async def delivery_counts(self, key: str, group: str, ids: Sequence[str]) -> dict[str, int]:
        stream = self._streams.get(key)
        state = stream.groups.get(group) if stream is not None else None
        if state is None:
            return {}
        counts = {}
        for entry_id in ids:
            item = state.pending.get(parse_entry_id(entry_id))
            if item is not None:
                counts[entry_id] = item.deliveries
        return counts

    async def keep_claimed(
        self, key: str, group: str, consumer: str, ids: Sequence[str]
    ) -> list[str]:
        stream = self._streams.get(key)
        state = stream.groups.get(group) if stream is not None else None
        if state is None:
            return []
        now = self._clock.timestamp_ns()
        kept = []
        for entry_id in ids:
            item = state.pending.get(parse_entry_id(entry_id))
            if item is not None:
                item.consumer, item.delivered_at_ns = consumer, now
                kept.append(entry_id)
        return kept

    async def remove_consumers(
        self,
        key: str,
        group: str,
        *,
        min_idle_ms: int,
        names: Sequence[str] | None = None,
    ) -> list[str]:
        # Consumers exist here only through their pending entries: a named consumer holding none
        # is already gone, and there is no registry of idle ones to sweep.
        stream = self._streams.get(key)
        state = stream.groups.get(group) if stream is not None else None
        if state is None or names is None:
            return []
        holding = {item.consumer for item in state.pending.values()}
        return [name for name in names if name not in holding]

    async def group_states(self, key: str) -> list[GroupState]:
        stream = self._streams.get(key)
        if stream is None:
            return []
        return [
            GroupState(
                name=name,
                last_delivered_id=_format_id(state.last_delivered),
                pending=len(state.pending),
                first_pending_id=_format_id(next(iter(state.pending))) if state.pending else None,
            )
            for name, state in stream.groups.items()
        ]

    async def length(self, key: str) -> int:
        stream = self._streams.get(key)
        return 0 if stream is None else len(stream.ids)

    async def id_at(self, key: str, index: int) -> str | None:
        stream = self._streams.get(key)
        if stream is None or not 0 <= index < len(stream.ids):
            return None
        return _format_id(stream.ids[index])

    async def trim_before(self, key: str, min_id: str) -> int:
        stream = self._streams.get(key)
        if stream is None:
            return 0
        cut = bisect.bisect_left(stream.ids, parse_entry_id(min_id))
        del stream.ids[:cut]
        del stream.fields[:cut]
        return cut

    async def range(self, key: str, start: str = "-", end: str = "+") -> list[Entry]:
        stream = self._streams.get(key)
        if stream is None:
            return []
        low = bisect.bisect_left(stream.ids, _parse_bound(start, (0, 0)))
        high = bisect.bisect_right(stream.ids, _parse_bound(end, (2**64, 2**64)))
        return [(_format_id(stream.ids[i]), stream.fields[i]) for i in range(low, high)]

    async def close(self) -> None:
        self._streams.clear()


def _no_group(key: str, group: str) -> TransportError:
    return TransportError("XREADGROUP", f"NOGROUP no such key {key!r} or group {group!r}")
