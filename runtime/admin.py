"""One way into Redis for everything off the bus's hot path: inspection, dead letters, tools.

The `Transport` carries the hot commands (XADD batches, XREADGROUP, XACK, claims, trims). Operator
commands and tools (XINFO, XRANGE over dead letters, replay scripts, consumer clean-up) go through
`RedisAdmin` instead of calling redis.asyncio directly, so that a failure means the same thing
everywhere. Errors are mapped once, here, into two kinds:

- `ServerUnreachableError`: the connection was refused, lost or timed out, or the server is not
  ready (loading its data set, busy with a script, a failover in progress: LOADING, BUSY,
  TRYAGAIN, MASTERDOWN, READONLY, CLUSTERDOWN). Retry with backoff.
- `ServerRejectedError`: the server answered with an error that repeating the command will not
  change (WRONGTYPE, NOPERM, OOM, a bad argument, failed authentication). Surface it, with the
  server's reply.

Both are `TransportError`s, so code written against the older single type keeps working.
`server_errors` applies the same mapping to code that must keep its own redis-py client (the
schema registry's transactions, the CLI's connection checks).

Redis Cluster is detected, not configured: `open_client` asks the server named by the URL for
`CLUSTER SLOTS`; a node of a cluster answers with the slot map, any other server with "cluster
support disabled". For a cluster it returns redis-py's `RedisCluster` started from that node
(which follows MOVED and ASK and refreshes its slot map), else a plain client, so any node's
URL works. `RedisAdmin.from_url` does the same on its first command. Every command of the bus
names keys of one hash slot (runtime/lanes.py), so the same calls work on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.backoff import NoBackoff
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from nautilus.runtime.errors import ServerRejectedError, ServerUnreachableError, TransportError

__all__ = [
    "TRANSIENT_REPLY_PREFIXES",
    "AnyRedis",
    "PendingEntry",
    "RedisAdmin",
    "cluster_enabled",
    "is_transient_reply",
    "map_server_error",
    "open_client",
    "server_errors",
]

#: A redis.asyncio client of a single server or of a cluster: the same command methods.
AnyRedis = Redis | RedisCluster

#: Error replies that mean "not now" rather than "never": the server is loading, busy with a
#: script, or changing roles. Commands rejected with these are retried like an outage.
TRANSIENT_REPLY_PREFIXES = (
    "LOADING",
    "BUSY",
    "TRYAGAIN",
    "MASTERDOWN",
    "READONLY",
    "CLUSTERDOWN",
)


def is_transient_reply(reply: str) -> bool:
    """True when the server's error reply means the same command may succeed later."""
    return reply.lstrip("-").startswith(TRANSIENT_REPLY_PREFIXES)


def map_server_error(operation: str, exc: BaseException) -> TransportError:
    """The typed error for `exc`, raised by redis-py or the socket while running `operation`."""
    if isinstance(exc, ClusterDownError | MasterDownError | TryAgainError):
        return ServerUnreachableError(operation, f"the cluster is not serving this slot: {exc}")
    if isinstance(exc, RedisClusterException):
        return ServerUnreachableError(operation, f"the cluster cannot be used: {exc}")
    if isinstance(exc, AuthenticationError | AuthorizationError):
        return ServerRejectedError(operation, str(exc))
    if isinstance(exc, BusyLoadingError):
        return ServerUnreachableError(operation, str(exc))
    if isinstance(exc, ResponseError):
        reply = str(exc)
        if is_transient_reply(reply):
            return ServerUnreachableError(operation, reply)
        return ServerRejectedError(operation, reply)
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError | TimeoutError):
        return ServerUnreachableError(operation, repr(exc))
    return ServerRejectedError(operation, repr(exc))


@contextmanager
def server_errors(operation: str) -> Iterator[None]:
    """Run a block of redis-py calls with their errors mapped (see the module docstring)."""
    try:
        yield
    except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
        raise map_server_error(operation, exc) from exc


_CLUSTER_DISABLED = "cluster support disabled"


def _options(
    socket_timeout_s: float | None, connect_timeout_s: float | None, password: str | None = None
) -> dict[str, Any]:
    """redis-py client options: undecoded replies, no retries or health checks of its own."""
    options: dict[str, Any] = {
        "decode_responses": False,
        "socket_timeout": socket_timeout_s,
        "socket_connect_timeout": connect_timeout_s,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 0,
    }
    if password is not None:
        options["password"] = password
    return options


async def cluster_enabled(client: Redis) -> bool:
    """True when the server behind `client` is a node of a Redis Cluster.

    Asks `CLUSTER SLOTS`: a cluster node answers with its slot map, a server without cluster
    support refuses with "cluster support disabled" (an identity not allowed the command is
    taken to be on a single server, as before cluster support). Errors are redis-py's.
    """
    any_client: Any = client
    try:
        await any_client.execute_command("CLUSTER SLOTS")
    except ResponseError as exc:
        text = str(exc)
        if _CLUSTER_DISABLED in text.lower() or text.startswith(("NOPERM", "unknown command")):
            return False
        raise
    return True


async def open_client(
    url: str,
    *,
    socket_timeout_s: float | None = 10.0,
    connect_timeout_s: float | None = 2.0,
    password: str | None = None,
) -> AnyRedis:
    """A redis.asyncio client for `url`: `RedisCluster` when the server is a cluster node.

    Without retries of its own (a failure reaches the caller at once). Raises redis-py's errors
    (ConnectionError when nothing answers; `RedisClusterException` for a URL a cluster cannot
    serve, such as a database other than 0).
    """
    options = _options(socket_timeout_s, connect_timeout_s, password)
    single = Redis.from_url(url, **options)
    try:
        clustered = await cluster_enabled(single)
    finally:
        await single.aclose()
    if not clustered:
        return Redis.from_url(url, **options)
    cluster = RedisCluster.from_url(url, **options)
    try:
        await cluster.initialize()
    except BaseException:
        await cluster.aclose()
        raise
    return cluster


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """One entry of a group's pending list."""

    entry_id: str
    consumer: str
    #: Milliseconds since it was last delivered (or claimed).
    idle_ms: int
    deliveries: int


def _is_missing_key(exc: ResponseError) -> bool:
    return "no such key" in str(exc).lower()


class RedisAdmin:
    """Administrative and inspection commands on one server, with errors mapped once.

    Wraps a redis.asyncio client (its own, from `from_url`, or one given). The client does no
    retries of its own: a failure reaches the caller at once, typed, and the caller decides.
    """

    def __init__(
        self,
        redis: AnyRedis,
        *,
        owned: bool = False,
        url: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._redis: Any = redis
        self._owned = owned
        #: Set by `from_url`: the first command checks whether the server is a cluster node.
        self._url = url
        self._options = options or {}

    @classmethod
    def from_url(
        cls, url: str, *, socket_timeout_s: float = 10.0, connect_timeout_s: float = 2.0
    ) -> RedisAdmin:
        """An admin client on its own connection pool (closed by `close`)."""
        options = _options(socket_timeout_s, connect_timeout_s)
        return cls(Redis.from_url(url, **options), owned=True, url=url, options=options)

    async def _client(self) -> Any:
        """The client to use: on the first call of an admin made by `from_url`, a cluster
        client instead when the server is a cluster node. Raises redis-py's errors (callers
        map them under their own operation); a failed check is made again next time."""
        if self._url is not None:
            if await cluster_enabled(self._redis):
                cluster = RedisCluster.from_url(self._url, **self._options)
                await cluster.initialize()
                await self._redis.aclose()
                self._redis = cluster
            self._url = None
        return self._redis

    @staticmethod
    def of(target: RedisAdmin | AnyRedis) -> RedisAdmin:
        """`target` itself, or an admin view of a redis.asyncio client (left open by `close`)."""
        return target if isinstance(target, RedisAdmin) else RedisAdmin(target)

    @property
    def redis(self) -> Any:
        """The underlying client, for callers that wrap their own calls in `server_errors`
        (a cluster client once a command of an admin made by `from_url` found a cluster)."""
        return self._redis

    async def is_cluster(self) -> bool:
        """True when the server is a Redis Cluster (this admin then talks to every master)."""
        return isinstance(await self._client(), RedisCluster)

    async def command(self, operation: str, *args: Any) -> Any:
        """Run one raw command; its reply undecoded."""
        with server_errors(operation):
            client = await self._client()
            return await client.execute_command(*args)

    async def ping(self) -> None:
        with server_errors("PING"):
            await (await self._client()).ping()

    async def stream_info(self, key: str) -> dict[Any, Any] | None:
        """XINFO STREAM of `key`; None when the key does not exist."""
        with server_errors("XINFO STREAM"):
            try:
                return dict(await (await self._client()).xinfo_stream(key))
            except ResponseError as exc:
                if _is_missing_key(exc):
                    return None
                raise

    async def groups(self, key: str) -> list[dict[Any, Any]]:
        """XINFO GROUPS of `key`; empty when the key does not exist."""
        with server_errors("XINFO GROUPS"):
            try:
                return [dict(group) for group in await (await self._client()).xinfo_groups(key)]
            except ResponseError as exc:
                if _is_missing_key(exc):
                    return []
                raise

    async def consumers(self, key: str, group: str) -> list[dict[Any, Any]]:
        """XINFO CONSUMERS of `group` on `key`."""
        with server_errors("XINFO CONSUMERS"):
            return [
                dict(consumer)
                for consumer in await (await self._client()).xinfo_consumers(key, group)
            ]

    async def entries(
        self, key: str, start: str = "-", end: str = "+", count: int | None = None
    ) -> list[tuple[str, dict[bytes, bytes]]]:
        """XRANGE of `key`: (id, fields) pairs, oldest first."""
        with server_errors("XRANGE"):
            raw: Any = await (await self._client()).xrange(key, start, end, count=count)
        return [(_text(entry_id), fields or {}) for entry_id, fields in raw]

    async def delete_entries(self, key: str, ids: Sequence[str]) -> int:
        """XDEL `ids` from `key`; the number deleted."""
        if not ids:
            return 0
        with server_errors("XDEL"):
            return int(await (await self._client()).xdel(key, *ids))

    async def latest_entries(
        self, key: str, count: int, end: str = "+", start: str = "-"
    ) -> list[tuple[str, dict[bytes, bytes]]]:
        """XREVRANGE of `key`: up to `count` (id, fields) pairs, newest first."""
        with server_errors("XREVRANGE"):
            raw: Any = await (await self._client()).xrevrange(key, end, start, count=count)
        return [(_text(entry_id), fields or {}) for entry_id, fields in raw]

    async def read_after(
        self, positions: Mapping[str, str], *, count: int, block_ms: int | None = None
    ) -> list[tuple[str, list[tuple[str, dict[bytes, bytes]]]]]:
        """XREAD: the entries after each key's id in `positions`, per key, oldest first; with
        `block_ms`, waits that long for one to arrive (an empty list when none did)."""
        with server_errors("XREAD"):
            raw: Any = await (await self._client()).xread(
                dict(positions),
                count=count,
                block=block_ms,
            )
        return _per_key(raw)

    async def pending_entries(self, key: str, group: str, count: int) -> list[PendingEntry]:
        """XPENDING of `group` on `key`, oldest first: who holds each entry and how often it was
        delivered."""
        with server_errors("XPENDING"):
            client = await self._client()
            raw: Any = await client.xpending_range(key, group, min="-", max="+", count=count)
        return [
            PendingEntry(
                _text(item["message_id"]),
                _text(item["consumer"]),
                int(item["time_since_delivered"]),
                int(item["times_delivered"]),
            )
            for item in raw
        ]

    async def length(self, key: str) -> int:
        """XLEN of `key` (0 when it does not exist)."""
        with server_errors("XLEN"):
            return int(await (await self._client()).xlen(key))

    async def delete_keys(self, keys: Sequence[str]) -> int:
        """DEL `keys`; the number that existed."""
        if not keys:
            return 0
        with server_errors("DEL"):
            return int(await (await self._client()).delete(*keys))

    async def server_info(self, section: str) -> dict[str, Any]:
        """INFO `section`, parsed."""
        with server_errors("INFO"):
            return dict(await (await self._client()).info(section))

    async def acl_log(self) -> list[dict[str, Any]]:
        """ACL LOG: the server's recent denials (user, command or key, reason), newest first."""
        with server_errors("ACL LOG"):
            entries: Any = await (await self._client()).acl_log()
        return [dict(entry) for entry in entries]

    async def create_group(self, key: str, group: str, start_id: str) -> bool:
        """XGROUP CREATE ... MKSTREAM; False when the group exists already (it is left as is)."""
        with server_errors("XGROUP CREATE"):
            try:
                await (await self._client()).xgroup_create(key, group, start_id, mkstream=True)
            except ResponseError as exc:
                if str(exc).startswith("BUSYGROUP"):
                    return False
                raise
        return True

    async def read_group(
        self,
        group: str,
        consumer: str,
        positions: Mapping[str, str],
        *,
        count: int,
        block_ms: int | None = None,
    ) -> list[tuple[str, list[tuple[str, dict[bytes, bytes]]]]]:
        """XREADGROUP as `consumer` of `group`: per key, the entries it was given (">": new ones;
        an id: its own pending entries after that id)."""
        with server_errors("XREADGROUP"):
            raw: Any = await (await self._client()).xreadgroup(
                group,
                consumer,
                dict(positions),
                count=count,
                block=block_ms,
            )
        return _per_key(raw)

    async def ack(self, key: str, group: str, ids: Sequence[str]) -> int:
        """XACK `ids` for `group` on `key`; the number that were pending."""
        if not ids:
            return 0
        with server_errors("XACK"):
            return int(await (await self._client()).xack(key, group, *ids))

    async def run_script(self, operation: str, script: str, keys: Sequence[str], *args: Any) -> Any:
        """EVAL `script` with `keys` and `args`; its reply."""
        with server_errors(operation):
            return await (await self._client()).eval(script, len(keys), *keys, *args)

    async def close(self) -> None:
        """Close the connection pool when this admin made it; a given client stays open."""
        if self._owned:
            with server_errors("close"):
                await self._redis.aclose()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _per_key(raw: Any) -> list[tuple[str, list[tuple[str, dict[bytes, bytes]]]]]:
    """An XREAD/XREADGROUP reply as (key, [(id, fields), ...]) pairs."""
    return [
        (_text(key), [(_text(entry_id), fields or {}) for entry_id, fields in entries])
        for key, entries in raw or ()
    ]
