"""A bounded empirical distribution for percentile ranks of a statistic against its history."""

from __future__ import annotations

import bisect
from collections import deque

__all__ = ["RollingEcdf"]


class RollingEcdf:
    """The last `capacity` observations, kept sorted; `cdf(x)` is the mid-rank of x among
    them: (count below x + half the count equal to x) / count. Mid-ranks keep a flat series at
    0.5 rather than 1.0, so ties never look extreme, while a new maximum still ranks 1.0.

    O(log n) lookups, O(n) inserts with a small constant (list insertion), which is fine for the
    few thousand values VPIN keeps.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._order: deque[float] = deque()
        self._sorted: list[float] = []
        self._capacity = capacity

    def __len__(self) -> int:
        return len(self._sorted)

    def cdf(self, value: float) -> float:
        """Mid-rank of `value` among the stored observations, in [0, 1]; 0.5 when empty."""
        if not self._sorted:
            return 0.5
        below = bisect.bisect_left(self._sorted, value)
        equal = bisect.bisect_right(self._sorted, value) - below
        return (below + 0.5 * equal) / len(self._sorted)

    def add(self, value: float) -> None:
        """Stores `value`, evicting the oldest observation when full."""
        if len(self._order) == self._capacity:
            oldest = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, oldest)]
        self._order.append(value)
        bisect.insort(self._sorted, value)
