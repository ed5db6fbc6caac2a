"""`BenchServer`: what the bench's server is, single or a cluster, and where its streams live.

The bus's clients find a cluster by themselves from the URL of any node, but the references do
not: redis-py's plain client, the raw hiredis sockets of the baselines and floors, and the peers
talk to the one address they are given. On a cluster they are given the master that owns the
bench stream's slot (every scenario's references write that one stream, and its lanes share its
hash tag), so they measure what one master does, as our clients do for that stream. Server CPU is
read from every master and summed: the other streams (the CRITICAL one, the consumers' groups)
may live elsewhere.

The detection is the runtime's (`open_client`: `CLUSTER SLOTS` on the node of the URL).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.asyncio.cluster import RedisCluster

from nautilus.bench.payloads import BULK_STREAM
from nautilus.runtime.admin import open_client

__all__ = ["BenchServer", "inspect_server", "unlink_each"]


@dataclass(frozen=True)
class BenchServer:
    """The server of a bench run, as its references must address it."""

    #: The URL as given: our clients' (they are cluster-aware).
    url: str
    #: The URL of every master (the URL as given alone on a single server).
    masters: tuple[str, ...]
    #: The master owning the bench stream's slot (the URL as given on a single server): the
    #: references' address.
    stream_url: str
    cluster: bool

    @property
    def stream_node(self) -> str:
        """`host:port` of the master holding the bench stream."""
        return urlsplit(self.stream_url).netloc.rpartition("@")[2]

    def describe(self) -> str:
        """One line for the report, e.g. "cluster, 3 masters; streams on 127.0.0.1:7312"."""
        if not self.cluster:
            return "single server"
        return f"cluster, {len(self.masters)} masters; streams on {self.stream_node}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "cluster" if self.cluster else "single",
            "masters": len(self.masters),
            "streams_on": self.stream_node,
            "topology": self.describe(),
        }


def _node_url(url: str, host: str, port: int) -> str:
    """`url` with its host and port replaced (credentials and scheme kept, database 0: the only
    one a cluster has)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, "/0", parts.query, ""))


async def _inspect(url: str) -> BenchServer:
    client: Any = await open_client(url)
    try:
        if not isinstance(client, RedisCluster):
            return BenchServer(url, (url,), url, cluster=False)
        masters = tuple(
            _node_url(url, node.host, int(node.port)) for node in client.get_primaries()
        )
        owner = client.get_node_from_key(BULK_STREAM)
        if owner is None:
            raise RuntimeError(f"no master of the cluster at {url} serves {BULK_STREAM}'s slot")
        stream_url = _node_url(url, owner.host, int(owner.port))
        return BenchServer(url, masters, stream_url, cluster=True)
    finally:
        await client.aclose()


def inspect_server(url: str) -> BenchServer:
    """Whether the server at `url` is a cluster, its masters, and the bench stream's master.

    Callable from an event loop's thread too (a job's coroutine): the check then runs on a
    thread of its own, with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_inspect(url))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _inspect(url)).result()


def unlink_each(url: str, keys: list[str]) -> None:
    """Delete `keys` one command each, on the node owning each key's slot when `url` names a
    node of a cluster (the keys of different streams live in different slots)."""
    server = inspect_server(url)
    client: Any = redis.RedisCluster.from_url(url) if server.cluster else redis.Redis.from_url(url)
    with client:
        for key in keys:
            client.unlink(key)
