"""Clocks: the only source of the timestamps the runtime writes.

Every timestamp that reaches a stream entry (publish time, dead-letter time) and every id the
in-process transport assigns comes from a `Clock`, so a backtest driven by a `TestClock` writes the
same bytes on every run. Timers that only pace the runtime itself (flush interval, reconnect
backoff, blocking reads) use the event loop's monotonic time and never reach the wire.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "LiveClock", "TestClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of wall-clock time in integer nanoseconds since the Unix epoch."""

    def timestamp_ns(self) -> int:
        """Current time, ns since the Unix epoch."""
        ...


class LiveClock:
    """The system's wall clock (`time.time_ns`)."""

    __slots__ = ()

    def timestamp_ns(self) -> int:
        return time.time_ns()

    def __repr__(self) -> str:
        return "LiveClock()"


class TestClock:
    """A clock that moves only when told to: deterministic time for backtests and tests.

    Time never goes backwards: `set_time` to an earlier instant is refused, because stream ids and
    timestamps written under this clock must stay ordered.
    """

    __slots__ = ("_now_ns",)
    __test__ = False  # not a pytest test class

    def __init__(self, start_ns: int = 0) -> None:
        if start_ns < 0:
            raise ValueError(f"start_ns must be >= 0, got {start_ns}")
        self._now_ns = start_ns

    def timestamp_ns(self) -> int:
        return self._now_ns

    def set_time(self, now_ns: int) -> None:
        """Move the clock to `now_ns`, which must not be earlier than the current time."""
        if now_ns < self._now_ns:
            raise ValueError(f"TestClock cannot go backwards: {now_ns} < {self._now_ns}")
        self._now_ns = now_ns

    def advance(self, delta_ns: int) -> int:
        """Move the clock forward by `delta_ns` and return the new time."""
        if delta_ns < 0:
            raise ValueError(f"delta_ns must be >= 0, got {delta_ns}")
        self._now_ns += delta_ns
        return self._now_ns

    def __repr__(self) -> str:
        return f"TestClock({self._now_ns})"
