"""Reconnect backoff: exponential, capped, reset on success."""

from __future__ import annotations

__all__ = ["Backoff"]


class Backoff:
    """Delays between retries of a failing server call: initial, doubling, capped at maximum.

    No jitter: one process has one connection per lane, and deterministic delays keep tests and
    backtests reproducible.
    """

    __slots__ = ("_current_s", "_initial_s", "_maximum_s", "failures")

    def __init__(self, initial_ms: int, maximum_ms: int) -> None:
        self._initial_s = initial_ms / 1000
        self._maximum_s = maximum_ms / 1000
        self._current_s = self._initial_s
        self.failures = 0

    def next_delay_s(self) -> float:
        """The delay before the next attempt; each call doubles the following one."""
        delay = self._current_s
        self._current_s = min(self._current_s * 2, self._maximum_s)
        self.failures += 1
        return delay

    def reset(self) -> None:
        """Back to the initial delay after a success."""
        self._current_s = self._initial_s
        self.failures = 0
