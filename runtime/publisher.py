"""The asyncio publisher: a buffered, pipelined bulk lane and an unbuffered priority lane.

Guarantees:

- Order: messages published to one lane by one publisher are written in publish order.
- Latency: URGENT and CRITICAL messages are handed to their own flusher at once and written on
  their own connection, so they never wait for a bulk flush in progress or a bulk interval.
- Throughput: bulk messages are packed into complete commands at publish time and written every
  `buffer_interval_ms`, or as soon as `max_buffer_size` are waiting, in one write per batch.
- Bounded memory, no silent drops: at most `max_unsent_messages` are held; past that a publish
  waits (policy "block", up to `backpressure_timeout_s`) or raises BackpressureError ("raise").
- Every write has its own outcome: written; refused for good (WRONGTYPE, OOM, NOPERM, ...: the
  message fails with PublishRejectedError, reported to a waiting publisher, else to the failure
  hook, the counters, the log and the next `flush()`); or refused for a passing reason (LOADING,
  BUSY, READONLY, ...: sent again, in its original order and before anything newer, for up to
  `rejected_write_timeout_s`).
- Outages: a write that fails is retried with exponential backoff until the server is back; the
  messages stay buffered meanwhile. When a connection breaks before every reply arrived, the
  publisher reads the lanes back (each entry carries this publisher's instance id and a per-lane
  sequence) and sends again only what the server does not hold: no duplicates from its retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence

from google.protobuf.message import Message

from nautilus.runtime.backoff import Backoff
from nautilus.runtime.clock import TestClock
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.errors import (
    BackpressureError,
    ClientStateError,
    PublishRejectedError,
    TransportError,
)
from nautilus.runtime.lanes import lane_for
from nautilus.runtime.partitions import PartitionKeyError, partition_of, partition_stream
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import MessageSpec
from nautilus.runtime.transport.base import AddPreparer, PreparedAdd, Transport, parse_entry_id
from nautilus.runtime.transport.outcomes import BatchOutcome, Rejection, WriteInterruptedError
from nautilus.runtime.wire import FIELD_SEQUENCE, FIELD_TYPE, encode_entry

__all__ = ["Publisher", "PublisherStats", "RejectionHook"]

_log = logging.getLogger(__name__)

#: Confirmed batches a lane keeps to check after a lost connection: a failover loses at most the
#: writes of the replication lag, the last few batches.
_CONFIRMED_BATCHES = 32

_URGENT = MessagePriority.URGENT

#: Called with the error of each message the server refused for good and nobody was waiting for.
RejectionHook = Callable[[PublishRejectedError], None]


def _instance_id(config: MessageBusConfig) -> bytes:
    """16 hex characters: random, or under a simulated clock derived from the consumer name and
    the clock's time, so a backtest writes the same bytes on every run."""
    if isinstance(config.clock, TestClock):
        seed = f"{config.consumer_name}@{config.clock.timestamp_ns()}".encode()
        return hashlib.sha256(seed).hexdigest()[:16].encode()
    return os.urandom(8).hex().encode()


class PublisherStats:
    """Counters for monitoring (cheap: plain ints)."""

    __slots__ = (
        "backpressure_events",
        "batches",
        "failed_writes",
        "found_after_loss",
        "lost_confirmed",
        "out_of_order",
        "rejected",
        "rejected_kinds",
        "retried_rejections",
        "written",
    )

    def __init__(self) -> None:
        #: Messages the server holds.
        self.written = 0
        self.batches = 0
        #: Batch writes that broke off (server unreachable, connection lost) and were retried.
        self.failed_writes = 0
        self.backpressure_events = 0
        #: Messages the server refused for good (they failed with PublishRejectedError).
        self.rejected = 0
        #: The same, per error kind ("WRONGTYPE", "OOM", ...).
        self.rejected_kinds: dict[str, int] = {}
        #: Writes refused for a passing reason and sent again.
        self.retried_rejections = 0
        #: Messages whose reply was lost with a connection, found in the server when read back.
        self.found_after_loss = 0
        #: Messages the server confirmed that were gone when checked after a lost connection: a
        #: failover loses the writes the old master confirmed but had not yet replicated. Logged
        #: as an error; nothing can send them again.
        self.lost_confirmed = 0
        #: Messages written behind a later message of the same lane: a refusal for a passing reason
        #: that began and ended inside one pipelined batch. Logged; 0 in every other case.
        self.out_of_order = 0


class _LaneKey:
    """A lane this publisher writes to, and the sequence number of its last entry there."""

    __slots__ = ("key", "sequence")

    def __init__(self, key: str) -> None:
        self.key = key
        self.sequence = 0


class _Writer:
    """How one message type's messages at one priority are written: the lane, and the
    transport's preparer holding the entry's constant fields (type, fingerprint, producer,
    priority, instance) encoded once. Made for one spec: a publish with another spec of the
    type (another route) gets a writer of its own."""

    __slots__ = ("lane", "prepare", "spec", "urgent")

    def __init__(
        self, spec: MessageSpec, lane: _LaneKey, urgent: bool, prepare: AddPreparer
    ) -> None:
        self.spec = spec
        self.lane = lane
        self.urgent = urgent
        self.prepare = prepare


class _Lane:
    """One flusher's queue of prepared writes, the events that wake it, and its write state."""

    __slots__ = (
        "buffer",
        "check_confirmed",
        "confirmed",
        "full",
        "name",
        "nonempty",
        "refused_since",
        "since_ms",
        "unknown",
        "unknown_at",
        "waiters",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.buffer: list[PreparedAdd] = []
        self.nonempty = asyncio.Event()
        self.full = asyncio.Event()
        #: Futures of publishes waiting for their message to land, by id() of its prepared write.
        self.waiters: dict[int, asyncio.Future[None]] = {}
        #: `unknown` writes of the buffer, from position `unknown_at` (behind writes refused for
        #: now), were sent on a connection that broke before their replies came: the server may
        #: hold them. They are read back before anything is sent.
        self.unknown = 0
        self.unknown_at = 0
        #: The server clock (ms) when that connection opened: where reading back starts.
        self.since_ms = 0
        #: When the head of the buffer was first refused for a passing reason (monotonic s).
        self.refused_since: float | None = None
        #: The last batches the server confirmed, with their outcomes (entry ids): checked once
        #: writing works again after a lost connection (`check_confirmed`).
        self.confirmed: deque[tuple[Sequence[PreparedAdd], Sequence[str | Rejection]]] = deque(
            maxlen=_CONFIRMED_BATCHES
        )
        self.check_confirmed = False


class Publisher:
    """Writes encoded messages to their lanes; routing checks happen in the client above."""

    def __init__(self, transport: Transport, config: MessageBusConfig) -> None:
        self._transport = transport
        self._config = config
        self._clock = config.clock
        self._producer = config.engine.encode()
        self._interval_s = config.buffer_interval_ms / 1000
        self._batch_size = config.max_buffer_size
        self._limit = config.max_unsent_messages
        self._bulk = _Lane("bulk")
        self._urgent = _Lane("priority")
        self._room = asyncio.Event()
        self._room.set()
        self._drained = asyncio.Event()
        self._drained.set()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        #: The transport's `connection_losses` when last looked at: a loss met by another user of
        #: the transport (a consumer) makes the lanes check their confirmed writes too.
        self._losses_seen = transport.connection_losses
        self.stats = PublisherStats()
        #: This publisher instance's id, carried by every entry it writes (`pi`), with a per-lane
        #: sequence (`sq`): new per instance, so a restarted process never matches an old entry.
        self._instance = _instance_id(config)
        #: Per route stream: (bulk lane, priority lane), indexed by "is urgent".
        self._lane_keys: dict[str, tuple[_LaneKey, _LaneKey]] = {}
        #: Per message type, its writers by priority (made on first use).
        self._writers: dict[type[Message], dict[int, _Writer]] = {}
        #: The publish time of each entry (a bound method: one lookup less per message).
        self._now_ns = self._clock.timestamp_ns
        #: Called for each message refused for good that no publish was waiting for.
        self.on_rejected: RejectionHook | None = None
        #: Refused messages nobody was waiting for, not yet reported by `flush()`: (count, first).
        self._unreported = 0
        self._first_unreported: PublishRejectedError | None = None

    @property
    def lanes_used(self) -> set[str]:
        """Lane keys this publisher has published to (the trimmer's work list)."""
        return {lane.key for pair in self._lane_keys.values() for lane in pair if lane.sequence}

    @property
    def unsent(self) -> int:
        """Messages accepted but not yet confirmed written."""
        return len(self._bulk.buffer) + len(self._urgent.buffer)

    def start(self) -> None:
        """Start both flushers on the running event loop."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._flush_loop(self._urgent, wait_s=0.0), name="publish-urgent"),
            asyncio.create_task(
                self._flush_loop(self._bulk, wait_s=self._interval_s), name="publish-bulk"
            ),
        ]

    def try_enqueue(
        self,
        spec: MessageSpec,
        message: Message,
        priority: MessagePriority,
        key: str | None,
        trace_context: str | None,
    ) -> bool:
        """Accept one message if there is room; False when the bound is reached."""
        # The hot path of every publish: no per-message objects beyond the payload and the packed
        # command. A message without key or trace context is prepared by its type's writer for
        # this priority (lane, sequence and the entry's constant fields, encoded once).
        if self._closed:
            raise ClientStateError("publisher is closed")
        bulk_buffer = self._bulk.buffer
        urgent_buffer = self._urgent.buffer
        if len(bulk_buffer) + len(urgent_buffer) >= self._limit:
            self._room.clear()
            return False
        if key is None and trace_context is None:
            writers = self._writers.get(spec.message_class)
            writer = None if writers is None else writers.get(priority)
            if writer is None or writer.spec is not spec:
                writer = self._writer(spec, priority)
            lane = writer.lane
            lane.sequence += 1
            prepared = writer.prepare(message.SerializeToString(), self._now_ns(), lane.sequence)
            urgent = writer.urgent
        else:
            urgent = priority >= _URGENT
            prepared = self._prepare(spec, message, priority, key, trace_context)
        if urgent:
            urgent_buffer.append(prepared)
            if len(urgent_buffer) == 1:
                self._drained.clear()
                self._urgent.nonempty.set()
            self._urgent.full.set()
        else:
            bulk_buffer.append(prepared)
            if len(bulk_buffer) == 1:
                self._drained.clear()
                self._bulk.nonempty.set()
            if len(bulk_buffer) >= self._batch_size:
                self._bulk.full.set()
        return True

    def _lane_key(self, stream: str, urgent: bool) -> _LaneKey:
        lane_keys = self._lane_keys.get(stream)
        if lane_keys is None:
            lane_keys = (
                _LaneKey(lane_for(stream, MessagePriority.NORMAL)),
                _LaneKey(lane_for(stream, _URGENT)),
            )
            self._lane_keys[stream] = lane_keys
        return lane_keys[urgent]

    def _writer(self, spec: MessageSpec, priority: MessagePriority) -> _Writer:
        """The writer of `spec`'s messages at `priority` without key or trace context, made on
        first use. A partitioned route's messages need a key: PartitionKeyError."""
        route = spec.route
        if route.partitions:
            raise PartitionKeyError(spec.full_name, route.stream, route.partitions)
        urgent = priority >= _URGENT
        lane = self._lane_key(route.stream, urgent)
        # The entry's constant fields; payload, time and sequence are the preparer's per message.
        entry = encode_entry(
            spec.type_bytes,
            spec.fingerprint_bytes,
            b"",
            producer=self._producer,
            published_at_ns=0,
            priority=priority,
            instance=self._instance,
            sequence=0,
        )
        writer = _Writer(spec, lane, urgent, self._transport.add_preparer(lane.key, entry))
        self._writers.setdefault(spec.message_class, {})[priority] = writer
        return writer

    def _prepare(
        self,
        spec: MessageSpec,
        message: Message,
        priority: MessagePriority,
        key: str | None,
        trace_context: str | None,
    ) -> PreparedAdd:
        """A message with a key or a trace context, whose entry is encoded and packed whole."""
        route = spec.route
        stream = route.stream
        if route.partitions:
            if not key:
                raise PartitionKeyError(spec.full_name, stream, route.partitions)
            stream = partition_stream(stream, partition_of(key, route.partitions))
        lane = self._lane_key(stream, priority >= _URGENT)
        lane.sequence += 1
        fields = encode_entry(
            spec.type_bytes,
            spec.fingerprint_bytes,
            message.SerializeToString(),
            producer=self._producer,
            published_at_ns=self._clock.timestamp_ns(),
            priority=priority,
            key=key,
            trace_context=trace_context,
            instance=self._instance,
            sequence=lane.sequence,
        )
        return self._transport.prepare_add(lane.key, fields)

    def refuse(self, stream: str, waited_s: float = 0.0) -> BackpressureError:
        """The error for a message that found no room."""
        self.stats.backpressure_events += 1
        return BackpressureError(stream, self.unsent, self._limit, waited_s)

    async def enqueue(
        self,
        spec: MessageSpec,
        message: Message,
        priority: MessagePriority,
        key: str | None,
        trace_context: str | None,
    ) -> None:
        """Accept one message, applying the configured backpressure policy when full."""
        if self.try_enqueue(spec, message, priority, key, trace_context):
            return
        if self._config.backpressure == "raise":
            raise self.refuse(spec.route.stream)
        timeout_s = self._config.backpressure_timeout_s
        started = time.monotonic()
        while True:
            remaining = timeout_s - (time.monotonic() - started)
            if remaining <= 0:
                raise self.refuse(spec.route.stream, time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), remaining)
            if self.try_enqueue(spec, message, priority, key, trace_context):
                return

    def landed(self, urgent: bool) -> asyncio.Future[None]:
        """A future for the message just accepted on the given lane: done once the server holds
        it, PublishRejectedError if the server refused it. Bulk messages are written at once."""
        lane = self._urgent if urgent else self._bulk
        landed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.waiters[id(lane.buffer[-1])] = landed
        if not urgent:
            lane.full.set()
        return landed

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every accepted message is written or refused (TimeoutError after
        `timeout_s`); PublishRejectedError if any published without waiting was refused since
        the last flush, with their count and the first one's reply."""
        self._bulk.full.set()
        await asyncio.wait_for(self._drained.wait(), timeout_s)
        if self._unreported:
            error = PublishRejectedError(
                self._first_unreported.lane if self._first_unreported else "",
                self._first_unreported.reply if self._first_unreported else "",
                self._unreported,
            )
            self._unreported, self._first_unreported = 0, None
            raise error

    async def _flush_loop(self, lane: _Lane, wait_s: float) -> None:
        backoff = Backoff(self._config.reconnect_initial_ms, self._config.reconnect_max_ms)
        while True:
            await lane.nonempty.wait()
            if wait_s and len(lane.buffer) < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lane.full.wait(), wait_s)
            lane.full.clear()
            await self._write_all(lane, backoff)

    async def _write_all(self, lane: _Lane, backoff: Backoff) -> None:
        buffer = lane.buffer
        while buffer:
            if lane.unknown:
                try:
                    await self._read_back(lane)
                except TransportError as exc:
                    await self._pause(lane, backoff, exc, lane.unknown)
                    continue
                if not buffer:
                    break
            batch = buffer[: self._batch_size]
            try:
                outcome = await self._transport.send_adds(batch)
            except WriteInterruptedError as exc:
                self._connection_lost()
                kept = self._settle(lane, batch, exc.results)
                if exc.maybe_sent:
                    # Right behind the writes refused for now (kept at the head): the unknown.
                    lane.unknown_at = kept
                    lane.unknown = len(batch) - len(exc.results)
                    lane.since_ms = exc.since_ms
                await self._pause(lane, backoff, exc, len(batch))
                continue
            except TransportError as exc:
                self._connection_lost()
                await self._pause(lane, backoff, exc, len(batch))
                continue
            self.stats.batches += 1
            if lane.check_confirmed or self._transport.connection_losses != self._losses_seen:
                await self._after_loss(lane, outcome)
            if not outcome.rejected and len(outcome.results) == len(batch):
                del buffer[: len(batch)]
                lane.confirmed.append((batch, outcome.results))
                self.stats.written += len(batch)
                lane.refused_since = None
                if lane.waiters:
                    self._resolve(lane.waiters, batch)
                kept = 0
            else:
                kept = self._settle(lane, batch, outcome.results)
            if kept:
                await asyncio.sleep(backoff.next_delay_s())
            elif backoff.failures:
                _log.info("%s lane: write succeeded after %d failures", lane.name, backoff.failures)
                backoff.reset()
            self._room.set()
        lane.nonempty.clear()
        if not self._bulk.buffer and not self._urgent.buffer:
            self._drained.set()

    async def _pause(
        self, lane: _Lane, backoff: Backoff, exc: TransportError, attempted: int
    ) -> None:
        """Back off after a failed write or read-back; the messages stay buffered."""
        self.stats.failed_writes += 1
        delay = backoff.next_delay_s()
        if backoff.failures == 1 or backoff.failures % 50 == 0:
            _log.warning(
                "%s lane: write of %d failed (%s); %d unsent, retrying in %.3fs",
                lane.name,
                attempted,
                exc,
                self.unsent,
                delay,
            )
        await asyncio.sleep(delay)

    @staticmethod
    def _resolve(waiters: dict[int, asyncio.Future[None]], written: Sequence[PreparedAdd]) -> None:
        for entry in written:
            landed = waiters.pop(id(entry), None)
            if landed is not None and not landed.done():
                landed.set_result(None)

    def _settle(
        self, lane: _Lane, batch: list[PreparedAdd], results: Sequence[str | Rejection]
    ) -> int:
        """Apply the outcomes of a batch's first `len(results)` writes (the rest were not sent):
        written messages are done, refused-for-good ones fail, refused-for-now ones stay at the
        head of the buffer in their order. Returns how many were refused for now and kept."""
        kept: list[PreparedAdd] = []
        kept_rejections: list[Rejection] = []
        written: list[PreparedAdd] = []
        held_back: set[str] = set()
        overtaking = 0
        for entry, result in zip(batch, results, strict=False):
            if isinstance(result, str):
                written.append(entry)
                if held_back and self._transport.describe_add(entry)[0] in held_back:
                    overtaking += 1
            elif result.transient:
                kept.append(entry)
                kept_rejections.append(result)
                held_back.add(self._transport.describe_add(entry)[0])
            else:
                self._fail(lane, entry, result)
        lane.buffer[: len(results)] = kept
        if written:
            lane.confirmed.append((batch, results))
        self.stats.written += len(written)
        if overtaking:
            self.stats.out_of_order += overtaking
            _log.warning(
                "%s lane: %d entries written behind entries refused for now", lane.name, overtaking
            )
        if lane.waiters:
            self._resolve(lane.waiters, written)
        if not kept:
            lane.refused_since = None
            return 0
        self.stats.retried_rejections += len(kept)
        now = time.monotonic()
        if lane.refused_since is None or written:
            if lane.refused_since is None:
                _log.warning(
                    "%s lane: %d writes refused for now (%s); sending them again first",
                    lane.name,
                    len(kept),
                    kept_rejections[0].reply,
                )
            lane.refused_since = now
        elif now - lane.refused_since >= self._config.rejected_write_timeout_s:
            del lane.buffer[: len(kept)]
            for entry, rejection in zip(kept, kept_rejections, strict=True):
                self._fail(lane, entry, rejection)
            lane.refused_since = None
            return 0
        return len(kept)

    def _fail(self, lane: _Lane, entry: PreparedAdd, rejection: Rejection) -> None:
        """A message refused for good: raised to its waiting publisher, or reported."""
        key, fields = self._transport.describe_add(entry)
        error = PublishRejectedError(
            key,
            rejection.reply,
            message_type=fields.get(FIELD_TYPE, b"").decode(errors="replace"),
            sequence=int(fields.get(FIELD_SEQUENCE, b"0")),
        )
        stats = self.stats
        stats.rejected += 1
        kinds = stats.rejected_kinds
        if rejection.kind not in kinds:
            _log.error("%s lane: the server refused a message for good: %s", lane.name, error)
        kinds[rejection.kind] = kinds.get(rejection.kind, 0) + 1
        landed = lane.waiters.pop(id(entry), None)
        if landed is not None and not landed.done():
            landed.set_exception(error)
            return
        self._unreported += 1
        if self._first_unreported is None:
            self._first_unreported = error
        if self.on_rejected is not None:
            try:
                self.on_rejected(error)
            except Exception:
                _log.exception("publish failure hook raised")

    def _connection_lost(self) -> None:
        """A write broke off: once writing works again, each lane checks that the writes the
        server confirmed before are still there."""
        self._losses_seen = self._transport.connection_losses
        self._bulk.check_confirmed = self._urgent.check_confirmed = True

    async def _after_loss(self, lane: _Lane, outcome: BatchOutcome) -> None:
        """A write went through after a connection was lost (by this publisher or another user
        of the transport): the lanes' confirmed writes are checked, this lane's now."""
        if self._transport.connection_losses != self._losses_seen:
            self._connection_lost()
        if len(outcome.results) > outcome.rejected:
            await self._check_confirmed(lane)

    async def _check_confirmed(self, lane: _Lane) -> None:
        """The lane's last confirmed writes, looked up again (the lane writes again, so the server
        serving their slot answers). Redis replicates asynchronously: after a failover the new
        master lacks what the old one confirmed but had not passed on. Each entry missing above
        the lane's oldest entry is such a loss, counted and logged; one below it cannot be told
        apart from trimming and is not counted. A failed check is done again after the next
        write."""
        ids: dict[str, list[str]] = {}
        for batch, results in lane.confirmed:
            for entry, result in zip(batch, results, strict=False):
                if isinstance(result, str):
                    ids.setdefault(self._transport.describe_add(entry)[0], []).append(result)
        lost = 0
        try:
            for key, confirmed in ids.items():
                lost += await self._missing(key, confirmed)
        except TransportError as exc:
            _log.warning("%s lane: checking confirmed writes failed (%s)", lane.name, exc)
            return
        lane.check_confirmed = False
        lane.confirmed.clear()
        if lost:
            self.stats.lost_confirmed += lost
            _log.error(
                "%s lane: %d writes the server had confirmed are gone after a lost connection "
                "(a failover loses what the old master had not yet replicated)",
                lane.name,
                lost,
            )

    async def _missing(self, key: str, confirmed: list[str]) -> int:
        """How many of the `confirmed` ids of `key` the server no longer holds, above its oldest
        entry."""
        order = sorted(confirmed, key=parse_entry_id)
        held = {entry_id for entry_id, _ in await self._transport.range(key, order[0], order[-1])}
        oldest = await self._transport.id_at(key, 0)
        if oldest is None:
            return 0
        floor = parse_entry_id(oldest)
        return sum(1 for i in order if i not in held and parse_entry_id(i) > floor)

    async def _read_back(self, lane: _Lane) -> None:
        """After a connection broke with replies outstanding: drop from the buffer what the
        server holds (found by producer instance and sequence), keep the rest in order."""
        start, end = lane.unknown_at, lane.unknown_at + lane.unknown
        unknown = lane.buffer[start:end]
        found = await self._transport.find_written(unknown, lane.since_ms)
        written: list[PreparedAdd] = []
        missing: list[PreparedAdd] = []
        lanes_missing: set[str] = set()
        for entry, held in zip(unknown, found, strict=True):
            if not held:
                missing.append(entry)
                lanes_missing.add(self._transport.describe_add(entry)[0])
                continue
            written.append(entry)
            if lanes_missing and self._transport.describe_add(entry)[0] in lanes_missing:
                self.stats.out_of_order += 1
        lane.buffer[start:end] = missing
        lane.unknown = lane.unknown_at = 0
        if written:
            self.stats.written += len(written)
            self.stats.found_after_loss += len(written)
            if lane.waiters:
                self._resolve(lane.waiters, written)
        _log.info(
            "%s lane: %d of %d writes with lost replies were in the server; sending %d again",
            lane.name,
            len(written),
            len(unknown),
            len(missing),
        )
        self._room.set()

    async def close(self, timeout_s: float | None = 5.0) -> None:
        """Write what is buffered (up to `timeout_s`), then stop; unsent messages are reported."""
        if self._closed:
            return
        try:
            if self._tasks:
                await self.flush(timeout_s)
        except TimeoutError:
            _log.error("publisher closed with %d messages unsent", self.unsent)
            raise
        finally:
            self._closed = True
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks = []
            for lane in (self._urgent, self._bulk):
                for landed in lane.waiters.values():
                    if not landed.done():
                        landed.set_exception(
                            ClientStateError("publisher closed before it was written")
                        )
                lane.waiters.clear()
