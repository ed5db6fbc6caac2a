"""Safe trimming: bound a lane by length and age without losing entries a group still needs.

Policy (docs/wire-format.md, "Trimming"):

1. The configured bounds give a cut: with `trim_max_len`, the id of the oldest entry that keeps the
   lane at that length; with `trim_max_age_ms`, the clock's time minus the age. The later cut wins
   (the stricter bound).
2. The safety floor is the smallest id that some consumer group of the lane still needs: its
   oldest pending (delivered, unacknowledged) entry, or else the entry after its last delivered.
3. Entries below min(cut, floor) are deleted (XTRIM MINID, exact). A lagging group therefore holds
   the lane above its bound until it catches up: the bounds yield to the delivery contract.

A lane with no consumer group has nobody to protect and is trimmed to its bounds. Producers create
the group of every routed engine when they start (`declare_consumer_groups`), so entries published
before a consuming engine's first start are protected too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nautilus.runtime.backoff import Backoff
from nautilus.runtime.clock import Clock
from nautilus.runtime.transport.base import GroupState, Transport, parse_entry_id

__all__ = ["TrimLoop", "TrimResult", "received_floor", "safe_trim"]

_log = logging.getLogger(__name__)

_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class TrimResult:
    """What one trim of one lane did."""

    lane: str
    deleted: int
    #: The id entries were deleted below, or None when nothing was due.
    min_id: str | None
    #: True when a group's unreceived or pending entries held the trim back.
    held_by_groups: bool


def received_floor(groups: list[GroupState]) -> tuple[int, int] | None:
    """The smallest id some group still needs; None when there are no groups."""
    floor: tuple[int, int] | None = None
    for group in groups:
        if group.first_pending_id is not None:
            needed = parse_entry_id(group.first_pending_id)
        else:
            ms, seq = parse_entry_id(group.last_delivered_id)
            needed = (ms, seq + 1)
        floor = needed if floor is None else min(floor, needed)
    return floor


async def _length_cut(transport: Transport, lane: str, max_len: int) -> tuple[int, int] | None:
    """The id below which entries exceed `max_len` (just past the newest when `max_len` is 0)."""
    length = await transport.length(lane)
    if length <= max_len:
        return None
    if max_len == 0:
        newest = await transport.id_at(lane, length - 1)
        if newest is None:
            return None
        ms, seq = parse_entry_id(newest)
        return (ms, seq + 1)
    first_kept = await transport.id_at(lane, length - max_len)
    return None if first_kept is None else parse_entry_id(first_kept)


async def safe_trim(
    transport: Transport,
    lane: str,
    *,
    max_len: int | None,
    max_age_ms: int | None,
    clock: Clock,
) -> TrimResult:
    """Trim `lane` to its bounds, never below what a consumer group still needs."""
    cut: tuple[int, int] | None = None
    if max_age_ms is not None:
        cut = (max(clock.timestamp_ns() // _NS_PER_MS - max_age_ms, 0), 0)
    if max_len is not None:
        by_length = await _length_cut(transport, lane, max_len)
        if by_length is not None:
            cut = by_length if cut is None else max(cut, by_length)
    if cut is None:
        return TrimResult(lane, 0, None, False)
    floor = received_floor(await transport.group_states(lane))
    held = floor is not None and floor < cut
    if floor is not None:
        cut = min(cut, floor)
    min_id = f"{cut[0]}-{cut[1]}"
    return TrimResult(lane, await transport.trim_before(lane, min_id), min_id, held)


class TrimLoop:
    """Runs a trim every interval until stopped, and never stops on an error.

    Whatever a trim raises (an unreachable server, a rejected command, a bug) is counted in
    `failures`, logged once per kind of error (type and operation) with its traceback, and the
    trim is retried after an exponential backoff capped at the interval. The loop ends only when
    `stop` is set or its task is cancelled.
    """

    def __init__(
        self,
        trim: Callable[[], Awaitable[object]],
        *,
        interval_s: float,
        backoff: Backoff,
    ) -> None:
        self._trim = trim
        self._interval_s = interval_s
        self._backoff = backoff
        #: Trims that completed, and trims that raised.
        self.runs = 0
        self.failures = 0
        #: Failures per kind ("TransportError: XTRIM", "ValueError", ...), each logged once.
        self.failures_by_kind: dict[str, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        wait_s = self._interval_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait_s)
            if stop.is_set():
                return
            try:
                await self._trim()
            except Exception as exc:
                self._failed(exc)
                wait_s = min(self._backoff.next_delay_s(), self._interval_s)
            else:
                self.runs += 1
                if self._backoff.failures:
                    _log.info("trim succeeded again after %d failures", self._backoff.failures)
                    self._backoff.reset()
                wait_s = self._interval_s

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        operation = getattr(exc, "operation", None)
        kind = type(exc).__name__ + (f": {operation}" if operation else "")
        seen = self.failures_by_kind.get(kind, 0)
        self.failures_by_kind[kind] = seen + 1
        if not seen:
            _log.error("trim failed (%s); retrying with backoff", kind, exc_info=exc)
