"""Message priorities, numbered as the `nautilus.bus.v1.MessagePriority` proto enum."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["PRIORITY_LANE_LEVELS", "MessagePriority"]


class MessagePriority(IntEnum):
    """How urgently a message must reach its consumers.

    LOW to HIGH travel on the bulk lane, buffered and pipelined for throughput. URGENT and CRITICAL
    travel on the priority lane: written at once, never behind bulk traffic, and read first.
    """

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4
    CRITICAL = 5

    @property
    def uses_priority_lane(self) -> bool:
        """True for URGENT and CRITICAL: unbuffered, on the `<stream>:urgent` lane."""
        return self >= MessagePriority.URGENT


#: Priorities carried by the priority lane.
PRIORITY_LANE_LEVELS = frozenset({MessagePriority.URGENT, MessagePriority.CRITICAL})
