"""Raw server state for tests that check the wire format as another client would see it.

Entries are written with plain XADD and read back with plain XRANGE, with redis-py's reply parsing
turned off for XRANGE, so a field written twice shows up twice and nothing of the runtime's own
reading code is involved.
"""

from __future__ import annotations

from typing import Any

import redis

__all__ = ["RawEntry", "raw_connection", "xadd_raw", "xrange_raw"]

RawEntry = tuple[str, list[tuple[bytes, bytes]]]


def raw_connection(url: str) -> redis.Redis:
    connection = redis.Redis.from_url(url)
    connection.set_response_callback("XRANGE", lambda response, **_: response)
    return connection


def xadd_raw(
    connection: redis.Redis, key: str, fields: list[tuple[bytes, bytes]], entry_id: str = "*"
) -> str:
    """XADD `key` `entry_id` with `fields` in the given order (duplicates and all)."""
    flat: list[Any] = [value for pair in fields for value in pair]
    added: bytes = connection.execute_command("XADD", key, entry_id, *flat)
    return added.decode()


def xrange_raw(connection: redis.Redis, key: str) -> list[RawEntry]:
    """Every entry of `key` as (id, [(field, value), ...]) in the server's field order."""
    reply: list[Any] = connection.execute_command("XRANGE", key, "-", "+")
    entries: list[RawEntry] = []
    for entry_id, flat in reply:
        pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
        entries.append((entry_id.decode(), pairs))
    return entries
