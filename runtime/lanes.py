"""Stream key naming: the bulk lane, the priority lane and the dead-letter stream of a stream.

A route names one stream (for example `nautilus-vpin-streams`). On Redis it becomes three keys:

- `<stream>`              bulk lane: LOW, NORMAL and HIGH messages, buffered and pipelined;
- `<stream>:urgent`       priority lane: URGENT and CRITICAL, written at once, read first;
- `<stream>:dead-letter`  entries that could not be delivered, with the reason;
- `<stream>:retry:<group>` dead letters replayed for one consumer group only, read by that group
  after the priority lane and before the bulk lane (runtime/retry_lane.py).

The suffixes are part of the wire contract (docs/wire-format.md): clients in other languages derive
the same keys.
"""

from __future__ import annotations

from nautilus.runtime.priority import MessagePriority

__all__ = [
    "DEAD_LETTER_SUFFIX",
    "PRIORITY_LANE_SUFFIX",
    "RETRY_LANE_INFIX",
    "bulk_lane",
    "dead_letter_stream",
    "lane_for",
    "lanes_in_read_order",
    "priority_lane",
    "retry_lane",
    "stream_of_lane",
]

PRIORITY_LANE_SUFFIX = ":urgent"
DEAD_LETTER_SUFFIX = ":dead-letter"
RETRY_LANE_INFIX = ":retry:"


def bulk_lane(stream: str) -> str:
    """The key of `stream`'s bulk lane: the stream key itself."""
    return stream


def priority_lane(stream: str) -> str:
    """The key of `stream`'s priority lane (URGENT and CRITICAL)."""
    return stream + PRIORITY_LANE_SUFFIX


def dead_letter_stream(stream: str) -> str:
    """The key of `stream`'s dead-letter stream, shared by both lanes and all consumer groups."""
    return stream + DEAD_LETTER_SUFFIX


def retry_lane(stream: str, group: str) -> str:
    """The key of `stream`'s retry lane of consumer group `group` (replayed dead letters)."""
    return stream + RETRY_LANE_INFIX + group


def lane_for(stream: str, priority: MessagePriority) -> str:
    """The lane key a message of `priority` is written to."""
    return priority_lane(stream) if priority.uses_priority_lane else stream


def lanes_in_read_order(stream: str) -> tuple[str, str]:
    """Both lanes of `stream`, the priority lane first: the order consumers drain them."""
    return (priority_lane(stream), bulk_lane(stream))


def stream_of_lane(lane: str) -> str:
    """The route stream that `lane` (a bulk, priority or retry lane) belongs to."""
    return lane.partition(RETRY_LANE_INFIX)[0].removesuffix(PRIORITY_LANE_SUFFIX)
