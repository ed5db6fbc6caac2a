"""What a lane looks like right now: length, consumer groups, their lag and their consumers.

Read-only inspection for operators (`nautilus stats`) and health endpoints, straight from the
server's own bookkeeping (XINFO STREAM / GROUPS / CONSUMERS), so it costs the bus nothing and
describes every process of every engine, not just the one asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from nautilus.runtime.admin import RedisAdmin

__all__ = ["ConsumerInfo", "GroupInfo", "LaneInfo", "lane_info"]


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    """One consumer (process) of a group."""

    name: str
    #: Entries delivered to this consumer and not yet acknowledged.
    pending: int
    #: Milliseconds since this consumer last read or claimed.
    idle_ms: int


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """One consumer group (engine) of a lane."""

    name: str
    #: Entries delivered to the group and not yet acknowledged.
    pending: int
    #: Entries in the lane not yet delivered to the group; None when the server cannot tell
    #: (entries were deleted from the middle of the lane).
    lag: int | None
    last_delivered_id: str
    #: Entries the group has read since the lane began; None when the server cannot tell.
    entries_read: int | None
    consumers: tuple[ConsumerInfo, ...]


@dataclass(frozen=True, slots=True)
class LaneInfo:
    """One stream key (a lane or a dead-letter stream) and its groups."""

    key: str
    #: False when the key does not exist (nothing was ever written and no group created it).
    exists: bool
    length: int
    #: Entries ever appended (not reduced by trimming): the difference of two samples over an
    #: interval is the write rate.
    entries_added: int
    last_id: str | None
    groups: tuple[GroupInfo, ...]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


async def lane_info(
    redis: RedisAdmin | Redis, key: str, *, with_consumers: bool = True
) -> LaneInfo:
    """The state of stream `key`; a missing key is reported as empty, not as an error.

    Raises ServerUnreachableError or ServerRejectedError (runtime/admin.py).
    """
    admin = RedisAdmin.of(redis)
    stream = await admin.stream_info(key)
    if stream is None:
        return LaneInfo(key, False, 0, 0, None, ())
    groups = await _groups(admin, key, with_consumers) if int(stream.get("groups", 0)) else ()
    last_id = stream.get("last-generated-id")
    return LaneInfo(
        key=key,
        exists=True,
        length=int(stream["length"]),
        entries_added=int(stream.get("entries-added") or stream["length"]),
        last_id=None if last_id is None else _text(last_id),
        groups=groups,
    )


async def _groups(admin: RedisAdmin, key: str, with_consumers: bool) -> tuple[GroupInfo, ...]:
    result = []
    for group in await admin.groups(key):
        name = _text(group["name"])
        consumers: tuple[ConsumerInfo, ...] = ()
        if with_consumers and int(group.get("consumers", 0)):
            consumers = tuple(
                ConsumerInfo(_text(c["name"]), int(c["pending"]), int(c["idle"]))
                for c in await admin.consumers(key, name)
            )
        result.append(
            GroupInfo(
                name=name,
                pending=int(group["pending"]),
                lag=_optional_int(group.get("lag")),
                last_delivered_id=_text(group["last-delivered-id"]),
                entries_read=_optional_int(group.get("entries-read")),
                consumers=consumers,
            )
        )
    return tuple(result)
