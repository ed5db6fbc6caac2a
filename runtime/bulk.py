"""`BulkPublisher`: the synchronous fast path for bulk publishing to Redis (loaders, replays).

It shares routing checks, wire encoding and command packing with the asyncio client, and keeps the
same delivery contract without an event loop: bulk messages are packed at publish time and written
in one `writelines` per `max_buffer_size` batch; URGENT and CRITICAL are written before `publish`
returns. With no background thread, the time bound is checked on each publish and on `flush()`:
call `flush()` (or use it as a context manager) when a burst ends.

Failures: a write that fails is retried with backoff while the buffer holds fewer than
`max_unsent_messages`; at the bound, "raise" raises BackpressureError at once and "block" keeps
retrying for `backpressure_timeout_s` before raising. Unsent messages stay buffered either way.
"""

from __future__ import annotations

import contextlib
import time
from types import TracebackType
from typing import Any, Self

from google.protobuf.message import Message
from redis import ConnectionPool
from redis.exceptions import RedisError, ResponseError

from nautilus.runtime.backoff import Backoff
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.errors import BackpressureError, ClientStateError, TransportError
from nautilus.runtime.lanes import lane_for
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import message_spec, require_producer
from nautilus.runtime.transport.redis import pack_add
from nautilus.runtime.wire import encode_entry

__all__ = ["BulkPublisher"]


class BulkPublisher:
    """Blocking publisher for one engine, writing straight to Redis."""

    def __init__(self, config: MessageBusConfig, url: str | None = None) -> None:
        target = url or config.redis_url
        if not target:
            raise ValueError("BulkPublisher needs a Redis URL (config.redis_url or REDIS_URL)")
        self.config = config
        password = config.redis_password
        self._pool = ConnectionPool.from_url(
            target,
            password=password.get_secret_value() if password is not None else None,
            socket_connect_timeout=1.0,
            socket_timeout=10.0,
            health_check_interval=0,
        )
        self._producer = config.engine.encode()
        self._bulk: list[bytes] = []
        self._first_buffered_at = 0.0
        self._interval_s = config.buffer_interval_ms / 1000
        self._backoff = Backoff(config.reconnect_initial_ms, config.reconnect_max_ms)
        self._closed = False
        self.written = 0

    @property
    def unsent(self) -> int:
        return len(self._bulk)

    def publish(
        self,
        message: Message,
        *,
        priority: MessagePriority | None = None,
        key: str | None = None,
        trace_context: str | None = None,
    ) -> None:
        """Buffer `message` (URGENT/CRITICAL: write it now); RoutingError if not this engine's."""
        if self._closed:
            raise ClientStateError("BulkPublisher is closed")
        spec = message_spec(type(message))
        require_producer(spec, self.config.engine)
        chosen = priority or spec.route.priority
        fields = encode_entry(
            spec.type_bytes,
            spec.fingerprint_bytes,
            message.SerializeToString(),
            producer=self._producer,
            published_at_ns=self.config.clock.timestamp_ns(),
            priority=chosen,
            key=key,
            trace_context=trace_context,
        )
        packed = pack_add(lane_for(spec.route.stream, chosen).encode(), fields)
        if chosen.uses_priority_lane:
            self._write_with_retry([packed], spec.route.stream)
            return
        if len(self._bulk) >= self.config.max_unsent_messages:
            self._make_room(spec.route.stream)
        if not self._bulk:
            self._first_buffered_at = time.monotonic()
        self._bulk.append(packed)
        if (
            len(self._bulk) >= self.config.max_buffer_size
            or time.monotonic() - self._first_buffered_at >= self._interval_s
        ):
            self._try_flush()

    def publish_many(self, messages: list[Message]) -> None:
        """Publish each message in order at its route's priority."""
        for message in messages:
            self.publish(message)

    def flush(self) -> None:
        """Write everything buffered, retrying until written or the backpressure timeout."""
        if self._bulk:
            self._write_with_retry(None, self.config.stream_key)

    def close(self) -> None:
        """Flush and release the connection pool."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._pool.disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _try_flush(self) -> None:
        # On failure the batch stays buffered: retried on the next flush or at the bound.
        with contextlib.suppress(TransportError):
            self._write_buffered()

    def _make_room(self, stream: str) -> None:
        if self.config.backpressure == "raise":
            try:
                self._write_buffered()
            except TransportError:
                raise BackpressureError(
                    stream, len(self._bulk), self.config.max_unsent_messages
                ) from None
            return
        self._write_with_retry(None, stream)

    def _write_with_retry(self, commands: list[bytes] | None, stream: str) -> None:
        started = time.monotonic()
        while True:
            try:
                if commands is None:
                    self._write_buffered()
                else:
                    self._send(commands)
                self._backoff.reset()
                return
            except TransportError:
                waited = time.monotonic() - started
                if waited >= self.config.backpressure_timeout_s:
                    raise BackpressureError(
                        stream, len(self._bulk), self.config.max_unsent_messages, waited
                    ) from None
                time.sleep(self._backoff.next_delay_s())

    def _write_buffered(self) -> None:
        size = self.config.max_buffer_size
        while self._bulk:
            batch = self._bulk[:size]
            self._send(batch)
            del self._bulk[: len(batch)]

    def _send(self, commands: list[bytes]) -> None:
        try:
            conn: Any = self._pool.get_connection()
        except (RedisError, OSError) as exc:
            raise TransportError("XADD batch", repr(exc)) from exc
        try:
            conn.send_packed_command(commands, check_health=False)
            errors = []
            for _ in commands:
                try:
                    conn.read_response()
                except ResponseError as exc:
                    errors.append(str(exc))
        except (RedisError, OSError) as exc:
            conn.disconnect()
            raise TransportError("XADD batch", repr(exc)) from exc
        finally:
            self._pool.release(conn)
        self.written += len(commands)
        if errors:
            raise TransportError("XADD batch", f"{len(errors)} rejected, first: {errors[0]}")
