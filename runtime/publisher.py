"""The asyncio publisher: a buffered, pipelined bulk lane and an unbuffered priority lane.

Guarantees:

- Order: messages published to one lane by one publisher are written in publish order.
- Latency: URGENT and CRITICAL messages are handed to their own flusher at once and written on
  their own connection, so they never wait for a bulk flush in progress or a bulk interval.
- Throughput: bulk messages are packed into complete commands at publish time and written every
  `buffer_interval_ms`, or as soon as `max_buffer_size` are waiting, in one write per batch.
- Bounded memory, no silent drops: at most `max_unsent_messages` are held; past that a publish
  waits (policy "block", up to `backpressure_timeout_s`) or raises BackpressureError ("raise").
- Outages: a failed write is retried with exponential backoff until the server is back; the
  messages stay buffered meanwhile. A write that failed half-way may be repeated, so delivery is
  at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from google.protobuf.message import Message

from nautilus.runtime.backoff import Backoff
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.errors import BackpressureError, ClientStateError, TransportError
from nautilus.runtime.lanes import lane_for
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import MessageSpec
from nautilus.runtime.transport.base import PreparedAdd, Transport
from nautilus.runtime.wire import encode_entry

__all__ = ["Publisher", "PublisherStats"]

_log = logging.getLogger(__name__)

_URGENT = MessagePriority.URGENT


class PublisherStats:
    """Counters for monitoring (cheap: plain ints)."""

    __slots__ = ("backpressure_events", "batches", "failed_writes", "written")

    def __init__(self) -> None:
        self.written = 0
        self.batches = 0
        self.failed_writes = 0
        self.backpressure_events = 0


class _Lane:
    """One lane's queue of prepared writes and the events that wake its flusher."""

    __slots__ = ("buffer", "full", "name", "nonempty")

    def __init__(self, name: str) -> None:
        self.name = name
        self.buffer: list[PreparedAdd] = []
        self.nonempty = asyncio.Event()
        self.full = asyncio.Event()


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
        self.stats = PublisherStats()
        #: Lane keys this publisher has written to (the trimmer's work list).
        self.lanes_used: set[str] = set()
        #: Per route stream: (bulk lane key, priority lane key), indexed by "is urgent".
        self._lane_keys: dict[str, tuple[str, str]] = {}

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
        # The hot path of every publish: no per-message objects beyond the payload, the entry
        # tuple and the packed command; lane keys are looked up, not derived.
        if self._closed:
            raise ClientStateError("publisher is closed")
        bulk_buffer = self._bulk.buffer
        urgent_buffer = self._urgent.buffer
        if len(bulk_buffer) + len(urgent_buffer) >= self._limit:
            self._room.clear()
            return False
        urgent = priority >= _URGENT
        stream = spec.route.stream
        lane_keys = self._lane_keys.get(stream)
        if lane_keys is None:
            lane_keys = (lane_for(stream, MessagePriority.NORMAL), lane_for(stream, _URGENT))
            self._lane_keys[stream] = lane_keys
        lane_key = lane_keys[urgent]
        if lane_key not in self.lanes_used:
            self.lanes_used.add(lane_key)
        fields = encode_entry(
            spec.type_bytes,
            spec.fingerprint_bytes,
            message.SerializeToString(),
            producer=self._producer,
            published_at_ns=self._clock.timestamp_ns(),
            priority=priority,
            key=key,
            trace_context=trace_context,
        )
        buffer = urgent_buffer if urgent else bulk_buffer
        buffer.append(self._transport.prepare_add(lane_key, fields))
        if urgent:
            lane = self._urgent
            if len(buffer) == 1:
                self._drained.clear()
                lane.nonempty.set()
            lane.full.set()
        else:
            if len(buffer) == 1:
                self._drained.clear()
                self._bulk.nonempty.set()
            if len(buffer) >= self._batch_size:
                self._bulk.full.set()
        return True

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

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every accepted message is written (TimeoutError after `timeout_s`)."""
        self._bulk.full.set()
        await asyncio.wait_for(self._drained.wait(), timeout_s)

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
            batch = buffer[: self._batch_size]
            try:
                await self._transport.send_adds(batch)
            except TransportError as exc:
                self.stats.failed_writes += 1
                delay = backoff.next_delay_s()
                if backoff.failures == 1 or backoff.failures % 50 == 0:
                    _log.warning(
                        "%s lane: write of %d failed (%s); %d unsent, retrying in %.3fs",
                        lane.name,
                        len(batch),
                        exc,
                        self.unsent,
                        delay,
                    )
                await asyncio.sleep(delay)
                continue
            if backoff.failures:
                _log.info("%s lane: write succeeded after %d failures", lane.name, backoff.failures)
                backoff.reset()
            del buffer[: len(batch)]
            self.stats.written += len(batch)
            self.stats.batches += 1
            self._room.set()
        lane.nonempty.clear()
        if not self._bulk.buffer and not self._urgent.buffer:
            self._drained.set()

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
