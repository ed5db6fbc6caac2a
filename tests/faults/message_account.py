"""Accounting for fault runs: every published message is handled, dead-lettered, or reported.

A fault run publishes numbered messages, lets consumers handle them while faults are injected,
and hands this module what happened: the numbers published, each handling (number, delivery
count, consumer, position in that consumer's log, time), the consumers' recorded stalls (spans in
which a live process got no CPU) and the dead letters. `MessageAccount` sorts every message into
exactly one fate and gives each duplicate a reason, so a test asserts on the figures and prints
the whole account.

A duplicate is explained when the first handling's consumer was killed (its entries were
redelivered), or when that consumer, alive, was starved of CPU long enough for its claim to
lapse: the consumer renews its claims every quarter of `reclaim_idle_ms` whenever it runs, so
only a stall of at least half of `reclaim_idle_ms` (a wide margin below the three quarters it
takes) near both handlings explains a takeover. Anything else is unexplained.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .consumer_worker import STALL_RECORD_MS

__all__ = ["Handling", "MessageAccount", "Stall", "read_handlings", "read_stalls"]


@dataclass(frozen=True, slots=True)
class Handling:
    """One call of a handler: which message, which delivery, where."""

    seq: int
    delivery_count: int
    consumer: str
    #: Position in the consumer's own log (its handling order).
    position: int
    #: When the handler ran (CLOCK_MONOTONIC, ns; shared by every process of the machine).
    at_ns: int = 0


@dataclass(frozen=True, slots=True)
class Stall:
    """A span in which a live consumer process got no CPU (CLOCK_MONOTONIC, ns)."""

    start_ns: int
    end_ns: int

    @property
    def ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def read_handlings(folder: Path) -> list[Handling]:
    """The handlings logged by consumer processes: one `<consumer>.log` per process, one
    `<seq> <delivery_count> <monotonic_ns>` line per handler call, written before the entry is
    acknowledged."""
    handlings = []
    for log in sorted(folder.glob("*.log")):
        for position, line in enumerate(log.read_text().splitlines()):
            seq, count, at_ns = line.split()
            handlings.append(Handling(int(seq), int(count), log.stem, position, int(at_ns)))
    return handlings


def read_stalls(folder: Path) -> dict[str, list[Stall]]:
    """The stalls recorded by consumer processes: `<consumer>.stalls`, `<start_ns> <end_ns>`."""
    stalls: dict[str, list[Stall]] = {}
    for log in sorted(folder.glob("*.stalls")):
        spans = [line.split() for line in log.read_text().splitlines()]
        stalls[log.stem] = [Stall(int(start), int(end)) for start, end in spans]
    return stalls


#: Why a message was handled more than once.
KILLED = "redelivered after its consumer was killed"
STARVED = "reclaimed from a live consumer starved of CPU past the reclaim idle time"
TAKEN_FROM_LIVE = "reclaimed from a consumer that was alive and running"
REPEATED_FIRST = "handled twice on a first delivery"


@dataclass
class MessageAccount:
    """Where every published message went."""

    published: Collection[int]
    handlings: list[Handling]
    #: Dead letters per reason, and how many garbage entries of each reason were written.
    dead_letters: Mapping[str, int] = field(default_factory=dict)
    garbage: Mapping[str, int] = field(default_factory=dict)
    #: Consumers killed during the run.
    killed: Collection[str] = ()
    #: Stalls recorded per consumer, and the consumers' reclaim idle time.
    stalls: Mapping[str, Sequence[Stall]] = field(default_factory=dict)
    reclaim_idle_ms: int = 1000

    def __post_init__(self) -> None:
        by_seq: dict[int, list[Handling]] = {}
        for handling in self.handlings:
            by_seq.setdefault(handling.seq, []).append(handling)
        self.lost = sorted(set(self.published) - by_seq.keys())
        self.unknown = sorted(by_seq.keys() - set(self.published))
        self.duplicated = {seq: hs for seq, hs in by_seq.items() if len(hs) > 1}
        self.duplicate_reasons: Counter[str] = Counter()
        self.unexplained: list[tuple[Handling, Handling]] = []
        for copies in self.duplicated.values():
            in_order = sorted(copies, key=lambda h: h.delivery_count)
            for earlier, later in itertools.pairwise(in_order):
                reason = self._why(earlier, later)
                self.duplicate_reasons[reason] += 1
                if reason not in (KILLED, STARVED):
                    self.unexplained.append((earlier, later))
        self.max_delivery_count = max((h.delivery_count for h in self.handlings), default=0)
        self.redelivered = sum(1 for h in self.handlings if h.delivery_count > 1)
        self.reordered = self._reordered()

    def _why(self, earlier: Handling, later: Handling) -> str:
        if later.delivery_count == 1:
            return REPEATED_FIRST
        if earlier.consumer in self.killed:
            return KILLED
        if self._starved_between(earlier, later):
            return STARVED
        return TAKEN_FROM_LIVE

    def _starved_between(self, earlier: Handling, later: Handling) -> bool:
        """`earlier`'s consumer had a stall long enough for its claim to lapse, around the time
        the message was handled twice: a takeover happens at the end of such a stall, and the
        taker handles the entry at once, so the stall overlaps the span from two reclaim idle
        times before the first of the two handlings to the last of them."""
        idle_ns = self.reclaim_idle_ms * 1_000_000
        window_start = min(earlier.at_ns, later.at_ns) - 2 * idle_ns
        window_end = max(earlier.at_ns, later.at_ns)
        return any(
            stall.end_ns - stall.start_ns >= idle_ns // 2
            and stall.end_ns >= window_start
            and stall.start_ns <= window_end
            for stall in self.stalls.get(earlier.consumer, ())
        )

    @property
    def worst_stall(self) -> Stall | None:
        """The longest span any consumer process went without CPU."""
        every = [stall for stalls in self.stalls.values() for stall in stalls]
        return max(every, key=lambda stall: stall.end_ns - stall.start_ns, default=None)

    def _reordered(self) -> list[tuple[str, int, int]]:
        """First deliveries a consumer handled after a higher-numbered one: (consumer, a, b)."""
        found = []
        last: dict[str, int] = {}
        for handling in sorted(self.handlings, key=lambda h: (h.consumer, h.position)):
            if handling.delivery_count != 1:
                continue
            previous = last.get(handling.consumer)
            if previous is not None and handling.seq < previous:
                found.append((handling.consumer, previous, handling.seq))
            last[handling.consumer] = handling.seq
        return found

    def duplicates(self, reason: str | None = None) -> int:
        """Extra handlings (all, or for one reason)."""
        if reason is None:
            return sum(self.duplicate_reasons.values())
        return self.duplicate_reasons[reason]

    def report(self) -> str:
        consumers = {h.consumer for h in self.handlings}
        lines = [
            f"published {len(self.published):,}, handled {len(self.handlings):,} times by "
            f"{len(consumers)} consumers ({len(self.killed)} killed)",
            f"  lost: {len(self.lost)}" + (f" (first: {self.lost[:5]})" if self.lost else ""),
            f"  duplicated: {len(self.duplicated)} messages, {self.duplicates()} extra handlings",
        ]
        for reason, count in sorted(self.duplicate_reasons.items()):
            lines.append(f"    {reason}: {count}")
        for earlier, later in self.unexplained[:5]:
            lines.append(f"      e.g. {earlier} then {later}")
        worst = self.worst_stall
        stalled = sum(len(stalls) for stalls in self.stalls.values())
        lines.append(
            f"  consumer stalls of {STALL_RECORD_MS} ms or more: {stalled}, longest "
            + (f"{worst.ms:,.0f} ms" if worst else "-")
            + f" (reclaim idle time {self.reclaim_idle_ms:,} ms)"
        )
        lines += [
            f"  redelivered handlings (delivery_count > 1): {self.redelivered}, "
            f"highest delivery_count seen by a handler: {self.max_delivery_count}",
            f"  reordered first deliveries: {len(self.reordered)}",
            f"  dead-lettered: {dict(sorted(self.dead_letters.items()))}, "
            f"garbage written: {dict(sorted(self.garbage.items()))}",
            f"  handled but never published: {len(self.unknown)}",
        ]
        return "\n".join(lines)
