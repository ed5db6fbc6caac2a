"""Partitioned streams: a hot route stream cut into P streams by the entries' key.

A route may declare `partitions: P` (schemas/nautilus/bus/v1/options.proto). Its stream `S` then
has no entries of its own: each message goes to partition `S.p<i>`, i = `partition_of(k, P)`,
where `k` is the entry's partition key (the instrument id). Each partition is a stream in its own
right, with its own lanes, retry lanes and dead-letter stream named as any stream's
(runtime/lanes.py) and its own hash tag, so on Redis Cluster the partitions of one stream spread
over the masters, and a consumer group, its replicas' leases (runtime/leases.py) and the trimming
work per partition.

- Order per key is kept: every entry of one key is on one partition, read in order by one
  consumer of a group at a time (one replica under leases).
- The partition of a key is stable and simple to compute in any language: CRC-32 (IEEE 802.3,
  the polynomial of zlib, gzip, PNG, Java's `CRC32` and Go's `crc32.ChecksumIEEE`) of the key's
  UTF-8 bytes, as an unsigned 32-bit number, modulo P. For example with P = 4:
  `BTCUSDT.BINANCE` (CRC 43503234) -> 2, `ETHUSDT.BINANCE` -> 3, `AAPL.XNAS` -> 1
  (docs/wire-format.md).
- A partitioned route needs a key on every message: publishing without one is refused
  (PartitionKeyError), never guessed, since a guess would break the order of some key.
- Every route on one stream declares the same P: the stream is cut one way.
"""

from __future__ import annotations

import zlib

from nautilus.runtime.errors import MessageBusError

__all__ = [
    "PARTITION_INFIX",
    "PartitionKeyError",
    "partition_of",
    "partition_stream",
    "partition_streams",
    "route_stream_of",
]

PARTITION_INFIX = ".p"


class PartitionKeyError(MessageBusError):
    """A message of a partitioned route was published without a partition key."""

    def __init__(self, type_name: str, stream: str, partitions: int) -> None:
        super().__init__(
            f"{type_name} is routed on {stream}, cut into {partitions} partitions by key: "
            "publish it with key=<instrument id> (every entry of one key goes to one partition)"
        )
        self.type_name = type_name
        self.stream = stream
        self.partitions = partitions


def partition_of(key: str, partitions: int) -> int:
    """The partition (0 .. partitions-1) of `key`: CRC-32 of its UTF-8 bytes, modulo."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    return zlib.crc32(key.encode()) % partitions


def partition_stream(stream: str, index: int) -> str:
    """The stream of partition `index` of `stream`: `<stream>.p<index>`."""
    return f"{stream}{PARTITION_INFIX}{index}"


def partition_streams(stream: str, partitions: int) -> tuple[str, ...]:
    """The streams that hold `stream`'s entries: its partitions, or `stream` itself when the
    route is not partitioned (0 or 1)."""
    if partitions <= 1:
        return (stream,)
    return tuple(partition_stream(stream, index) for index in range(partitions))


def route_stream_of(stream: str) -> str:
    """The route stream a partition stream belongs to (any other stream: itself)."""
    head, infix, index = stream.rpartition(PARTITION_INFIX)
    return head if infix and index.isdigit() else stream
