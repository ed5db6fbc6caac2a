"""A group-less reader of bus streams: what a WebSocket edge reads the engine's updates with.

`StreamTail` reads the lanes of the streams its types are routed on the way `nautilus tail` does:
plain XREAD, no consumer group, so it takes nothing from any engine's group and acknowledges
nothing, and any number of readers each get every entry. It starts at the streams' ends when it
starts (an edge serves what happens from now on), hands each message of its types to a callback,
and never dead-letters: an entry it cannot read is counted and skipped, since the stream's routed
consumers deal with it. Server errors are retried with a capped backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from google.protobuf.message import DecodeError, Message

from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.backoff import Backoff
from nautilus.runtime.errors import TransportError, UndeliverableEntryError
from nautilus.runtime.lanes import lanes_in_read_order
from nautilus.runtime.resolver import LocalTypeResolver
from nautilus.runtime.routing import message_spec
from nautilus.runtime.wire import decode_entry

__all__ = ["StreamTail"]

_log = logging.getLogger(__name__)

_BLOCK_MS = 500
_COUNT = 500


class StreamTail:
    """Reads `types` from their streams' lanes and hands each message to `deliver`."""

    def __init__(
        self,
        redis_url: str,
        deliver: Callable[[Message], Awaitable[None]],
        types: tuple[type[Message], ...],
    ) -> None:
        self._redis_url = redis_url
        self._deliver = deliver
        self._wanted = {cls.DESCRIPTOR.full_name for cls in types}
        streams = {message_spec(cls).route.stream for cls in types}
        self.lanes = tuple(sorted(lane for s in streams for lane in lanes_in_read_order(s)))
        self._resolver = LocalTypeResolver()
        #: Messages delivered, and entries of one of the types that could not be read.
        self.delivered = 0
        self.unreadable = 0

    async def run(self, started: asyncio.Event | None = None) -> None:
        """Read until cancelled, reconnecting after server errors."""
        admin = RedisAdmin.from_url(self._redis_url)
        backoff = Backoff(100, 5_000)
        try:
            positions: dict[str, str] = {}
            while not positions:
                try:
                    positions = {lane: await _last_id(admin, lane) for lane in self.lanes}
                except TransportError as exc:
                    await self._wait_after(exc, backoff)
            if started is not None:
                started.set()
            while True:
                try:
                    answer = await admin.read_after(positions, count=_COUNT, block_ms=_BLOCK_MS)
                except TransportError as exc:
                    await self._wait_after(exc, backoff)
                    continue
                backoff.reset()
                for lane, entries in answer:
                    for entry_id, fields in entries:
                        positions[lane] = entry_id
                        await self._entry(fields)
        finally:
            with contextlib.suppress(TransportError):
                await admin.close()

    async def _entry(self, fields: Mapping[bytes, bytes]) -> None:
        message = self._read(fields)
        if message is not None:
            self.delivered += 1
            await self._deliver(message)

    def _read(self, fields: Mapping[bytes, bytes]) -> Message | None:
        """The entry's message if it is of one of the types and readable here, else None (an
        unreadable one is counted; the routed consumers dead-letter it)."""
        try:
            entry = decode_entry(fields)
        except UndeliverableEntryError:
            self.unreadable += 1
            return None
        if entry.message_type not in self._wanted:
            return None
        cls, fingerprint = self._resolver.local(entry.message_type)
        if entry.fingerprint != fingerprint:
            self.unreadable += 1
            return None
        try:
            return cls.FromString(entry.payload)
        except DecodeError:
            self.unreadable += 1
            return None

    @staticmethod
    async def _wait_after(exc: Exception, backoff: Backoff) -> None:
        delay = backoff.next_delay_s()
        if backoff.failures == 1:
            _log.warning("stream tail: server error (retrying every few seconds): %s", exc)
        await asyncio.sleep(delay)


async def _last_id(admin: RedisAdmin, lane: str) -> str:
    newest = await admin.latest_entries(lane, 1)
    return newest[0][0] if newest else "0-0"
