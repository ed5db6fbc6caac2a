"""The consumer: one engine's consumer group on the lanes of the streams it subscribes to.

Guarantees:

- At least once: an entry is acknowledged only after its handler returned (or after it was
  written to the dead-letter stream). Entries left pending by a failed handler or a dead consumer
  are reclaimed (XAUTOCLAIM) by a live consumer of the group once idle for `reclaim_idle_ms`.
- Priority: in the consume loop (`run`, started by the client) a `PriorityReader` keeps a blocking
  read outstanding on the priority lanes, on a connection of its own, and handles what it returns
  at once; the cycle then reads only the bulk lanes and yields to the event loop every 32 bulk
  entries, so URGENT/CRITICAL entries wait behind at most a few dozen bulk entries and never
  behind a bulk handler that is awaiting. Driven step by step (`poll`), each cycle first reads the
  priority lanes; bulk lanes are read only when the priority lanes had less than a full batch,
  priority entries in a mixed batch are handled first, and while a bulk batch is handled the
  priority lanes are read again every millisecond (checked every 32 entries).
- Order: within a lane, entries are handled in stream order by one consumer (handlers are awaited
  one at a time); a reclaimed entry is, by nature, handled out of order.
- Poison and bad input never stop the consumer: entries that cannot be decoded or resolved go to
  the dead-letter stream at once; entries whose handler failed `max_deliveries` times go there with
  the last error. Entries of known types this engine did not subscribe to are acknowledged
  unhandled: a group reads the whole stream.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from google.protobuf.message import DecodeError, Message

from nautilus.runtime.backoff import Backoff
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.dead_letter import dead_letter_fields
from nautilus.runtime.delivery import Delivery, Handler
from nautilus.runtime.errors import DeadLetterReason, TransportError, UndeliverableEntryError
from nautilus.runtime.lanes import dead_letter_stream, priority_lane, stream_of_lane
from nautilus.runtime.resolver import TypeResolver
from nautilus.runtime.routing import MessageSpec
from nautilus.runtime.transport.base import Entry, Transport
from nautilus.runtime.wire import decode_values

__all__ = ["Consumer", "ConsumerStats", "DeliveryObserver"]

_log = logging.getLogger(__name__)

_AsyncHandler = Callable[[Delivery[Any]], Awaitable[None]]

#: While handling a bulk batch, the priority lanes are read again after this long...
_PRIORITY_RECHECK_S = 0.001
#: ...checked once per this many bulk entries (a clock read per entry would cost more).
_PRIORITY_SLICE = 32


class DeliveryObserver(Protocol):
    """Told of each handled delivery and each dead letter (metrics); None costs one check."""

    def observe(self, delivery: Delivery[Any], handler_seconds: float) -> None: ...

    def dead_lettered(self, lane: str, reason: DeadLetterReason) -> None: ...


class ConsumerStats:
    """Counters for monitoring (cheap: plain ints)."""

    __slots__ = ("dead_lettered", "failed", "handled", "ignored", "reclaimed")

    def __init__(self) -> None:
        self.handled = 0
        self.failed = 0
        self.ignored = 0
        self.reclaimed = 0
        self.dead_lettered = 0


@dataclass(frozen=True, slots=True)
class _Subscription:
    spec: MessageSpec
    #: Called as is: a plain function costs no coroutine; an awaitable result is awaited.
    handler: Handler[Any]


class Consumer:
    """Reads, dispatches, acknowledges, reclaims and dead-letters for one consumer of a group."""

    def __init__(
        self, transport: Transport, config: MessageBusConfig, resolver: TypeResolver
    ) -> None:
        self._transport = transport
        self._config = config
        self._resolver = resolver
        self._group = config.consumer_group
        self._name = config.consumer_name
        self._subscriptions: dict[str, _Subscription] = {}
        self._classes: dict[tuple[str, str], type[Message]] = {}
        self._priority_lanes: list[str] = []
        self._all_lanes: list[str] = []
        self._bulk_only_lanes: list[str] = []
        self._groups_ready = False
        self._last_reclaim = float("-inf")
        #: When a long bulk batch next pauses to read the priority lanes (monotonic seconds).
        self._next_priority_read = 0.0
        self.stats = ConsumerStats()
        self.observer: DeliveryObserver | None = None
        #: Set while a `PriorityReader` reads the priority lanes: the cycle then reads only the
        #: bulk lanes and yields to the event loop between slices of a bulk batch.
        self.priority_reader_active = False

    @property
    def config(self) -> MessageBusConfig:
        return self._config

    @property
    def lanes(self) -> tuple[str, ...]:
        """Every lane read, priority lanes first."""
        return tuple(self._all_lanes)

    def subscribe(self, spec: MessageSpec, handler: Handler[Any]) -> None:
        """Route entries of `spec`'s type to `handler` (one handler per type)."""
        if spec.full_name in self._subscriptions:
            raise ValueError(f"{spec.full_name} already has a handler")
        self._subscriptions[spec.full_name] = _Subscription(spec, handler)
        stream = spec.route.stream
        if priority_lane(stream) not in self._priority_lanes:
            self._priority_lanes.append(priority_lane(stream))
            self._all_lanes = [*self._priority_lanes, *self._bulk_lanes(), stream]
            self._bulk_only_lanes = self._bulk_lanes()
            self._groups_ready = False

    def _bulk_lanes(self) -> list[str]:
        return [lane for lane in self._all_lanes if lane not in self._priority_lanes]

    async def ensure_groups(self) -> None:
        """Create this engine's group on every lane it reads (idempotent, reads from the start)."""
        for lane in self._all_lanes:
            await self._transport.ensure_group(lane, self._group)
        self._groups_ready = True

    async def poll(self, block_ms: int | None = None) -> int:
        """One cycle: reclaim if due, read a batch (priority lanes first), handle, acknowledge.

        Returns the number of entries processed. `block_ms` waits for new entries when there are
        none (None: return at once). Raises TransportError when the server cannot be reached.
        """
        if not self._all_lanes:
            return 0
        if not self._groups_ready:
            await self.ensure_groups()
        processed = 0
        if time.monotonic() - self._last_reclaim >= self._config.reclaim_idle_ms / 2000:
            processed += await self.reclaim()
        count = self._config.read_count
        if self.priority_reader_active:
            wait = None if processed else block_ms
            for lane, entries in await self._transport.read_group(
                self._group, self._name, self._bulk_only_lanes, count=count, block_ms=wait
            ):
                processed += await self._process(lane, entries, None)
            return processed
        self._next_priority_read = time.monotonic() + _PRIORITY_RECHECK_S
        batches = await self._transport.read_group(
            self._group, self._name, self._priority_lanes, count=count, block_ms=None
        )
        urgent_entries = sum(len(entries) for _, entries in batches)
        if urgent_entries < count:
            wait = None if processed or urgent_entries else block_ms
            batches += await self._transport.read_group(
                self._group, self._name, self._all_lanes, count=count, block_ms=wait
            )
        batches.sort(key=lambda batch: batch[0] not in self._priority_lanes)
        for lane, entries in batches:
            processed += await self._process(lane, entries, None)
        return processed

    async def read_priority_lanes(self, block_ms: int | None) -> int:
        """Read the priority lanes only (waiting up to `block_ms` for an entry) and process what
        came; the `PriorityReader`'s cycle. Raises TransportError when the server is unreachable."""
        if not self._priority_lanes:
            return 0
        if not self._groups_ready:
            await self.ensure_groups()
        try:
            batches = await self._transport.read_group(
                self._group,
                self._name,
                self._priority_lanes,
                count=self._config.read_count,
                block_ms=block_ms,
            )
        except TransportError:
            self._groups_ready = False  # a restarted server has lost them: create them again
            raise
        processed = 0
        for lane, entries in batches:
            processed += await self._process(lane, entries, None)
        return processed

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, surviving outages with backoff."""
        backoff = Backoff(self._config.reconnect_initial_ms, self._config.reconnect_max_ms)
        while not stop.is_set():
            try:
                await self.poll(self._config.read_block_ms)
            except TransportError as exc:
                delay = backoff.next_delay_s()
                if backoff.failures == 1 or backoff.failures % 50 == 0:
                    _log.warning("consumer %s: %s; retrying in %.3fs", self._name, exc, delay)
                self._groups_ready = False
                await asyncio.sleep(delay)
            else:
                backoff.reset()

    async def reclaim(self) -> int:
        """Take over entries idle longer than `reclaim_idle_ms` in this group and process them."""
        self._last_reclaim = time.monotonic()
        processed = 0
        for lane in self._all_lanes:
            start = "0-0"
            while True:
                claim = await self._transport.autoclaim(
                    lane,
                    self._group,
                    self._name,
                    min_idle_ms=self._config.reclaim_idle_ms,
                    start=start,
                    count=self._config.read_count,
                )
                if claim.deleted_ids:
                    _log.warning(
                        "%s: %d pending entries were trimmed before being acknowledged",
                        lane,
                        len(claim.deleted_ids),
                    )
                if claim.entries:
                    ids = [entry_id for entry_id, _ in claim.entries]
                    counts = await self._transport.delivery_counts(lane, self._group, ids)
                    self.stats.reclaimed += len(ids)
                    processed += await self._process(lane, claim.entries, counts)
                if claim.next_start in ("0-0", "0"):
                    break
                start = claim.next_start
        return processed

    async def _process(
        self, lane: str, entries: Sequence[Entry], counts: Mapping[str, int] | None
    ) -> int:
        acks: list[str] = []
        limit = self._config.max_deliveries
        stream = stream_of_lane(lane)
        dispatch = self._dispatch
        # A bulk batch takes milliseconds to handle; the priority lanes are looked at again
        # between slices of it, so URGENT/CRITICAL never wait for the whole batch.
        watch_priority = (
            counts is None and len(entries) > _PRIORITY_SLICE and lane not in self._priority_lanes
        )
        # With a priority reader, a bulk batch only yields to the loop between slices: the
        # reader's outstanding read has the priority entries already.
        yield_only = watch_priority and self.priority_reader_active
        for index, (entry_id, fields) in enumerate(entries):
            if watch_priority and not index % _PRIORITY_SLICE:
                if yield_only:
                    await asyncio.sleep(0)
                elif time.monotonic() >= self._next_priority_read:
                    await self._serve_priority_lanes()
            deliveries = 1 if counts is None else counts.get(entry_id, 1)
            if deliveries > limit:
                detail = f"not acknowledged after {deliveries - 1} deliveries (consumer died?)"
                await self._dead_letter(
                    lane,
                    entry_id=entry_id,
                    fields=fields,
                    reason=DeadLetterReason.MAX_DELIVERIES,
                    detail=detail,
                    deliveries=deliveries,
                )
                acks.append(entry_id)
                continue
            try:
                done = await dispatch(stream, lane, entry_id, fields, deliveries)
            except UndeliverableEntryError as exc:
                await self._dead_letter(
                    lane,
                    entry_id=entry_id,
                    fields=fields,
                    reason=exc.reason,
                    detail=exc.detail,
                    deliveries=deliveries,
                )
                done = True
            if done:
                acks.append(entry_id)
        if acks:
            await self._transport.ack(lane, self._group, acks)
        return len(entries)

    async def _serve_priority_lanes(self) -> None:
        """Read and handle what waits on the priority lanes (without blocking)."""
        self._next_priority_read = time.monotonic() + _PRIORITY_RECHECK_S
        batches = await self._transport.read_group(
            self._group,
            self._name,
            self._priority_lanes,
            count=self._config.read_count,
            block_ms=None,
        )
        for lane, entries in batches:
            await self._process(lane, entries, None)

    async def _dispatch(
        self,
        stream: str,
        lane: str,
        entry_id: str,
        fields: Mapping[bytes, bytes],
        deliveries: int,
    ) -> bool:
        """Hand one entry to its handler; True when it may be acknowledged."""
        values = decode_values(fields)
        message_type = values[0]
        key = (message_type, values[1])
        subscription = self._subscriptions.get(message_type)
        cls = self._classes.get(key)
        if cls is None:
            try:
                cls = self._classes[key] = await self._resolver.resolve(*key)
            except UndeliverableEntryError as exc:
                if subscription is None and exc.reason is DeadLetterReason.FINGERPRINT_MISMATCH:
                    self.stats.ignored += 1
                    return True
                raise
        if subscription is None:
            self.stats.ignored += 1
            return True
        _, _, payload, producer, published_at_ns, priority, partition_key, trace = values
        try:
            message = cls.FromString(payload)
        except DecodeError as exc:
            raise UndeliverableEntryError(
                DeadLetterReason.UNDECODABLE, f"payload is not a valid {message_type}: {exc}"
            ) from None
        delivery = Delivery(
            message,
            message_type,
            stream,
            lane,
            entry_id,
            producer,
            published_at_ns,
            priority,
            partition_key,
            trace,
            deliveries,
        )
        observer = self.observer
        started = time.perf_counter() if observer is not None else 0.0
        try:
            result = subscription.handler(delivery)
            if result is not None and inspect.isawaitable(result):
                await result
        except Exception as exc:
            self.stats.failed += 1
            if deliveries >= self._config.max_deliveries:
                raise UndeliverableEntryError(
                    DeadLetterReason.MAX_DELIVERIES,
                    f"handler failed on delivery {deliveries}: {exc!r}",
                ) from exc
            _log.warning(
                "%s %s: handler failed on delivery %d: %r", lane, entry_id, deliveries, exc
            )
            return False
        self.stats.handled += 1
        if observer is not None:
            observer.observe(delivery, time.perf_counter() - started)
        return True

    async def _dead_letter(
        self,
        lane: str,
        *,
        entry_id: str,
        fields: Mapping[bytes, bytes],
        reason: DeadLetterReason,
        detail: str,
        deliveries: int,
    ) -> None:
        record = dead_letter_fields(
            fields,
            reason=reason,
            detail=detail,
            entry_id=entry_id,
            lane=lane,
            group=self._group,
            consumer=self._name,
            deliveries=deliveries,
            dead_lettered_at_ns=self._config.clock.timestamp_ns(),
        )
        await self._transport.add_one(dead_letter_stream(stream_of_lane(lane)), record)
        self.stats.dead_lettered += 1
        if self.observer is not None:
            self.observer.dead_lettered(lane, reason)
        _log.warning("%s %s dead-lettered: %s: %s", lane, entry_id, reason.value, detail)
