"""Accounting for fault runs: every published message is handled, dead-lettered, or reported.

A fault run publishes numbered messages, lets consumers handle them while faults are injected,
and hands this module what happened: the numbers published, each handling (number, delivery
count, consumer, position in that consumer's log) and the dead letters. `MessageAccount` sorts
every message into exactly one fate and explains each duplicate, so a test asserts on the
figures and prints the whole account.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Handling", "MessageAccount", "read_handlings"]


@dataclass(frozen=True, slots=True)
class Handling:
    """One call of a handler: which message, which delivery, where."""

    seq: int
    delivery_count: int
    consumer: str
    #: Position in the consumer's own log (its handling order).
    position: int


def read_handlings(folder: Path) -> list[Handling]:
    """The handlings logged by consumer processes: one `<consumer>.log` per process, one
    `<seq> <delivery_count>` line per handler call, written before the entry is acknowledged."""
    handlings = []
    for log in sorted(folder.glob("*.log")):
        for position, line in enumerate(log.read_text().splitlines()):
            seq, count = line.split()
            handlings.append(Handling(int(seq), int(count), log.stem, position))
    return handlings


#: Why a message was handled more than once.
KILLED = "redelivered after its consumer was killed"
TAKEN_FROM_LIVE = "reclaimed from a consumer that was alive"
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
                if reason != KILLED:
                    self.unexplained.append((earlier, later))
        self.max_delivery_count = max((h.delivery_count for h in self.handlings), default=0)
        self.redelivered = sum(1 for h in self.handlings if h.delivery_count > 1)
        self.reordered = self._reordered()

    def _why(self, earlier: Handling, later: Handling) -> str:
        if later.delivery_count == 1:
            return REPEATED_FIRST
        if earlier.consumer in self.killed:
            return KILLED
        return TAKEN_FROM_LIVE

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
        lines += [
            f"  redelivered handlings (delivery_count > 1): {self.redelivered}, "
            f"highest delivery_count seen by a handler: {self.max_delivery_count}",
            f"  reordered first deliveries: {len(self.reordered)}",
            f"  dead-lettered: {dict(sorted(self.dead_letters.items()))}, "
            f"garbage written: {dict(sorted(self.garbage.items()))}",
            f"  handled but never published: {len(self.unknown)}",
        ]
        return "\n".join(lines)
