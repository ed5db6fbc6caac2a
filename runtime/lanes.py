"""Stream key naming: the bulk lane, the priority lane and the dead-letter stream of a stream.

A route names one stream (for example `nautilus-vpin-streams`). On Redis it becomes three keys:

- `<stream>`              bulk lane: LOW, NORMAL and HIGH messages, buffered and pipelined;
- `<stream>:urgent`       priority lane: URGENT and CRITICAL, written at once, read first;
- `<stream>:dead-letter`  entries that could not be delivered, with the reason.

The suffixes are part of the wire contract (docs/wire-format.md): clients in other languages derive
the same keys.
"""

from __future__ import annotations

from nautilus.runtime.priority import MessagePriority

__all__ = [
    "DEAD_LETTER_SUFFIX",
    "PRIORITY_LANE_SUFFIX",
    "bulk_lane",
    "dead_letter_stream",
    "lane_for",
    "lanes_in_read_order",
    "priority_lane",
    "stream_of_lane",
]

PRIORITY_LANE_SUFFIX = ":urgent"
DEAD_LETTER_SUFFIX = ":dead-letter"


def bulk_lane(stream: str) -> str:
    """The key of `stream`'s bulk lane: the stream key itself."""
    return stream


def priority_lane(stream: str) -> str:
    """The key of `stream`'s priority lane (URGENT and CRITICAL)."""
    return stream + PRIORITY_LANE_SUFFIX


def dead_letter_stream(stream: str) -> str:
    """The key of `stream`'s dead-letter stream, shared by both lanes and all consumer groups."""
    return stream + DEAD_LETTER_SUFFIX


def lane_for(stream: str, priority: MessagePriority) -> str:
    """The lane key a message of `priority` is written to."""
    return priority_lane(stream) if priority.uses_priority_lane else stream


def lanes_in_read_order(stream: str) -> tuple[str, str]:
    """Both lanes of `stream`, the priority lane first: the order consumers drain them."""
    return (priority_lane(stream), bulk_lane(stream))


def stream_of_lane(lane: str) -> str:
    """The route stream that `lane` belongs to."""
    return lane.removesuffix(PRIORITY_LANE_SUFFIX)
