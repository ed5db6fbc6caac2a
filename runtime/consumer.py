"""The consumer: one engine's consumer group on the lanes of the streams it subscribes to.

Guarantees:

- At least once: an entry is acknowledged only after its handler returned (or after it was
  written to the dead-letter stream). Entries left pending by a failed handler or a dead or stuck
  consumer are reclaimed (XAUTOCLAIM) by a live consumer of the group once idle for
  `reclaim_idle_ms`.
- Best effort where the routes say so: a stream's bulk lane is read with XREADGROUP NOACK when
  every type routed to this engine there is best effort for it (`delivery` route option, e.g.
  quotes). Those entries are never pending: not acknowledged, renewed or reclaimed; a failing
  handler dead-letters them at once; a consumer that dies loses the batch in hand. The NOACK
  read is a read of its own, after the acknowledged lanes, blocking only when they had nothing.
  The group's retry lane of such a stream (replayed dead letters, read with acknowledgement) is
  then the only acknowledged lane left to read, a command of its own each cycle for a lane that
  is empty unless an operator replays; so it is read only when it may hold something worth the
  command: at least every `read_block_ms`, at the cycle after a NOACK read found nothing, while
  it keeps returning entries, after the streams held change, and whenever another acknowledged
  lane is read anyway. A replayed entry waits at most about `read_block_ms` behind bulk traffic.
- Never the work of a healthy consumer: while a consumer works through what it read, it
  acknowledges what it has handled and renews its claim on what it still holds (XCLAIM ... JUSTID,
  which leaves delivery counts alone) every quarter of `reclaim_idle_ms`, checked between
  entries at a stride sized to the handler's measured time (at most 32 entries). Entries it holds
  therefore never look idle to its peers; only a consumer that died, or whose single handler call
  outlasts `reclaim_idle_ms`, loses its entries. Entries that a peer took over and acknowledged
  meanwhile are skipped, not handled again.
- Priority: in the consume loop (`run`, started by the client) a `PriorityReader` keeps a blocking
  read outstanding on the priority lanes, on a connection of its own, and handles what it returns
  at once; the cycle then reads only the bulk lanes and yields to the event loop at each
  checkpoint of a bulk batch (at most 32 entries apart), so URGENT/CRITICAL entries wait behind at
  most a few dozen bulk entries and never behind a bulk handler that is awaiting. Driven step by
  step (`poll`), each cycle first reads the priority lanes; bulk lanes are read only when the
  priority lanes had less than a full batch, priority entries in a mixed batch are handled first,
  and while a bulk batch is handled the priority lanes are read again every millisecond (checked
  at the same checkpoints).
- Order: within a lane, entries are handled in stream order by one consumer (handlers are awaited
  one at a time); a reclaimed entry is, by nature, handled out of order.
- Routing is enforced on read: an entry whose type is not routed on the stream it was read from,
  or whose producer field is not the route's producer, goes to the dead-letter stream
  (`misrouted`), never to a handler.
- Poison and bad input never stop the consumer: entries that cannot be decoded or resolved go to
  the dead-letter stream at once; entries whose handler failed `max_deliveries` times go there with
  the last error. Entries of known types routed on the stream that this engine did not subscribe
  to are acknowledged unhandled, without resolving their schema: a group reads the whole stream.
- The loop never dies silently: a handler's exception, `asyncio.CancelledError` included, is a
  handler failure; anything else escaping a cycle is logged, counted (`loop_restarts`) and the
  cycle starts again after a backoff.
- Replicas: with leases (runtime/leases.py), `hold(units)` narrows reading and reclaiming to the
  streams this replica holds; it returns once every read started on a stream it let go has been
  handled and acknowledged, so two replicas never work on one stream at the same time. A stream
  newly held is reclaimed at the next cycle (entries a previous holder left pending).
- Leaving: `leave()` (called by the client's `close`) deletes this consumer from its group on
  every lane where it holds nothing pending; consumers of the group with nothing pending and idle
  for `stale_consumer_idle_ms` are removed by the live ones.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from google.protobuf.message import DecodeError, Message

from nautilus.contract import bus_message_classes
from nautilus.runtime.backoff import Backoff
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.dead_letter import dead_letter_fields
from nautilus.runtime.delivery import Delivery, Handler
from nautilus.runtime.errors import DeadLetterReason, TransportError, UndeliverableEntryError
from nautilus.runtime.lanes import (
    bulk_lane,
    dead_letter_stream,
    priority_lane,
    retry_lane,
    stream_of_lane,
)
from nautilus.runtime.resolver import TypeResolver
from nautilus.runtime.routing import MessageSpec, message_spec
from nautilus.runtime.transport.base import Entry, Transport
from nautilus.runtime.wire import decode_values

__all__ = ["Consumer", "ConsumerStats", "DeliveryObserver"]

_log = logging.getLogger(__name__)

_AsyncHandler = Callable[[Delivery[Any]], Awaitable[None]]

#: While handling a bulk batch, the priority lanes are read again after this long...
_PRIORITY_RECHECK_S = 0.001
#: ...checked at most this many entries apart (a clock read per entry would cost more).
_MAX_STRIDE = 32
#: Held entries are renewed this often, as a fraction of `reclaim_idle_ms`.
_RENEW_FRACTION = 4


class DeliveryObserver(Protocol):
    """Told of each handled delivery and each dead letter (metrics); None costs one check."""

    def observe(self, delivery: Delivery[Any], handler_seconds: float) -> None: ...

    def dead_lettered(self, lane: str, reason: DeadLetterReason) -> None: ...


class ConsumerStats:
    """Counters for monitoring (cheap: plain ints)."""

    __slots__ = (
        "dead_lettered",
        "failed",
        "handled",
        "ignored",
        "loop_restarts",
        "reclaimed",
        "renewed",
        "skipped_taken_over",
    )

    def __init__(self) -> None:
        self.handled = 0
        self.failed = 0
        self.ignored = 0
        self.reclaimed = 0
        self.dead_lettered = 0
        #: Claims renewed on held entries (entries counted once per renewal).
        self.renewed = 0
        #: Held entries a peer had taken over and acknowledged: skipped, not handled twice.
        self.skipped_taken_over = 0
        #: Consume cycles that ended in an unexpected error and were started again.
        self.loop_restarts = 0


@dataclass(frozen=True, slots=True)
class _Subscription:
    spec: MessageSpec
    #: Called as is: a plain function costs no coroutine; an awaitable result is awaited.
    handler: Handler[Any]


@dataclass(slots=True)
class _Held:
    """Entries read in one cycle and not yet handled: what the consumer renews its claim on."""

    renewed_at: float
    #: Batches read in the same cycle and waiting for the current one: (lane, entries).
    waiting: list[tuple[str, Sequence[Entry]]] = field(default_factory=list)
    #: (lane, id) of held entries that a peer took over and acknowledged meanwhile.
    gone: set[tuple[str, str]] = field(default_factory=set)
    #: Lanes read with NOACK: their entries are not pending (never acknowledged or renewed; a
    #: handler failure dead-letters them at once).
    noack: frozenset[str] = frozenset()


@cache
def _contract_routes() -> dict[str, dict[str, str]]:
    """Per route stream: every contract type routed on it, and that type's producer."""
    routes: dict[str, dict[str, str]] = {}
    for cls in bus_message_classes().values():
        route = message_spec(cls).route
        routes.setdefault(route.stream, {})[cls.DESCRIPTOR.full_name] = route.producer
    return routes


@cache
def _best_effort_streams(engine: str) -> frozenset[str]:
    """Route streams whose bulk lane `engine`'s group reads with NOACK: every contract type routed
    to the engine on the stream is best effort for it (`delivery` route option)."""
    best_effort: dict[str, bool] = {}
    for cls in bus_message_classes().values():
        route = message_spec(cls).route
        if engine in route.consumers:
            ok = engine in route.best_effort_consumers
            best_effort[route.stream] = best_effort.get(route.stream, True) and ok
    return frozenset(stream for stream, ok in best_effort.items() if ok)


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
        #: Per route stream: type name -> the route's producer (the routing check on read).
        self._routes: dict[str, dict[str, str]] = {}
        #: Every subscribed stream (a lease unit), in subscription order.
        self._streams: list[str] = []
        #: The streams this replica holds under leases; None: no leases, every stream is read.
        self._held: frozenset[str] | None = None
        #: Every lane of every subscribed stream (groups, leaving, the stale sweep, /health).
        self._every_lane: list[str] = []
        #: The lanes read and reclaimed (those of the held streams), rebuilt, never mutated.
        self._priority_lanes: list[str] = []
        self._all_lanes: list[str] = []
        self._bulk_only_lanes: list[str] = []
        #: Bulk lanes this group reads with NOACK (every type it receives there is best effort).
        self._noack_lanes: frozenset[str] = frozenset()
        #: The retry lanes of those streams: read in a command of their own, so only when due.
        self._noack_retry_lanes: frozenset[str] = frozenset()
        #: When those retry lanes are next read at the latest (monotonic seconds).
        self._next_retry_read = float("-inf")
        #: Reads in progress (from the read to the acknowledgement), by the lane epoch they read.
        self._epoch = 0
        self._cycles: dict[int, int] = {}
        self._cycles_done = asyncio.Condition()
        self._groups_ready = False
        self._last_reclaim = float("-inf")
        self._last_sweep = time.monotonic()
        self._renew_s = config.reclaim_idle_ms / 1000 / _RENEW_FRACTION
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
        """Every lane of the subscribed streams, priority lanes first."""
        return tuple(self._every_lane)

    @property
    def streams(self) -> tuple[str, ...]:
        """Every subscribed stream: the units replicas hold leases on."""
        return tuple(self._streams)

    @property
    def held(self) -> frozenset[str] | None:
        """The streams read under leases (None: no leases, all of them)."""
        return self._held

    @property
    def name(self) -> str:
        """This consumer's name in its group."""
        return self._name

    @property
    def reads_best_effort(self) -> bool:
        """Whether some lane is read with NOACK (a stream with a best-effort route)."""
        return bool(self._noack_lanes)

    def subscribe(self, spec: MessageSpec, handler: Handler[Any]) -> None:
        """Route entries of `spec`'s type to `handler` (one handler per type)."""
        if spec.full_name in self._subscriptions:
            raise ValueError(f"{spec.full_name} already has a handler")
        self._subscriptions[spec.full_name] = _Subscription(spec, handler)
        route_stream = spec.route.stream
        # A partitioned route's entries are on its partitions: each is read like a stream.
        for stream in spec.route.streams:
            routed = dict(_contract_routes().get(route_stream, {}))
            routes = self._routes.setdefault(stream, routed)
            routes[spec.full_name] = spec.route.producer
            if stream not in self._streams:
                self._streams.append(stream)
                if route_stream in _best_effort_streams(self._group):
                    self._noack_lanes |= {bulk_lane(stream)}
                    self._noack_retry_lanes |= {retry_lane(stream, self._group)}
                self._every_lane = self._lanes_of(self._streams)[0]
                self._rebuild_read_lanes()
                self._groups_ready = False

    def _lanes_of(self, streams: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
        """Every lane, the priority lanes and the others of `streams`, in read order: priority
        lanes, then replayed dead letters (this group's retry lanes), then bulk traffic."""
        priority = [priority_lane(stream) for stream in streams]
        bulk = [retry_lane(stream, self._group) for stream in streams] + list(streams)
        return [*priority, *bulk], priority, bulk

    def _rebuild_read_lanes(self) -> None:
        held = self._held
        streams = self._streams if held is None else [s for s in self._streams if s in held]
        self._all_lanes, self._priority_lanes, self._bulk_only_lanes = self._lanes_of(streams)
        self._next_retry_read = float("-inf")  # a stream newly held may have replays waiting
        self._epoch += 1

    async def hold(self, units: Collection[str], *, newly_held: Collection[str] = ()) -> None:
        """Read and reclaim only the streams `units` from now on (a replica's leases).

        Returns once every read started before on a stream no longer held has been handled and
        acknowledged (a read in flight is at most `read_block_ms` plus its batch's handling).
        Streams in `newly_held` are reclaimed at the next cycle: what a previous holder left
        pending and idle is taken over.
        """
        unknown = set(units) - set(self._streams)
        if unknown:
            raise ValueError(f"not subscribed to {sorted(unknown)}")
        self._held = frozenset(units)
        self._rebuild_read_lanes()
        if newly_held:
            self._last_reclaim = float("-inf")
        epoch = self._epoch
        async with self._cycles_done:
            await self._cycles_done.wait_for(
                lambda: not any(started < epoch for started in self._cycles)
            )

    def _cycle_started(self) -> int:
        epoch = self._epoch
        self._cycles[epoch] = self._cycles.get(epoch, 0) + 1
        return epoch

    async def _cycle_ended(self, epoch: int) -> None:
        left = self._cycles[epoch] - 1
        if left:
            self._cycles[epoch] = left
        else:
            del self._cycles[epoch]
        async with self._cycles_done:
            self._cycles_done.notify_all()

    async def _idle(self, block_ms: int | None) -> int:
        """Nothing held under leases: wait as a read would have, then report nothing done."""
        if block_ms:
            await asyncio.sleep(block_ms / 1000)
        return 0

    async def ensure_groups(self) -> None:
        """Create this engine's group on every lane it reads (idempotent, reads from the start)."""
        for lane in self._every_lane:
            await self._transport.ensure_group(lane, self._group)
        self._groups_ready = True

    async def poll(self, block_ms: int | None = None) -> int:
        """One cycle: reclaim if due, read a batch (priority lanes first), handle, acknowledge.

        Returns the number of entries processed. `block_ms` waits for new entries when there are
        none (None: return at once). Raises TransportError when the server cannot be reached.
        """
        if not self._every_lane:
            return 0
        if not self._groups_ready:
            await self.ensure_groups()
        if not self._all_lanes:
            return await self._idle(block_ms)
        epoch = self._cycle_started()
        try:
            return await self._poll(block_ms)
        finally:
            await self._cycle_ended(epoch)

    async def _poll(self, block_ms: int | None) -> int:
        processed = 0
        if time.monotonic() - self._last_reclaim >= self._config.reclaim_idle_ms / 2000:
            processed += await self.reclaim()
        count = self._config.read_count
        if self.priority_reader_active:
            wait = None if processed else block_ms
            batches = await self._read(self._bulk_only_lanes, count, wait)
            return processed + await self._process_all(batches)
        self._next_priority_read = time.monotonic() + _PRIORITY_RECHECK_S
        batches = await self._transport.read_group(
            self._group, self._name, self._priority_lanes, count=count, block_ms=None
        )
        urgent_entries = sum(len(entries) for _, entries in batches)
        if urgent_entries < count:
            # Only a read that found no priority entry blocks: entries are delivered about when
            # the last read returns, which is when their renewal clock starts.
            wait = None if processed or urgent_entries else block_ms
            batches += await self._read(self._all_lanes, count, wait)
        batches.sort(key=lambda batch: batch[0] not in self._priority_lanes)
        return processed + await self._process_all(batches)

    async def _read(
        self, lanes: list[str], count: int, block_ms: int | None
    ) -> list[tuple[str, list[Entry]]]:
        """Read `lanes`, the ones this group reads with NOACK in a read of their own after the
        others (it blocks only when the others had nothing); batches in the order of `lanes`.
        The acknowledged read is skipped when it would only name the NOACK streams' retry lanes
        and they are not due (`_retry_lanes_due`)."""
        noack = self._noack_lanes
        if not noack:
            return await self._transport.read_group(
                self._group, self._name, lanes, count=count, block_ms=block_ms
            )
        acked = [lane for lane in lanes if lane not in noack]
        batches = []
        if acked and self._retry_lanes_due(acked):
            batches = await self._transport.read_group(
                self._group, self._name, acked, count=count, block_ms=None
            )
            if any(lane in self._noack_retry_lanes for lane, _ in batches):
                self._next_retry_read = float("-inf")  # a replay is under way: read on
        read = await self._transport.read_group(
            self._group,
            self._name,
            [lane for lane in lanes if lane in noack],
            count=count,
            block_ms=None if batches else block_ms,
            noack=True,
        )
        if not read:
            self._next_retry_read = float("-inf")  # caught up: look at the retry lanes next
        if not batches:
            return read
        if read:
            batches += read
            batches.sort(key=lambda batch: lanes.index(batch[0]))
        return batches

    def _retry_lanes_due(self, acked: list[str]) -> bool:
        """Whether the acknowledged read of `acked` is worth its command now.

        It is when it names a lane other than the retry lanes of the streams read with NOACK
        (the command goes out anyway), or when those retry lanes are due: `read_block_ms` after
        their last read, or earlier when the last NOACK read found nothing or the last read of
        them returned entries. A retry lane holds only replayed dead letters, so a consumer that
        keeps up with its NOACK lanes would otherwise spend a command per cycle on an empty key.
        """
        now = time.monotonic()
        retry_only = all(lane in self._noack_retry_lanes for lane in acked)
        if retry_only and now < self._next_retry_read:
            return False
        self._next_retry_read = now + self._config.read_block_ms / 1000
        return True

    async def _process_all(self, batches: list[tuple[str, list[Entry]]]) -> int:
        """Process the batches of one read in order, renewing the ones that wait their turn."""
        held = _Held(time.monotonic(), waiting=list(batches), noack=self._noack_lanes)
        processed = 0
        while held.waiting:
            lane, entries = held.waiting.pop(0)
            processed += await self._process(lane, entries, None, held)
        return processed

    async def read_priority_lanes(self, block_ms: int | None) -> int:
        """Read the priority lanes only (waiting up to `block_ms` for an entry) and process what
        came; the `PriorityReader`'s cycle. Raises TransportError when the server is unreachable."""
        if not self._every_lane:
            return 0
        if not self._groups_ready:
            await self.ensure_groups()
        if not self._priority_lanes:
            return await self._idle(block_ms)
        epoch = self._cycle_started()
        try:
            return await self._read_priority_lanes(block_ms)
        finally:
            await self._cycle_ended(epoch)

    async def _read_priority_lanes(self, block_ms: int | None) -> int:
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
        return await self._process_all(batches)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, surviving outages and unexpected errors with backoff."""
        backoff = Backoff(self._config.reconnect_initial_ms, self._config.reconnect_max_ms)
        while not stop.is_set():
            try:
                await self.poll(self._config.read_block_ms)
                if time.monotonic() - self._last_sweep >= self._sweep_interval_s():
                    await self._sweep_stale_consumers()
            except TransportError as exc:
                delay = backoff.next_delay_s()
                if backoff.failures == 1 or backoff.failures % 50 == 0:
                    _log.warning("consumer %s: %s; retrying in %.3fs", self._name, exc, delay)
                self._groups_ready = False
                await asyncio.sleep(delay)
            except (Exception, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError) and _being_cancelled():
                    raise
                self.stats.loop_restarts += 1
                delay = backoff.next_delay_s()
                _log.error(
                    "consumer %s: cycle failed (%r); starting again in %.3fs",
                    self._name,
                    exc,
                    delay,
                    exc_info=exc,
                )
                self._groups_ready = False
                await asyncio.sleep(delay)
            else:
                backoff.reset()

    def _sweep_interval_s(self) -> float:
        return self._config.stale_consumer_idle_ms / 1000 / 2

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
                claimed_at = time.monotonic()
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
                    processed += await self._process(lane, claim.entries, counts, _Held(claimed_at))
                if claim.next_start in ("0-0", "0"):
                    break
                start = claim.next_start
        return processed

    async def leave(self) -> list[str]:
        """Delete this consumer from its group on every lane where it holds nothing pending.

        Returns the lanes it left. Where it still holds entries it stays a member: its entries
        are reclaimed by a live consumer after `reclaim_idle_ms`, and once it holds nothing the
        stale sweep of the live ones removes it. Raises TransportError when the server cannot be
        reached.
        """
        left = []
        for lane in self._every_lane:
            removed = await self._transport.remove_consumers(
                lane, self._group, min_idle_ms=0, names=(self._name,)
            )
            if self._name in removed:
                left.append(lane)
        return left

    async def _sweep_stale_consumers(self) -> None:
        """Remove consumers of the group that hold nothing and were idle too long (dead ones)."""
        self._last_sweep = time.monotonic()
        for lane in self._every_lane:
            try:
                removed = await self._transport.remove_consumers(
                    lane, self._group, min_idle_ms=self._config.stale_consumer_idle_ms
                )
            except TransportError as exc:
                _log.warning("consumer %s: stale consumer sweep skipped: %s", self._name, exc)
                return
            if removed:
                _log.info("%s: removed stale consumers %s from %s", lane, removed, self._group)

    async def _process(
        self,
        lane: str,
        entries: Sequence[Entry],
        counts: Mapping[str, int] | None,
        held: _Held,
    ) -> int:
        acks: list[str] = []
        limit = self._config.max_deliveries
        stream = stream_of_lane(lane)
        dispatch = self._dispatch
        gone = held.gone
        # A bulk batch takes milliseconds to handle; the priority lanes are looked at again
        # between slices of it, so URGENT/CRITICAL never wait for the whole batch.
        watch_priority = counts is None and lane not in self._priority_lanes
        # With a priority reader, a bulk batch only yields to the loop at its checkpoints: the
        # reader's outstanding read has the priority entries already.
        yield_only = watch_priority and self.priority_reader_active
        #: Entries of a NOACK read are not pending: neither acknowledged nor retried.
        lossy = lane in held.noack
        started = time.monotonic()
        check_at = 1
        for index, (entry_id, fields) in enumerate(entries):
            if index >= check_at:
                check_at = index + await self._checkpoint(
                    lane,
                    entries,
                    index,
                    acks,
                    held,
                    started=started,
                    watch_priority=watch_priority,
                    yield_only=yield_only,
                )
            if gone and (lane, entry_id) in gone:
                self.stats.skipped_taken_over += 1
                continue
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
                done = await dispatch(stream, lane, entry_id, fields, deliveries, last_try=lossy)
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
            if done and not lossy:
                acks.append(entry_id)
        if acks:
            await self._transport.ack(lane, self._group, acks)
        return len(entries)

    async def _checkpoint(
        self,
        lane: str,
        entries: Sequence[Entry],
        index: int,
        acks: list[str],
        held: _Held,
        *,
        started: float,
        watch_priority: bool,
        yield_only: bool,
    ) -> int:
        """Between two entries: serve the priority lanes and renew held entries when due.

        Returns how many entries to handle before the next checkpoint: enough for about an
        eighth of the renewal interval at the handler's measured pace, at most `_MAX_STRIDE`.
        """
        now = time.monotonic()
        if now - held.renewed_at >= self._renew_s:
            if acks:
                await self._transport.ack(lane, self._group, acks)
                acks.clear()
            await self._renew(lane, entries[index:], held)
        if yield_only:
            await asyncio.sleep(0)
        elif watch_priority and now >= self._next_priority_read:
            await self._serve_priority_lanes()
        per_entry_s = (now - started) / index
        if per_entry_s <= 0:
            return _MAX_STRIDE
        return max(1, min(_MAX_STRIDE, int(self._renew_s / 8 / per_entry_s)))

    async def _renew(self, lane: str, remaining: Sequence[Entry], held: _Held) -> None:
        """Renew the claim on every held entry; note those a peer took over and acknowledged."""
        held.renewed_at = time.monotonic()
        for key, entries in ((lane, remaining), *held.waiting):
            if key in held.noack:
                continue
            ids = [entry_id for entry_id, _ in entries]
            if not ids:
                continue
            kept = set(await self._transport.keep_claimed(key, self._group, self._name, ids))
            self.stats.renewed += len(kept)
            if len(kept) < len(ids):
                held.gone.update((key, entry_id) for entry_id in ids if entry_id not in kept)

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
        await self._process_all(batches)

    async def _dispatch(
        self,
        stream: str,
        lane: str,
        entry_id: str,
        fields: Mapping[bytes, bytes],
        deliveries: int,
        *,
        last_try: bool = False,
    ) -> bool:
        """Hand one entry to its handler; True when it may be acknowledged. With `last_try` (a
        best-effort entry, never redelivered) a failing handler dead-letters it at once."""
        values = decode_values(fields)
        message_type = values[0]
        routes = self._routes[stream]
        if routes.get(message_type) != values[3]:
            raise self._misrouted(stream, message_type, values[3], routes)
        subscription = self._subscriptions.get(message_type)
        if subscription is None:
            self.stats.ignored += 1
            return True
        key = (message_type, values[1])
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = await self._resolver.resolve(*key)
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
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and _being_cancelled():
                raise
            self.stats.failed += 1
            if last_try:
                raise UndeliverableEntryError(
                    DeadLetterReason.MAX_DELIVERIES,
                    f"handler failed on a best-effort entry, which is not redelivered: {exc!r}",
                ) from exc
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

    def _misrouted(
        self, stream: str, message_type: str, producer: str, routes: Mapping[str, str]
    ) -> UndeliverableEntryError:
        """Why an entry may not reach a handler: unknown type, or not this stream's route."""
        expected = routes.get(message_type)
        if expected is not None:
            return UndeliverableEntryError(
                DeadLetterReason.MISROUTED,
                f"{message_type} on {stream} comes from {expected!r}, "
                f"this entry names producer {producer!r}",
            )
        for routed, types in _contract_routes().items():
            if message_type in types:
                return UndeliverableEntryError(
                    DeadLetterReason.MISROUTED,
                    f"{message_type} is routed on {routed}, not {stream}",
                )
        return UndeliverableEntryError(
            DeadLetterReason.UNKNOWN_TYPE, f"no schema for message type {message_type!r}"
        )

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


def _being_cancelled() -> bool:
    """True when the running task itself is being cancelled (not a handler raising the error)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
