"""Market time and the timers that run on it.

Some engine work is periodic: Features, Analytics and Factor close their intervals on a timer even
when an instrument is quiet, and Risk publishes its metrics every few seconds. Those periods are
in market time, not wall time, so that a replay at 20x speed and a backtest at full speed do the
same work. An engine's market time is the event time (`ts_event`) of the latest quote or trade it
has consumed: `MarketClock` holds it, and a `MarketTimer` fires for every period boundary it
passes, in order, before the message that passed it is handled.

Since quotes and trades arrive in publish order on one lane, a timer firing at boundary T has
seen every market message before T and none after: the outputs are the same whichever transport
carries the messages, and a backtest reproduces them byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.protobuf.message import Message

__all__ = ["MarketClock", "MarketTimer", "TimerCallback"]

#: A timer's work: `(boundary_ns, now_ns) -> output messages`.
TimerCallback = Callable[[int, int], Sequence[Message]]

#: A timer further behind than this many periods skips ahead instead of replaying each one.
_MAX_CATCH_UP_PERIODS = 1_000


class MarketClock:
    """The market time an engine has reached: the latest `ts_event` of its market data.

    Implements the runtime's `Clock` protocol, so it can stand wherever a clock is expected.
    Time only moves forward; an older event leaves it where it is.
    """

    __slots__ = ("_now_ns",)

    def __init__(self) -> None:
        self._now_ns = 0

    def timestamp_ns(self) -> int:
        """The latest market event time seen (0 before any)."""
        return self._now_ns

    def advance(self, ts_ns: int) -> bool:
        """Move to `ts_ns` if it is later; True when the time moved."""
        if ts_ns <= self._now_ns:
            return False
        self._now_ns = ts_ns
        return True

    def __repr__(self) -> str:
        return f"MarketClock({self._now_ns})"


class MarketTimer:
    """Fires `callback` at every multiple of `interval_ns` of market time.

    The first boundary is the first multiple after the market time at which the timer first
    looks; boundaries are never skipped unless the timer is more than 1000 periods behind (a gap
    in the data), in which case it jumps to the latest boundary.
    """

    __slots__ = ("callback", "interval_ns", "name", "next_ns")

    def __init__(self, name: str, interval_ns: int, callback: TimerCallback) -> None:
        if interval_ns <= 0:
            raise ValueError(f"timer {name!r}: interval_ns must be > 0")
        self.name = name
        self.interval_ns = interval_ns
        self.callback = callback
        self.next_ns: int | None = None

    def due(self, market_ns: int) -> list[int]:
        """The boundaries at or before `market_ns` not yet fired, oldest first; marks them fired."""
        interval = self.interval_ns
        aligned = market_ns - market_ns % interval
        if self.next_ns is None:
            self.next_ns = aligned + interval
            return []
        if market_ns < self.next_ns:
            return []
        if (aligned - self.next_ns) // interval > _MAX_CATCH_UP_PERIODS:
            self.next_ns = aligned
        boundaries = list(range(self.next_ns, aligned + 1, interval))
        self.next_ns = aligned + interval
        return boundaries
