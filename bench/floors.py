"""The machine's floor: what Redis Streams and Python can do here with no bus at all.

Ratios against the floor are what stay comparable between machines (absolute rates move ±40 %),
so every run measures, beside our bus:

- the **consumer floor**: a publisher writing the pre-encoded wire entries flat out (hiredis
  packing, one raw socket, 1000 XADDs a write) and a consumer in another process doing only
  `XREADGROUP COUNT n BLOCK` and one `XACK` per batch on a raw socket, replies parsed by hiredis:
  no decoding, no envelope checks, no handler. Our end to end is compared with it.
- the **latency floor**: the same consumer, timing each entry against its `ts` field, fed by a
  publisher that writes each due entry at once (`XADD` with a fresh `ts`, no buffering), paced
  like ours. Our latency at the same offered rate is compared with it.

Both are synchronous, blocking sockets: the cheapest way Python can drive Redis.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import hiredis

from nautilus.bench.baselines import BATCH_SIZE, connect
from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.payloads import BULK_STREAM, quotes, wire_entries

__all__ = [
    "FLOOR_GROUP",
    "entry_layouts",
    "floor_consume",
    "floor_publish",
    "published_entries",
    "server_floor_per_delivery",
]

#: The consumer group of the floor consumer (one consumer in it).
FLOOR_GROUP = b"bench-floor"
#: Entries per XREADGROUP of the floor consumer (the bus's default `read_count`).
_READ_COUNT = 500
_BLOCK_MS = 100
#: Index of the `ts` value in a wire entry's field list (`wire.encode_entry` layout).
_TS_INDEX = 11
#: Pacing tick of the paced publisher, as in the bus's paced publisher (`jobs._paced`).
_TICK_S = 0.0005
#: The producer instance of the fan-out floor's entries (16 hex characters, as a publisher's).
_FLOOR_INSTANCE = b"f100r0000000f100"


class _Link:
    """One blocking socket and its hiredis reader."""

    def __init__(self, url: str) -> None:
        self.sock: socket.socket = connect(url)
        self.reader = hiredis.Reader()

    def reply(self) -> Any:
        while (reply := self.reader.gets()) is False:
            data = self.sock.recv(1 << 18)
            if not data:
                raise ConnectionError("connection closed by the server")
            self.reader.feed(data)
        if isinstance(reply, hiredis.ReplyError):
            raise reply
        return reply

    def call(self, *args: bytes) -> Any:
        command: Any = args
        self.sock.sendall(hiredis.pack_command(command))
        return self.reply()

    def close(self) -> None:
        self.sock.close()


async def floor_consume(
    *,
    notify: Any,
    url: str,
    expected: int,
    record_latency: bool = False,
    warmup_s: float = 0.0,
    deadline_s: float = 60.0,
) -> dict[str, Any]:
    """Read and acknowledge `expected` entries of the bulk stream in a group; nothing else."""
    key = BULK_STREAM.encode()
    link = _Link(url)
    try:
        try:
            link.call(b"XGROUP", b"CREATE", key, FLOOR_GROUP, b"0", b"MKSTREAM")
        except hiredis.ReplyError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        read: Any = (
            b"XREADGROUP", b"GROUP", FLOOR_GROUP, b"floor-1", b"COUNT", b"%d" % _READ_COUNT,
            b"BLOCK", b"%d" % _BLOCK_MS, b"STREAMS", key, b">",
        )  # fmt: skip
        packed_read = hiredis.pack_command(read)
        histogram = LatencyHistogram()
        warmup_ns = int(warmup_s * 1e9)
        record_from = 0
        received = 0
        notify("ready")
        cpu_started = time.process_time()
        deadline = time.monotonic() + deadline_s
        while received < expected and time.monotonic() < deadline:
            link.sock.sendall(packed_read)
            reply = link.reply()
            if not reply:
                continue
            entries = reply[0][1]
            now_ns = time.time_ns()
            if record_latency:
                for _, fields in entries:
                    published = int(fields[_TS_INDEX])
                    if not record_from:
                        record_from = published + warmup_ns
                    if published >= record_from:
                        histogram.record_ns(now_ns - published)
            ack: Any = (b"XACK", key, FLOOR_GROUP, *[entry_id for entry_id, _ in entries])
            link.sock.sendall(hiredis.pack_command(ack))
            link.reply()
            received += len(entries)
        finished_ns = time.time_ns()
        cpu_s = time.process_time() - cpu_started
    finally:
        link.close()
    return {
        "cpu_s": cpu_s,
        "received": received,
        "finished_ns": finished_ns,
        "latency": histogram.encode(),
        "negative": histogram.negative,
    }


def _paced_adds(link: _Link, key: bytes, pool: list[list[bytes]], rate: float, total: int) -> None:
    """XADD `total` entries at `rate`/s: each tick writes what is due, each with a fresh `ts`."""
    pack: Any = hiredis.pack_command
    size = len(pool)
    started = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        if due > sent:
            commands = []
            for i in range(sent, due):
                fields = pool[i % size]
                fields[_TS_INDEX] = b"%d" % time.time_ns()
                commands.append(pack((b"XADD", key, b"*", *fields)))
            link.sock.sendall(b"".join(commands))
            for _ in range(due - sent):
                link.reply()
            sent = due
        time.sleep(_TICK_S)


def _flat_out_adds(link: _Link, key: bytes, pool: list[list[bytes]], count: int) -> None:
    """XADD `count` pre-encoded entries, `BATCH_SIZE` per write (the hiredis baseline's way)."""
    pack: Any = hiredis.pack_command
    size = len(pool)
    for first in range(0, count, BATCH_SIZE):
        batch = range(first, min(first + BATCH_SIZE, count))
        link.sock.sendall(b"".join([pack((b"XADD", key, b"*", *pool[i % size])) for i in batch]))
        for _ in batch:
            link.reply()


async def floor_publish(
    *,
    notify: Any,
    url: str,
    start_at_ns: int,
    count: int = 0,
    rate: float = 0.0,
    duration_s: float = 0.0,
) -> dict[str, Any]:
    """The floor's publisher: `count` entries flat out, or `rate`/s for `duration_s`."""
    key = BULK_STREAM.encode()
    pool = [list(entry) for entry in wire_entries(quotes())]
    link = _Link(url)
    try:
        notify("ready")
        delay_s = (start_at_ns - time.time_ns()) / 1e9
        if delay_s > 0:
            time.sleep(delay_s)
        started_ns = time.time_ns()
        if rate:
            sent = int(rate * duration_s)
            _paced_adds(link, key, pool, rate, sent)
        else:
            sent = count
            _flat_out_adds(link, key, pool, count)
        landed_ns = time.time_ns()
    finally:
        link.close()
    return {"sent": sent, "started_ns": started_ns, "landed_ns": landed_ns}


def published_entries() -> list[list[bytes]]:
    """The quotes' entries as the MarketData client writes them: the wire fields and its producer
    instance and per-lane sequence (9 fields, where the other floors' pre-encoded entries have 7).
    The server's cost of a delivery grows with the fields it replies with, so the fan-out floor
    drains what the fan-out delivers."""
    return [list(entry) for entry in wire_entries(quotes(), instance=_FLOOR_INSTANCE)]


#: The fields `entry_layouts` joins into one, in the order they are joined: those that are the
#: same for every message of one publisher and type, then the ones that change per message.
_CONSTANT_FIELDS = (b"v", b"t", b"f", b"s", b"pr", b"pi")
_VARYING_FIELDS = (b"ts", b"sq")
_JOINED_FIELD = b"h"
_SEPARATOR = b"\x1f"


def entry_layouts() -> dict[str, list[list[bytes]]]:
    """The fan-out floor's entries as written (`published_entries`, 9 fields) and the same bytes
    in fewer fields: the six fields that are constant per publisher and type joined into one
    (4 fields), and every field but the payload joined into one (2 fields).

    Not layouts the bus writes or reads: they measure what the server's per-field work costs a
    delivery, the part of the floor that only the wire format could change."""
    written = published_entries()
    layouts: dict[str, list[list[bytes]]] = {"9 fields (as written)": written}
    for name, joined in (
        ("4 fields (constant fields joined)", _CONSTANT_FIELDS),
        ("2 fields (all but the payload joined)", _CONSTANT_FIELDS + _VARYING_FIELDS),
    ):
        layouts[name] = [_join_fields(entry, joined) for entry in written]
    return layouts


def _join_fields(entry: list[bytes], joined: tuple[bytes, ...]) -> list[bytes]:
    fields = dict(zip(entry[::2], entry[1::2], strict=True))
    header = _SEPARATOR.join(fields.pop(name) for name in joined)
    rest = [part for name, value in fields.items() for part in (name, value)]
    return [_JOINED_FIELD, header, *rest]


def server_floor_per_delivery(
    url: str,
    count: int,
    groups: int,
    *,
    noack: bool,
    entries: list[list[bytes]] | None = None,
) -> dict[str, float]:
    """Server CPU µs per entry per group when `groups` bare consumers each drain `count` entries
    (`entries`, by default `published_entries`) in batches of 500 (XREADGROUP + one XACK per
    batch, or XREADGROUP NOACK and no XACK): the least the server can spend per delivery, to set
    the fan-out figure against."""
    from nautilus.bench.fanout import server_usage

    key = BULK_STREAM.encode()
    link = _Link(url)
    try:
        link.call(b"UNLINK", key)
        _flat_out_adds(link, key, entries or published_entries(), count)
        names = [b"bench-floor-%d" % index for index in range(groups)]
        for name in names:
            link.call(b"XGROUP", b"CREATE", key, name, b"0")
        before = server_usage(url)
        for name in names:
            read: Any = [b"XREADGROUP", b"GROUP", name, b"floor-1", b"COUNT", b"%d" % _READ_COUNT]
            if noack:
                read.append(b"NOACK")
            read += [b"STREAMS", key, b">"]
            while reply := link.call(*read):
                entries = reply[0][1]
                if not entries:
                    break
                if not noack:
                    link.call(b"XACK", key, name, *[entry_id for entry_id, _ in entries])
        spent = server_usage(url) - before
        link.call(b"UNLINK", key)
    finally:
        link.close()
    return {"server_us_per_group_delivery": spent.cpu_s / (count * groups) * 1e6}
