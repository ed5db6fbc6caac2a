"""Baselines: other ways to put the same entries into a Redis stream from one Python process.

Each baseline writes `count` pre-encoded wire entries (the bus's own bytes) to one stream and
returns the seconds until the last reply was read, so its figure is entries landed, not calls
returned. The packing of commands is part of the timed work (every real publisher does it); the
protobuf encoding is not (the entries are pre-encoded), which favours the baselines.

- `redis_py_pipeline`: redis-py's non-transactional pipeline, `execute()` every 1000 XADDs.
- `hiredis_packed`: commands packed with hiredis, written on one raw socket 1000 at a time and the
  replies parsed with hiredis: about as fast as Python can drive Redis.
- `faststream_publish`: FastStream's RedisBroker publishing to the stream, one awaited publish
  per message (optional: only when FastStream is installed, the `bench` extra).
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import hiredis
import redis

from nautilus.runtime.wire import EncodedEntry

__all__ = [
    "BATCH_SIZE",
    "connect",
    "faststream_available",
    "faststream_publish",
    "hiredis_packed",
    "redis_py_pipeline",
]

#: FastStream logs every message at INFO by default; `logger=None` is its way to turn that off.
_NO_LOGGER: Any = None
#: Commands per pipeline execute / socket write in the baselines.
BATCH_SIZE = 1000


def redis_py_pipeline(url: str, key: str, entries: list[EncodedEntry], count: int) -> float:
    """Seconds to XADD `count` entries through redis-py pipelines of `BATCH_SIZE`."""
    pool = [dict(zip(entry[::2], entry[1::2], strict=True)) for entry in entries]
    size = len(pool)
    with redis.Redis.from_url(url) as client:
        client.ping()
        pipe = client.pipeline(transaction=False)
        started = time.perf_counter()
        for i in range(count):
            pipe.xadd(key, pool[i % size])
            if len(pipe) == BATCH_SIZE:
                pipe.execute()
        if len(pipe):
            pipe.execute()
        return time.perf_counter() - started


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.username or parts.password:
        raise ValueError(f"the hiredis baseline needs a plain redis:// URL, got {url!r}")
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    database = (parts.path or "/0").strip("/") or "0"
    if database != "0":
        select: Any = (b"SELECT", database.encode())
        sock.sendall(hiredis.pack_command(select))
        sock.recv(64)
    return sock


def hiredis_packed(url: str, key: str, entries: list[EncodedEntry], count: int) -> float:
    """Seconds to XADD `count` entries packed with hiredis on one socket, `BATCH_SIZE` a write."""
    key_bytes = key.encode()
    size = len(entries)
    pack: Any = hiredis.pack_command
    with connect(url) as sock:
        reader = hiredis.Reader()
        started = time.perf_counter()
        for first in range(0, count, BATCH_SIZE):
            batch = range(first, min(first + BATCH_SIZE, count))
            sock.sendall(
                b"".join([pack((b"XADD", key_bytes, b"*", *entries[i % size])) for i in batch])
            )
            expected = len(batch)
            while expected:
                reader.feed(sock.recv(1 << 17))
                while expected and (reply := reader.gets()) is not False:
                    if isinstance(reply, hiredis.ReplyError):
                        raise reply
                    expected -= 1
        return time.perf_counter() - started


def faststream_available() -> bool:
    """True when FastStream with its Redis broker can be imported."""
    return importlib.util.find_spec("faststream") is not None


def faststream_publish(url: str, key: str, payloads: list[bytes], count: int) -> float:
    """Seconds for FastStream's RedisBroker to publish `count` payloads to stream `key`."""
    from faststream.redis import RedisBroker

    async def run() -> float:
        broker = RedisBroker(url, logger=_NO_LOGGER)
        await broker.connect()
        try:
            size = len(payloads)
            started = time.perf_counter()
            for i in range(count):
                await broker.publish(payloads[i % size], stream=key)
            return time.perf_counter() - started
        finally:
            await broker.stop()

    return asyncio.run(run())
