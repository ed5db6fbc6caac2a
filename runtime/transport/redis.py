"""The Redis Streams transport: redis.asyncio with hiredis, XADDs packed once and sent in batches.

Publishing never builds per-message command objects: `prepare_add` packs the complete XADD when
the message is published (from a per-type template: only the payload and the timestamp are
formatted per message; the preparer a publisher gets from `add_preparer` holds its template, so
neither the entry's fields nor a template lookup are made per message), and `send_adds` writes a
whole batch with one write on a dedicated connection and parses all replies with one hiredis
reader, without a per-reply coroutine or timeout. Everything else (reads, acks, claims, trims)
goes through redis-py's client, batched per call by the bus.

redis-py's own retries are disabled: a failed call raises TransportError at once and the bus
decides how to back off, so an outage never hides inside a library retry loop.

Redis Cluster is detected on first use (`CLUSTER SLOTS` on the server of the URL; see
runtime/admin.py), so the URL of any node works. On a cluster the raw path keeps its connections
per node and sends each command to the node of its key's slot, from a slot map read with
`CLUSTER SLOTS`: a batch of XADDs is split by node, each node's writes pipelined on its
own connection, all nodes at once (a partitioned route's batch spreads over the masters), a
`MOVED` reply refreshes the map and the write is retried by the publisher like any passing
refusal, and single commands follow `MOVED` and `ASK` at once. redis-py's `RedisCluster`
carries the other commands. On a cluster no command names
keys of two streams (runtime/lanes.py), so none spans two slots: a read over several streams is
one `XREADGROUP` per stream, pipelined per node, and, when nothing is waiting, one blocking read
per stream at once, the others ended with `CLIENT UNBLOCK` as soon as one returns. A single
server holds every key, so there a read over several streams stays one `XREADGROUP`: a command
per stream would cost the server a command per stream per cycle, and a blocking read over
several streams a connection each and an unblock round trip before its entries are handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from collections.abc import Mapping, Sequence
from typing import Any, cast

import hiredis
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry

from nautilus.runtime.admin import is_transient_reply
from nautilus.runtime.errors import TransportError
from nautilus.runtime.lanes import stream_of_key
from nautilus.runtime.redaction import redacted
from nautilus.runtime.transport.base import (
    PER_MESSAGE_SLOTS,
    AddPreparer,
    ClaimResult,
    Entry,
    GroupState,
    PreparedAdd,
    check_sequenced_entry,
)
from nautilus.runtime.transport.outcomes import (
    REDIRECT_KINDS,
    BatchOutcome,
    Rejection,
    WriteInterruptedError,
)
from nautilus.runtime.wire import (
    FIELD_FINGERPRINT,
    FIELD_PAYLOAD,
    FIELD_PRIORITY,
    FIELD_PRODUCER,
    FIELD_PRODUCER_INSTANCE,
    FIELD_PUBLISHED_AT,
    FIELD_SEQUENCE,
    FIELD_TYPE,
    FIELD_VERSION,
    EncodedEntry,
)

__all__ = ["RedisTransport", "add_preparer", "pack_add", "unpack_add"]

_XADD = b"XADD"
_AUTO_ID = b"*"

#: Field names at the even positions 0..12 of an entry written by `wire.encode_entry`.
_WIRE_NAMES = (
    FIELD_VERSION,
    FIELD_TYPE,
    FIELD_FINGERPRINT,
    FIELD_PAYLOAD,
    FIELD_PRODUCER,
    FIELD_PUBLISHED_AT,
    FIELD_PRIORITY,
)
_WIRE_LENGTH = 2 * len(_WIRE_NAMES)
#: The producer instance and sequence fields that follow them in a publisher's entries.
_SEQUENCE_NAMES = (FIELD_PRODUCER_INSTANCE, FIELD_SEQUENCE)
_SEQUENCED_LENGTH = _WIRE_LENGTH + 2 * len(_SEQUENCE_NAMES)
#: Value slots formatted per message: payload and timestamp, and the sequence when present.
_HOLES = (7, 11)
_SEQUENCED_HOLES = PER_MESSAGE_SLOTS
#: Templates kept for (key, version, type, fingerprint, producer, priority, instance, length); a
#: process publishes a few dozen combinations, the bound only guards against misuse.
_TEMPLATE_LIMIT = 4096
#: Taken off the id of a connection's first entry to bound the ids of the entries written after
#: it: ids follow the server's clock (or the lane's last id, if ahead), which may step back a
#: little (NTP) while a connection is open.
_CLOCK_SLACK_MS = 5_000
_templates: dict[tuple[object, ...], bytes] = {}


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(value), value)


def _literal(resp: bytes) -> bytes:
    return resp.replace(b"%", b"%%")


def _template(key: bytes, fields: EncodedEntry, length: int, holes: tuple[int, ...]) -> bytes:
    """`XADD key * <fields>` with `%d %b` holes for the value slots in `holes`."""
    parts = [
        _literal(b"*%d\r\n" % (3 + len(fields)) + b"".join(map(_bulk, (_XADD, key, _AUTO_ID))))
    ]
    start = 0
    for hole in holes:
        parts.append(_literal(b"".join(map(_bulk, fields[start:hole]))))
        parts.append(b"$%d\r\n%b\r\n")
        start = hole + 1
    parts.append(_literal(b"".join(map(_bulk, fields[start:length]))))
    return b"".join(parts)


def _new_template(
    cache_key: tuple[object, ...], key: bytes, fields: EncodedEntry, holes: tuple[int, ...]
) -> bytes:
    if len(_templates) >= _TEMPLATE_LIMIT:
        _templates.clear()
    length = _SEQUENCED_LENGTH if holes is _SEQUENCED_HOLES else _WIRE_LENGTH
    template = _templates[cache_key] = _template(key, fields, length, holes)
    return template


def pack_add(key: bytes, fields: EncodedEntry) -> bytes:
    """The RESP encoding of `XADD key * field value ...`.

    Entries in the wire layout (`wire.encode_entry`) are packed from a cached per-type template,
    formatting only the payload, the timestamp and the sequence: about 7x cheaper than packing 17
    arguments. Anything else is packed by hiredis; both give the same bytes.
    """
    if len(fields) >= _WIRE_LENGTH and fields[0:_WIRE_LENGTH:2] == _WIRE_NAMES:
        sequenced = (
            len(fields) >= _SEQUENCED_LENGTH
            and fields[14] == FIELD_PRODUCER_INSTANCE
            and fields[16] == FIELD_SEQUENCE
        )
        payload, stamp = fields[7], fields[11]
        cache_key: tuple[object, ...]
        try:
            if sequenced:
                cache_key = (
                    key, fields[1], fields[3], fields[5], fields[9], fields[13], fields[15],
                    len(fields),
                )  # fmt: skip
                template = _templates.get(cache_key)
                if template is None:
                    template = _new_template(cache_key, key, fields, _SEQUENCED_HOLES)
                sequence = fields[17]
                packed = template % (
                    len(payload),
                    payload,
                    len(stamp),
                    stamp,
                    len(sequence),
                    sequence,
                )
                length = _SEQUENCED_LENGTH
            else:
                length = _WIRE_LENGTH
                cache_key = (
                    key, fields[1], fields[3], fields[5], fields[9], fields[13], len(fields),
                )  # fmt: skip
                template = _templates.get(cache_key)
                if template is None:
                    template = _new_template(cache_key, key, fields, _HOLES)
                packed = template % (len(payload), payload, len(stamp), stamp)
            if len(fields) == length:
                return packed
            return packed + b"".join(map(_bulk, fields[length:]))
        except TypeError:
            pass  # values that are not bytes-like: let hiredis pack (or reject) them
    command: Any = (_XADD, key, _AUTO_ID, *fields)
    return cast(bytes, hiredis.pack_command(command))


def add_preparer(key: bytes, entry: EncodedEntry) -> AddPreparer:
    """What `pack_add` packs for the entries that are `entry` but for payload, publish time and
    sequence, from a template made once: per message, one formatting of three values."""
    check_sequenced_entry(entry)
    template = _template(key, entry, _SEQUENCED_LENGTH, _SEQUENCED_HOLES)

    def prepare(payload: bytes, published_at_ns: int, sequence: int) -> PreparedAdd:
        stamp = b"%d" % published_at_ns
        number = b"%d" % sequence
        return template % (len(payload), payload, len(stamp), stamp, len(number), number)

    return prepare


def unpack_add(packed: bytes) -> tuple[str, dict[bytes, bytes]]:
    """The lane key and fields of a packed XADD (error reports and read-back; not the hot path)."""
    reader = hiredis.Reader()
    reader.feed(packed)
    command = reader.gets()
    return command[1].decode(), dict(zip(command[3::2], command[4::2], strict=False))


class _RawConnection:
    """A connection for the hot commands (XADD batches, XREADGROUP, XACK), parsed by hiredis.

    redis-py reads each reply in its own coroutine under its own timeout and turns stream replies
    into dicts through Python callbacks, which costs more than the command itself; here a batch is
    one write and one loop over a hiredis reader, under one deadline for the whole call.
    """

    __slots__ = (
        "client_id",
        "fresh",
        "join_writes",
        "parser",
        "reader",
        "sent",
        "since_ms",
        "writer",
    )

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, join_writes: bool
    ) -> None:
        self.reader = reader
        self.writer = writer
        #: Over TLS every buffer written becomes a record of its own: a batch is joined first,
        #: so it is encrypted once rather than once per command (a third of the CPU per XADD).
        self.join_writes = join_writes
        self.parser = hiredis.Reader()
        #: No write has been accepted on this connection yet: the next batch probes first.
        self.fresh = True
        #: Some XADD bytes were handed to the socket by the current batch.
        self.sent = False
        #: From the id of the first entry written on this connection, less some clock slack: a
        #: lower bound of the ids of entries written on it after that one (0: not known yet).
        self.since_ms = 0
        #: The server's id of this connection (CLIENT ID), once a blocking read needed it.
        self.client_id = 0

    async def call(self, *args: bytes | str | int) -> Any:
        """Run one command; its reply undecoded. ResponseError on an error reply."""
        command: Any = args
        self.writer.write(hiredis.pack_command(command))
        while (reply := self.parser.gets()) is False:
            await self._receive()
        if isinstance(reply, hiredis.ReplyError):
            raise ResponseError(str(reply))
        return reply

    async def call_many(self, commands: Sequence[Sequence[bytes | str | int]]) -> list[Any]:
        """Run `commands` pipelined (one write); their replies, an error reply as ResponseError."""
        packed: list[bytes] = [hiredis.pack_command(cast(Any, tuple(c))) for c in commands]
        self.writer.write(b"".join(packed))
        replies: list[Any] = []
        while len(replies) < len(commands):
            reply = self.parser.gets()
            if reply is False:
                await self._receive()
                continue
            replies.append(
                ResponseError(str(reply)) if isinstance(reply, hiredis.ReplyError) else reply
            )
        return replies

    async def _receive(self) -> None:
        data = await self.reader.read(1 << 18)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.parser.feed(data)

    async def send_adds(self, batch: Sequence[bytes], results: list[str | Rejection]) -> int:
        """Write packed XADDs, appending each reply's outcome to `results`; the rejections.

        On a fresh connection the first XADD goes alone: a server that is still loading its data
        refuses it, and the rest is not sent, so a batch never straddles the end of a loading
        phase (written in part behind refused entries). Any transient rejection makes the
        connection fresh again. The first id written bounds the ids of what follows (`since_ms`).
        """
        gets = self.parser.gets
        append = results.append
        start = 0
        rejected = 0
        if self.fresh or not self.since_ms:
            self.sent = True
            self.writer.write(batch[0])
            while (reply := gets()) is False:
                await self._receive()
            start = 1
            if isinstance(reply, hiredis.ReplyError):
                rejection = Rejection(str(reply))
                append(rejection)
                if rejection.transient:
                    return 1
                rejected = 1
            else:
                entry_id = reply.decode()
                append(entry_id)
                if not self.since_ms:
                    since_ms = int(entry_id.partition("-")[0]) - _CLOCK_SLACK_MS
                    self.since_ms = max(since_ms, 1)
            self.fresh = False
        if start == len(batch):
            return rejected
        self.sent = True
        rest = batch[start:] if start else batch
        if self.join_writes:
            self.writer.write(b"".join(rest))
        else:
            self.writer.writelines(rest)
        await self.writer.drain()
        remaining = len(batch) - start
        while remaining:
            reply = gets()
            if reply is False:
                await self._receive()
                continue
            remaining -= 1
            if isinstance(reply, hiredis.ReplyError):
                rejection = Rejection(str(reply))
                append(rejection)
                rejected += 1
                if rejection.transient:
                    self.fresh = True
            else:
                append(reply.decode())
        return rejected

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        """Close with a reset: the server drops whatever of ours it has not read yet.

        After a broken-off batch the publisher reads back what the server holds; a plain close
        would let the server go on executing commands still in its socket buffer meanwhile.
        """
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


def _text(value: Any) -> str:
    """A reply's bytes as text. Names other programs chose (consumers, groups) need not be
    UTF-8: undecodable bytes become lone surrogates, and `_raw_name` gives the bytes back."""
    return value.decode(errors="surrogateescape") if isinstance(value, bytes) else str(value)


def _raw_name(name: str) -> bytes:
    """The exact bytes of a name `_text` decoded, for a command that must name it again."""
    return name.encode(errors="surrogateescape")


def _entries(raw: Any) -> list[Entry]:
    return [(_text(entry_id), fields or {}) for entry_id, fields in raw]


def _fields(values: list[bytes] | None) -> dict[bytes, bytes]:
    if not values:
        return {}
    pairs = iter(values)
    return dict(zip(pairs, pairs, strict=False))


def _packed_key(packed: bytes) -> bytes:
    """The key of a packed `XADD key ...` (the command's second argument)."""
    start = packed.index(b"XADD\r\n$") + 7
    end = packed.index(b"\r\n", start)
    begin = end + 2
    return packed[begin : begin + int(packed[start:end])]


def _raw_entries(raw: Any) -> list[Entry]:
    """Entries of an undecoded XREADGROUP reply: [id, [field, value, ...]] pairs."""
    return [(entry_id.decode(), _fields(values)) for entry_id, values in raw]


#: Hash slots of Redis Cluster.
_SLOTS = 16384
#: Redirections one command follows before its last reply is taken as final.
_MAX_REDIRECTS = 5
#: While ending blocking reads with CLIENT UNBLOCK, a read whose command had not reached the
#: server yet is asked again after this long.
_UNBLOCK_RETRY_S = 0.002


class _Node:
    """One server: the only one, or a master of a cluster; its idle raw connections."""

    __slots__ = ("address", "idle")

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.idle: list[_RawConnection] = []

    def close(self) -> None:
        idle, self.idle = self.idle, []
        for connection in idle:
            connection.close()


class _ClientView:
    """The redis-py client of a transport as it is now: a plain client until the transport has
    found a cluster, then the cluster client (the schema registry holds this view)."""

    def __init__(self, transport: RedisTransport) -> None:
        self._transport = transport

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport._redis, name)


def _redirect(reply: str) -> tuple[str, int, tuple[str, int]] | None:
    """(kind, slot, (host, port)) of a MOVED or ASK reply; None for any other reply."""
    kind, _, rest = reply.partition(" ")
    if kind not in ("MOVED", "ASK"):
        return None
    slot, _, address = rest.partition(" ")
    host, _, port = address.rpartition(":")
    return kind, int(slot), (host, int(port))


def _by_stream(keys: Sequence[str]) -> list[list[str]]:
    """`keys` grouped by the stream they belong to (one hash slot each), in order of appearance."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(stream_of_key(key), []).append(key)
    return list(groups.values())


def _read_command(
    group: str,
    consumer: str,
    keys: Sequence[str],
    count: int,
    block_ms: int | None,
    *,
    noack: bool = False,
) -> list[bytes | str | int]:
    args: list[bytes | str | int] = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
    if block_ms is not None:
        args += ("BLOCK", block_ms)
    if noack:
        args.append("NOACK")
    args.append("STREAMS")
    args += keys
    args += [">"] * len(keys)
    return args


def _read_reply(raw: Any) -> dict[str, list[Entry]]:
    return {key.decode(): _raw_entries(entries) for key, entries in raw or ()}


class RedisTransport:
    """Transport over one Redis (or Valkey) server or a Redis Cluster; see transport/base.py for
    the contract and the module docstring for the cluster."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 16,
        socket_timeout_s: float = 10.0,
        connect_timeout_s: float = 1.0,
        password: SecretStr | str | None = None,
    ) -> None:
        self.url = url
        secret = password.get_secret_value() if isinstance(password, SecretStr) else password
        self._options: dict[str, Any] = {
            "password": secret,
            "decode_responses": False,
            "socket_timeout": socket_timeout_s,
            "socket_connect_timeout": connect_timeout_s,
            "retry": Retry(NoBackoff(), 0),
            "health_check_interval": 0,
        }
        self._redis: Any = Redis.from_url(url, max_connections=max_connections, **self._options)
        self._pool = self._redis.connection_pool
        self._socket_timeout_s = socket_timeout_s
        self._connect_timeout_s = connect_timeout_s
        options = self._pool.connection_kwargs
        #: The server of the URL: the only node on a single server.
        self._seed = _Node((options.get("host", "localhost"), int(options.get("port", 6379))))
        #: Every node known, by address; the slot map (None on a single server).
        self._nodes: dict[tuple[str, int], _Node] = {self._seed.address: self._seed}
        self._slots: list[_Node] | None = None
        #: Connections lost so far by any call (see transport/base.py).
        self.connection_losses = 0
        self._slot_of: dict[str, int] = {}
        #: Whether the server was asked if it is a cluster node (on first use).
        self._detected = False
        self._detecting: asyncio.Lock | None = None
        #: TCP, TLS and Unix sockets use them; other connection classes go through redis-py.
        self._raw = self._pool.connection_class in (
            Connection,
            SSLConnection,
            UnixDomainSocketConnection,
        )
        #: For `rediss://`: the TLS context redis-py itself would use (CA, client certificate
        #: and key, hostname check, all from the URL's query), built once.
        self._tls: ssl.SSLContext | None = None
        if self._pool.connection_class is SSLConnection:
            tls_connection: Any = SSLConnection(**self._pool.connection_kwargs)
            self._tls = cast(ssl.SSLContext, tls_connection.ssl_context.get())
        self._view = _ClientView(self)

    def __repr__(self) -> str:
        return f"RedisTransport({redacted(self.url)!r})"

    @property
    def client(self) -> Redis:
        """The underlying redis.asyncio client (inspection, the schema registry, tests): a view
        that follows the transport to the cluster client once it has found a cluster."""
        return cast(Redis, self._view)

    @property
    def is_cluster(self) -> bool:
        """True once the transport has found that its server is a Redis Cluster node."""
        return self._slots is not None

    async def connect(self) -> None:
        """Find out whether the server is a cluster node (done by every call on first use).

        Raises TransportError when the server cannot be reached.
        """
        if self._detected:
            return
        if self._detecting is None:
            self._detecting = asyncio.Lock()
        async with self._detecting:
            if self._detected:
                return
            try:
                self._detected = await self._detect()
            except (RedisError, OSError, TimeoutError) as exc:
                raise TransportError("CLUSTER SLOTS", repr(exc)) from exc

    async def _detect(self) -> bool:
        """Whether the question is settled: a server refusing for a passing reason (LOADING,
        BUSY, ...) is asked again by the next call, which meanwhile goes to it as to a single
        server and meets the same refusal, handled as usual."""
        if not self._raw or "path" in self._pool.connection_kwargs:
            return True  # a Unix socket is never a cluster node's address
        try:
            reply = await self._slot_map_reply(self._seed)
        except ResponseError as exc:
            if is_transient_reply(str(exc)):
                return False
            raise
        if reply is None:
            return True
        cluster = RedisCluster.from_url(self.url, **self._options)
        try:
            await cluster.initialize()
        except BaseException:
            await cluster.aclose()
            raise
        standalone, self._redis = self._redis, cluster
        await standalone.aclose()
        self._apply_slot_map(reply)
        return True

    async def _slot_map_reply(self, node: _Node) -> Any:
        """CLUSTER SLOTS as `node` answers it; None when it has no cluster support."""
        try:
            return await self._call_node(node, self._socket_timeout_s, "CLUSTER", "SLOTS")
        except ResponseError as exc:
            text = str(exc)
            if "cluster support disabled" in text.lower() or text.startswith("NOPERM"):
                return None
            raise

    def _apply_slot_map(self, reply: Any) -> None:
        slots: list[_Node | None] = [None] * _SLOTS
        for first, last, master, *_replicas in reply:
            host = master[0].decode() if master[0] else self._seed.address[0]
            address = (host, int(master[1]))
            node = self._nodes.get(address)
            if node is None:
                node = self._nodes[address] = _Node(address)
            for slot in range(int(first), int(last) + 1):
                slots[slot] = node
        # A slot no master serves goes to the seed: its reply (CLUSTERDOWN) says why.
        self._slots = [node or self._seed for node in slots]

    async def _refresh_slot_map(self) -> None:
        """Read the slot map again, from the first node that answers."""
        for node in [self._seed, *self._nodes.values()]:
            try:
                reply = await self._slot_map_reply(node)
            except (RedisError, OSError, TimeoutError):
                continue
            if reply:
                self._apply_slot_map(reply)
                return

    async def _after_connection_failure(self) -> None:
        """Count the loss; on a cluster, a node that stopped answering may have failed over:
        read the slot map again, so the next call goes to the master that serves the slot now."""
        self.connection_losses += 1
        if self._slots is not None:
            await self._refresh_slot_map()

    def _node_for(self, key: str | bytes) -> _Node:
        """The node serving `key`'s slot (the only server when not a cluster)."""
        if self._slots is None:
            return self._seed
        name = key.decode() if isinstance(key, bytes) else key
        slot = self._slot_of.get(name)
        if slot is None:
            if len(self._slot_of) > 65536:
                self._slot_of.clear()
            slot = self._slot_of[name] = int(key_slot(name.encode()))
        return self._slots[slot]

    def _node_at(self, address: tuple[str, int]) -> _Node:
        node = self._nodes.get(address)
        if node is None:
            node = self._nodes[address] = _Node(address)
        return node

    def prepare_add(self, key: str, fields: EncodedEntry) -> PreparedAdd:
        return pack_add(key.encode(), fields)

    def add_preparer(self, key: str, entry: EncodedEntry) -> AddPreparer:
        return add_preparer(key.encode(), entry)

    def describe_add(self, prepared: PreparedAdd) -> tuple[str, Mapping[bytes, bytes]]:
        return unpack_add(cast(bytes, prepared))

    async def send_adds(self, batch: Sequence[PreparedAdd]) -> BatchOutcome:
        if not batch:
            return BatchOutcome([], 0)
        try:
            await self.connect()
        except TransportError as exc:
            raise WriteInterruptedError(
                "XADD batch", exc.detail, [], maybe_sent=False, since_ms=0
            ) from exc
        if not self._raw:
            return await self._send_pooled(cast(Sequence[bytes], batch))
        packed = cast(Sequence[bytes], batch)
        if self._slots is None:
            return await self._send_raw(self._seed, packed)
        return await self._send_by_node(packed)

    async def _send_by_node(self, batch: Sequence[bytes]) -> BatchOutcome:
        """A batch on a cluster: split by node, stably, each node's writes pipelined on its own
        connection, the nodes at once, their outcomes merged back into batch order.

        A stream lives on one node, so each stream's writes go out in batch order on one
        connection, as on a single server; between streams of different nodes there is no order
        (none is promised: order is per lane, and a partitioned route keeps order per key only).
        One node's round trip per batch, not one per run of consecutive writes for a node: the
        writes of a partitioned route, interleaved by key, would otherwise go nearly one by one.

        The outcomes returned stay a prefix of the batch, ending before the first write whose
        outcome is missing (a node that stopped after a refusal for a passing reason, or whose
        connection broke). Writes past that point that another node may hold (written, or sent on
        a broken connection) are reported unknown with WriteInterruptedError, so the publisher
        reads them back rather than writing them twice; `since_ms` then bounds the ids of all of
        them, whichever node's clock wrote them.
        """
        nodes = [self._node_for(_packed_key(packed)) for packed in batch]
        first = nodes[0]
        if nodes.count(first) == len(nodes):
            return await self._send_to_node(first, batch)
        positions: dict[_Node, list[int]] = {}
        for position, node in enumerate(nodes):
            positions.setdefault(node, []).append(position)
        sent = await asyncio.gather(
            *(
                self._send_raw(node, [batch[position] for position in at])
                for node, at in positions.items()
            ),
            return_exceptions=True,
        )
        merged: list[str | Rejection | None] = [None] * len(batch)
        outcomes: list[tuple[list[int], list[str | Rejection], WriteInterruptedError | None]] = []
        for at, outcome in zip(positions.values(), sent, strict=True):
            if isinstance(outcome, WriteInterruptedError):
                outcomes.append((at, outcome.results, outcome))
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                outcomes.append((at, outcome.results, None))
            for position, result in zip(at, outcomes[-1][1], strict=False):
                merged[position] = result
        cut = merged.index(None) if None in merged else len(batch)
        results = cast(list[str | Rejection], merged[:cut])
        # What past the cut a node may hold, and the lowest id (ms) it can have there.
        maybe_sent = False
        since_ms: int | None = None
        for at, got, failure in outcomes:
            bounds = [
                int(result.partition("-")[0])
                for position, result in zip(at, got, strict=False)
                if position >= cut and isinstance(result, str)
            ]
            if failure is not None and failure.maybe_sent and len(got) < len(at):
                bounds.append(failure.since_ms)
            if bounds:
                maybe_sent = True
                since_ms = min(bounds) if since_ms is None else min(since_ms, *bounds)
        failures = [failure for _, _, failure in outcomes if failure is not None]
        if failures:
            self.connection_losses += len(failures)
        if failures or any(
            isinstance(result, Rejection) and result.kind in REDIRECT_KINDS for result in merged
        ):
            await self._refresh_slot_map()
        if failures or maybe_sent:
            raise WriteInterruptedError(
                "XADD batch",
                failures[0].detail
                if failures
                else "a node stopped after a refusal for a passing reason; writes to other "
                "nodes after it are to be read back",
                results,
                maybe_sent=maybe_sent,
                since_ms=since_ms or 0,
            ) from (failures[0] if failures else None)
        return BatchOutcome(results, sum(isinstance(result, Rejection) for result in results))

    async def _send_to_node(self, node: _Node, batch: Sequence[bytes]) -> BatchOutcome:
        """A batch whose writes are all for `node`: the single-server path, plus the slot map
        read again after a lost connection or a redirect."""
        try:
            outcome = await self._send_raw(node, batch)
        except WriteInterruptedError:
            await self._after_connection_failure()
            raise
        if outcome.rejected and any(
            isinstance(r, Rejection) and r.kind in REDIRECT_KINDS for r in outcome.results
        ):
            await self._refresh_slot_map()
        return outcome

    async def _open_raw(self, node: _Node | None = None) -> _RawConnection:
        """A new connection to `node` (the URL's server by default) with the pool's
        credentials and database."""
        options = self._pool.connection_kwargs
        if "path" in options:
            opening = asyncio.open_unix_connection(options["path"])
        else:
            host, port = (node or self._seed).address
            opening = asyncio.open_connection(
                host,
                port,
                ssl=self._tls,
                server_hostname=host if self._tls is not None else None,
            )
        reader, writer = await asyncio.wait_for(opening, self._connect_timeout_s)
        connection = _RawConnection(reader, writer, join_writes=self._tls is not None)
        try:
            password, username = options.get("password"), options.get("username")
            if password:
                credentials = (username, password) if username else (password,)
                await connection.call(b"AUTH", *(str(item).encode() for item in credentials))
            if int(options.get("db") or 0):
                await connection.call(b"SELECT", str(options["db"]).encode())
        except BaseException:
            connection.close()
            raise
        return connection

    async def _open_for_write(self, node: _Node) -> _RawConnection:
        """An idle connection the server has not closed meanwhile, else a new one: a batch
        written into a connection already closed would leave its outcome needlessly unknown."""
        while node.idle:
            connection = node.idle.pop()
            if connection.reader.at_eof() or connection.writer.is_closing():
                connection.close()
                continue
            connection.sent = False
            return connection
        return await self._open_raw(node)

    async def _send_raw(self, node: _Node, batch: Sequence[bytes]) -> BatchOutcome:
        results: list[str | Rejection] = []
        connection: _RawConnection | None = None
        try:
            async with asyncio.timeout(self._socket_timeout_s):
                connection = await self._open_for_write(node)
                rejected = await connection.send_adds(batch, results)
        except BaseException as exc:
            if connection is not None:
                connection.abort()
            if not isinstance(exc, RedisError | OSError | TimeoutError):
                raise
            raise WriteInterruptedError(
                "XADD batch",
                repr(exc),
                results,
                maybe_sent=connection is not None and connection.sent,
                since_ms=connection.since_ms if connection is not None else 0,
            ) from exc
        if connection.fresh:
            connection.close()  # refused for a passing state (READONLY: reconnecting may help)
        else:
            node.idle.append(connection)
        return BatchOutcome(results, rejected)

    async def _call_node(
        self, node: _Node, timeout_s: float, *args: bytes | str | int, asking: bool = False
    ) -> Any:
        """One command on a raw connection to `node`; the connection is dropped after any
        failure but an error reply. With `asking`, ASKING goes first on the same connection."""
        async with asyncio.timeout(timeout_s):
            connection = node.idle.pop() if node.idle else await self._open_raw(node)
            try:
                if asking:
                    reply = (await connection.call_many([("ASKING",), args]))[1]
                    if isinstance(reply, ResponseError):
                        raise reply
                else:
                    reply = await connection.call(*args)
            except ResponseError:
                node.idle.append(connection)
                raise
            except BaseException:
                connection.close()
                raise
        node.idle.append(connection)
        return reply

    async def _call_raw(self, timeout_s: float, key: str, *args: bytes | str | int) -> Any:
        """One command about `key` on the node serving its slot, following MOVED and ASK."""
        node = self._node_for(key)
        asking = False
        for _ in range(_MAX_REDIRECTS):
            try:
                return await self._call_node(node, timeout_s, *args, asking=asking)
            except ResponseError as exc:
                redirect = _redirect(str(exc))
                if redirect is None:
                    raise
                kind, _slot, address = redirect
                if kind == "MOVED":
                    await self._refresh_slot_map()
                node, asking = self._node_at(address), kind == "ASK"
        return await self._call_node(node, timeout_s, *args, asking=asking)

    async def _send_pooled(self, batch: Sequence[bytes]) -> BatchOutcome:
        """Connection classes without a raw path: the batch goes through redis-py's connection."""
        results: list[str | Rejection] = []
        rejected = 0
        try:
            pool: Any = self._pool
            conn = cast(Connection, await pool.get_connection())
        except (RedisError, OSError) as exc:
            raise WriteInterruptedError(
                "XADD batch", repr(exc), results, maybe_sent=False, since_ms=0
            ) from exc
        try:
            await conn.send_packed_command(batch, check_health=False)
            for _ in batch:
                try:
                    results.append((await conn.read_response()).decode())
                except ResponseError as exc:
                    results.append(Rejection(str(exc)))
                    rejected += 1
        except (RedisError, OSError) as exc:
            await conn.disconnect()
            raise WriteInterruptedError(
                "XADD batch", repr(exc), results, maybe_sent=True, since_ms=0
            ) from exc
        finally:
            await self._pool.release(conn)
        return BatchOutcome(results, rejected)

    async def find_written(self, batch: Sequence[PreparedAdd], since_ms: int) -> list[bool]:
        await self.connect()
        found = [False] * len(batch)
        #: lane -> (producer instance, {sequence: position in batch})
        wanted: dict[str, tuple[bytes, dict[int, int]]] = {}
        for position, prepared in enumerate(batch):
            lane, fields = self.describe_add(prepared)
            instance, sequence = fields.get(FIELD_PRODUCER_INSTANCE), fields.get(FIELD_SEQUENCE)
            if instance is not None and sequence is not None:
                wanted.setdefault(lane, (instance, {}))[1][int(sequence)] = position
        try:
            for lane, (instance, positions) in wanted.items():
                await self._find_in_tail(lane, instance, positions, since_ms, found)
        except (RedisError, OSError) as exc:
            raise TransportError("XREVRANGE", repr(exc)) from exc
        return found

    async def _find_in_tail(
        self,
        lane: str,
        instance: bytes,
        positions: dict[int, int],
        since_ms: int,
        found: list[bool],
    ) -> None:
        """Walk `lane` from its newest entry back to `since_ms`, or to an entry of `instance`
        older than every sequence wanted, marking the wanted sequences present."""
        lowest = min(positions)
        upper = "+"
        page = 1000
        while True:
            raw: Any = await self._redis.xrevrange(lane, upper, f"{since_ms}-0", count=page)
            for _, fields in raw:
                if fields.get(FIELD_PRODUCER_INSTANCE) != instance:
                    continue
                sequence = int(fields.get(FIELD_SEQUENCE, b"0"))
                position = positions.get(sequence)
                if position is not None:
                    found[position] = True
                elif sequence < lowest:
                    return
            if len(raw) < page:
                return
            upper = "(" + _text(raw[-1][0])

    async def ensure_group(self, key: str, group: str) -> None:
        await self.connect()
        try:
            await self._redis.xgroup_create(key, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise TransportError("XGROUP CREATE", str(exc)) from exc
        except (RedisError, OSError) as exc:
            raise TransportError("XGROUP CREATE", repr(exc)) from exc

    async def read_group(
        self,
        group: str,
        consumer: str,
        keys: Sequence[str],
        *,
        count: int,
        block_ms: int | None,
        noack: bool = False,
    ) -> list[tuple[str, list[Entry]]]:
        await self.connect()
        # One server holds every key: one XREADGROUP names them all, blocking or not. A cluster
        # spreads streams over slots, so there each stream is a command of its own.
        streams = [list(keys)] if self._slots is None else _by_stream(keys)
        if not self._raw:
            found: dict[str, list[Entry]] = {}
            for lanes in streams:  # on a cluster, one stream per command: never two slots
                try:
                    raw: Any = await self._redis.xreadgroup(
                        group,
                        consumer,
                        dict.fromkeys(lanes, ">"),
                        count=count,
                        block=block_ms,
                        noack=noack,
                    )
                except (RedisError, OSError) as exc:
                    raise TransportError("XREADGROUP", repr(exc)) from exc
                found.update((_text(key), _entries(entries)) for key, entries in raw or ())
            return [(key, found[key]) for key in keys if key in found]
        try:
            if len(streams) == 1:
                found = await self._read_stream(
                    group, consumer, streams[0], count, block_ms, noack=noack
                )
            else:
                found = await self._read_streams(group, consumer, streams, count, noack=noack)
                if not found and block_ms is not None:
                    found = await self._read_streams_blocking(
                        group, consumer, streams, count, block_ms, noack=noack
                    )
        except ResponseError as exc:
            raise TransportError("XREADGROUP", str(exc)) from exc
        except (RedisError, OSError, TimeoutError) as exc:
            await self._after_connection_failure()
            raise TransportError("XREADGROUP", repr(exc)) from exc
        return [(key, found[key]) for key in keys if key in found]

    async def _read_stream(
        self,
        group: str,
        consumer: str,
        lanes: Sequence[str],
        count: int,
        block_ms: int | None,
        *,
        noack: bool,
    ) -> dict[str, list[Entry]]:
        """One XREADGROUP over the lanes of one stream (one slot), or over every lane read
        when the server is not a cluster."""
        timeout_s = self._socket_timeout_s + (block_ms or 0) / 1000
        command = _read_command(group, consumer, lanes, count, block_ms, noack=noack)
        return _read_reply(await self._call_raw(timeout_s, lanes[0], *command))

    async def _read_streams(
        self,
        group: str,
        consumer: str,
        streams: Sequence[Sequence[str]],
        count: int,
        *,
        noack: bool,
    ) -> dict[str, list[Entry]]:
        """One XREADGROUP per stream without blocking, pipelined on one connection per node,
        the nodes at once."""
        by_node: dict[_Node, list[Sequence[str]]] = {}
        for lanes in streams:
            by_node.setdefault(self._node_for(lanes[0]), []).append(lanes)
        replies = await asyncio.gather(
            *(
                self._read_on_node(node, group, consumer, part, count, noack=noack)
                for node, part in by_node.items()
            )
        )
        found: dict[str, list[Entry]] = {}
        for reply in replies:
            found.update(reply)
        return found

    async def _read_on_node(
        self,
        node: _Node,
        group: str,
        consumer: str,
        streams: list[Sequence[str]],
        count: int,
        *,
        noack: bool,
    ) -> dict[str, list[Entry]]:
        commands = [
            _read_command(group, consumer, lanes, count, None, noack=noack) for lanes in streams
        ]
        async with asyncio.timeout(self._socket_timeout_s):
            connection = node.idle.pop() if node.idle else await self._open_raw(node)
            try:
                replies = await connection.call_many(commands)
            except BaseException:
                connection.close()
                raise
        node.idle.append(connection)
        found: dict[str, list[Entry]] = {}
        for lanes, reply in zip(streams, replies, strict=True):
            if isinstance(reply, ResponseError):
                if _redirect(str(reply)) is None:
                    raise reply
                # The slot moved: read this stream where it lives now.
                reply_found = await self._read_stream(
                    group, consumer, lanes, count, None, noack=noack
                )
                found.update(reply_found)
                continue
            found.update(_read_reply(reply))
        return found

    async def _read_streams_blocking(
        self,
        group: str,
        consumer: str,
        streams: Sequence[Sequence[str]],
        count: int,
        block_ms: int,
        *,
        noack: bool,
    ) -> dict[str, list[Entry]]:
        """A blocking XREADGROUP per stream, all at once, each on a connection of its own; when
        the first returns, the others are ended with CLIENT UNBLOCK, and every reply is taken
        (entries delivered to a read are never left behind)."""
        blocked: dict[int, tuple[_Node, _RawConnection]] = {}
        tasks = [
            asyncio.ensure_future(
                self._blocking_read(
                    index,
                    blocked=blocked,
                    group=group,
                    consumer=consumer,
                    lanes=lanes,
                    count=count,
                    block_ms=block_ms,
                    noack=noack,
                )
            )
            for index, lanes in enumerate(streams)
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            while not all(task.done() for task in tasks):
                for index, task in enumerate(tasks):
                    if not task.done() and index in blocked:
                        node, connection = blocked[index]
                        await self._call_node(
                            node,
                            self._socket_timeout_s,
                            "CLIENT",
                            "UNBLOCK",
                            connection.client_id,
                        )
                await asyncio.wait(tasks, timeout=_UNBLOCK_RETRY_S)
            found: dict[str, list[Entry]] = {}
            for task in tasks:
                found.update(task.result())
            return found
        finally:
            for task in tasks:
                task.cancel()

    async def _blocking_read(
        self,
        index: int,
        *,
        blocked: dict[int, tuple[_Node, _RawConnection]],
        group: str,
        consumer: str,
        lanes: Sequence[str],
        count: int,
        block_ms: int,
        noack: bool,
    ) -> dict[str, list[Entry]]:
        node = self._node_for(lanes[0])
        async with asyncio.timeout(self._socket_timeout_s + block_ms / 1000):
            connection = node.idle.pop() if node.idle else await self._open_raw(node)
            try:
                if not connection.client_id:
                    connection.client_id = int(await connection.call("CLIENT", "ID"))
                command = _read_command(group, consumer, lanes, count, block_ms, noack=noack)
                pending = connection.call(*command)
                blocked[index] = (node, connection)
                reply = await pending
            except ResponseError as exc:
                node.idle.append(connection)
                if _redirect(str(exc)) is None:
                    raise
                return await self._read_stream(group, consumer, lanes, count, None, noack=noack)
            except BaseException:
                connection.close()
                raise
            finally:
                blocked.pop(index, None)
        node.idle.append(connection)
        return _read_reply(reply)

    async def ack(self, key: str, group: str, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        try:
            await self.connect()
            if self._raw:
                reply = await self._call_raw(self._socket_timeout_s, key, "XACK", key, group, *ids)
                return int(reply)
            return int(await self._redis.xack(key, group, *ids))
        except ResponseError as exc:
            raise TransportError("XACK", repr(exc)) from exc
        except (RedisError, OSError, TimeoutError) as exc:
            await self._after_connection_failure()
            raise TransportError("XACK", repr(exc)) from exc

    async def autoclaim(
        self, key: str, group: str, consumer: str, *, min_idle_ms: int, start: str, count: int
    ) -> ClaimResult:
        await self.connect()
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
        await self.connect()
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

    async def keep_claimed(
        self, key: str, group: str, consumer: str, ids: Sequence[str]
    ) -> list[str]:
        await self.connect()
        if not ids:
            return []
        try:
            raw: Any = await self._redis.xclaim(key, group, consumer, 0, list(ids), justid=True)
        except (RedisError, OSError) as exc:
            raise TransportError("XCLAIM", repr(exc)) from exc
        return [_text(entry_id) for entry_id in raw]

    async def remove_consumers(
        self,
        key: str,
        group: str,
        *,
        min_idle_ms: int,
        names: Sequence[str] | None = None,
    ) -> list[str]:
        await self.connect()
        # XINFO CONSUMERS, then XGROUP DELCONSUMER for each consumer found holding nothing (no
        # script: engine identities may not run EVAL). Only a consumer itself adds to its own
        # pending list, by reading or claiming under its name; the callers remove themselves
        # after their loop stopped, or consumers idle for minutes, so none reads in between.
        try:
            listed: Any = await self._redis.xinfo_consumers(key, group)
            wanted = None if names is None else set(names)
            removed = []
            for consumer in listed:
                name = _text(consumer["name"])
                if wanted is not None and name not in wanted:
                    continue
                if int(consumer["pending"]) or int(consumer["idle"]) < min_idle_ms:
                    continue
                await self._redis.xgroup_delconsumer(key, group, _raw_name(name))
                removed.append(name)
        except ResponseError as exc:
            if "no such key" in str(exc).lower() or "NOGROUP" in str(exc):
                return []
            raise TransportError("XGROUP DELCONSUMER", str(exc)) from exc
        except (RedisError, OSError) as exc:
            raise TransportError("XGROUP DELCONSUMER", repr(exc)) from exc
        return removed

    async def group_states(self, key: str) -> list[GroupState]:
        await self.connect()
        # XINFO GROUPS, then each group's XPENDING summary (one pipelined round trip). Acks land
        # in between: a summary may find the pending list emptied (min is nil) or holding entries
        # delivered since; either answer is a valid later state, and the last-delivered id read
        # first can only be older, so the floor computed from the pair stays safe.
        try:
            groups = await self._redis.xinfo_groups(key)
            names = [_text(group["name"]) for group in groups]
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.xpending(key, name)
            summaries = await pipe.execute(raise_on_error=False) if names else []
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return []
            raise TransportError("XINFO GROUPS", str(exc)) from exc
        except (RedisError, OSError) as exc:
            raise TransportError("XINFO GROUPS", repr(exc)) from exc
        states = []
        for group, name, summary in zip(groups, names, summaries, strict=True):
            if isinstance(summary, ResponseError):
                continue  # the group was destroyed in between: it needs nothing any more
            if isinstance(summary, Exception):
                raise TransportError("XPENDING", repr(summary)) from summary
            first = summary.get("min") if summary else None
            pending = int(summary.get("pending") or 0) if first is not None else 0
            states.append(
                GroupState(
                    name,
                    _text(group["last-delivered-id"]),
                    pending,
                    None if first is None else _text(first),
                )
            )
        return states

    async def length(self, key: str) -> int:
        await self.connect()
        try:
            return int(await self._redis.xlen(key))
        except (RedisError, OSError) as exc:
            raise TransportError("XLEN", repr(exc)) from exc

    async def id_at(self, key: str, index: int) -> str | None:
        await self.connect()
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
        await self.connect()
        try:
            return int(await self._redis.xtrim(key, minid=min_id, approximate=False))
        except (RedisError, OSError) as exc:
            raise TransportError("XTRIM", repr(exc)) from exc

    async def add_one(self, key: str, fields: EncodedEntry) -> str:
        await self.connect()
        try:
            client: Any = self._redis
            entry_id = await client.execute_command("XADD", key, "*", *fields)
        except (RedisError, OSError) as exc:
            raise TransportError("XADD", repr(exc)) from exc
        return _text(entry_id)

    async def range(self, key: str, start: str = "-", end: str = "+") -> list[Entry]:
        await self.connect()
        try:
            return _entries(await self._redis.xrange(key, start, end))
        except (RedisError, OSError) as exc:
            raise TransportError("XRANGE", repr(exc)) from exc

    async def close(self) -> None:
        for node in self._nodes.values():
            node.close()
        await self._redis.aclose()
