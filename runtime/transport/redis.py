"""The Redis Streams transport: redis.asyncio with hiredis, XADDs packed once and sent in batches.

Publishing never builds per-message command objects: `prepare_add` packs the complete XADD with
hiredis when the message is published, and `send_adds` writes a whole batch with one `writelines`
on one pooled connection and then reads the replies. Everything else (reads, acks, claims, trims)
goes through redis-py's client, batched per call by the bus.

redis-py's own retries are disabled: a failed call raises TransportError at once and the bus
decides how to back off, so an outage never hides inside a library retry loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry

from nautilus.runtime.errors import TransportError
from nautilus.runtime.transport.base import ClaimResult, Entry, GroupState, PreparedAdd
from nautilus.runtime.wire import EncodedEntry

__all__ = ["RedisTransport", "pack_add"]

_XADD = b"XADD"
_AUTO_ID = b"*"


def pack_add(key: bytes, fields: EncodedEntry) -> bytes:
    """The RESP encoding of `XADD key * field value ...` (shared by the sync bulk path)."""
    command: Any = (_XADD, key, _AUTO_ID, *fields)
    return cast(bytes, hiredis.pack_command(command))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entries(raw: Any) -> list[Entry]:
    return [(_text(entry_id), fields or {}) for entry_id, fields in raw]


class RedisTransport:
    """Transport over one Redis (or Valkey) server; see transport/base.py for the contract."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 16,
        socket_timeout_s: float = 10.0,
        connect_timeout_s: float = 1.0,
    ) -> None:
        self.url = url
        self._redis: Redis = Redis.from_url(
            url,
            decode_responses=False,
            max_connections=max_connections,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=connect_timeout_s,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._pool = self._redis.connection_pool

    def __repr__(self) -> str:
        return f"RedisTransport({self.url!r})"

    @property
    def client(self) -> Redis:
        """The underlying redis.asyncio client (inspection and tests)."""
        return self._redis

    def prepare_add(self, key: str, fields: EncodedEntry) -> PreparedAdd:
        return pack_add(key.encode(), fields)

    async def send_adds(self, batch: Sequence[PreparedAdd]) -> list[str]:
        if not batch:
            return []
        try:
            pool: Any = self._pool
            conn = cast(Connection, await pool.get_connection())
        except (RedisError, OSError) as exc:
            raise TransportError("XADD batch", repr(exc)) from exc
        try:
            await conn.send_packed_command(cast(Sequence[bytes], batch), check_health=False)
            ids: list[str] = []
            errors: list[str] = []
            for _ in batch:
                try:
                    ids.append((await conn.read_response()).decode())
                except ResponseError as exc:
                    errors.append(str(exc))
        except (RedisError, OSError) as exc:
            await conn.disconnect()
            raise TransportError("XADD batch", repr(exc)) from exc
        finally:
            await self._pool.release(conn)
        if errors:
            raise TransportError("XADD batch", f"{len(errors)} rejected, first: {errors[0]}")
        return ids

    async def ensure_group(self, key: str, group: str) -> None:
        try:
            await self._redis.xgroup_create(key, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise TransportError("XGROUP CREATE", str(exc)) from exc
        except (RedisError, OSError) as exc:
            raise TransportError("XGROUP CREATE", repr(exc)) from exc

    async def read_group(
        self, group: str, consumer: str, keys: Sequence[str], *, count: int, block_ms: int | None
    ) -> list[tuple[str, list[Entry]]]:
        try:
            raw: Any = await self._redis.xreadgroup(
                group, consumer, dict.fromkeys(keys, ">"), count=count, block=block_ms
            )
        except (RedisError, OSError) as exc:
            raise TransportError("XREADGROUP", repr(exc)) from exc
        return [(_text(key), _entries(entries)) for key, entries in raw or ()]

    async def ack(self, key: str, group: str, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        try:
            return int(await self._redis.xack(key, group, *ids))
        except (RedisError, OSError) as exc:
            raise TransportError("XACK", repr(exc)) from exc

    async def autoclaim(
        self, key: str, group: str, consumer: str, *, min_idle_ms: int, start: str, count: int
    ) -> ClaimResult:
        try:
            raw: Any = await self._redis.xautoclaim(key, group, consumer, min_idle_ms, start, count)
        except (RedisError, OSError) as exc:
            raise TransportError("XAUTOCLAIM", repr(exc)) from exc
        deleted = raw[2] if len(raw) > 2 else []
        return ClaimResult(
            next_start=_text(raw[0]),
            entries=_entries(raw[1]),
            deleted_ids=[_text(i) for i in deleted],
        )

    async def delivery_counts(self, key: str, group: str, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        for entry_id in ids:
            pipe.xpending_range(key, group, min=entry_id, max=entry_id, count=1)
        try:
            replies = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise TransportError("XPENDING", repr(exc)) from exc
        counts: dict[str, int] = {}
        for reply in replies:
            for item in reply:
                counts[_text(item["message_id"])] = int(item["times_delivered"])
        return counts

    async def group_states(self, key: str) -> list[GroupState]:
        try:
            groups = await self._redis.xinfo_groups(key)
            states = []
            for group in groups:
                name = _text(group["name"])
                pending = int(group["pending"])
                first = None
                if pending:
                    summary = await self._redis.xpending(key, name)
                    first = _text(summary["min"])
                states.append(GroupState(name, _text(group["last-delivered-id"]), pending, first))
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return []
            raise TransportError("XINFO GROUPS", str(exc)) from exc
        except (RedisError, OSError) as exc:
            raise TransportError("XINFO GROUPS", repr(exc)) from exc
        return states

    async def length(self, key: str) -> int:
        try:
            return int(await self._redis.xlen(key))
        except (RedisError, OSError) as exc:
            raise TransportError("XLEN", repr(exc)) from exc

    async def id_at(self, key: str, index: int) -> str | None:
        try:
            size = int(await self._redis.xlen(key))
            if index < 0 or index >= size:
                return None
            if index < size // 2:
                raw = await self._redis.xrange(key, count=index + 1)
            else:
                raw = await self._redis.xrevrange(key, count=size - index)
        except (RedisError, OSError) as exc:
            raise TransportError("XRANGE", repr(exc)) from exc
        return _text(raw[-1][0]) if raw else None

    async def trim_before(self, key: str, min_id: str) -> int:
        try:
            return int(await self._redis.xtrim(key, minid=min_id, approximate=False))
        except (RedisError, OSError) as exc:
            raise TransportError("XTRIM", repr(exc)) from exc

    async def add_one(self, key: str, fields: EncodedEntry) -> str:
        try:
            client: Any = self._redis
            entry_id = await client.execute_command("XADD", key, "*", *fields)
        except (RedisError, OSError) as exc:
            raise TransportError("XADD", repr(exc)) from exc
        return _text(entry_id)

    async def range(self, key: str, start: str = "-", end: str = "+") -> list[Entry]:
        try:
            return _entries(await self._redis.xrange(key, start, end))
        except (RedisError, OSError) as exc:
            raise TransportError("XRANGE", repr(exc)) from exc

    async def close(self) -> None:
        await self._redis.aclose()
