"""Accounting for write-path fault runs: every published message found once, in order, or reported.

Each message is a `Quote` whose `ts_event` is its number, so reading a lane back tells, for every
number the producer accepted, whether the server holds it, how many times, and in which order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote

__all__ = ["STREAM", "Account", "numbered_quote", "read_numbers"]

STREAM = "nautilus-marketdata-streams"


def numbered_quote(number: int) -> Quote:
    """A quote that carries `number` (as `ts_event`); prices vary so payloads differ."""
    return Quote(
        instrument_id="AAPL.XNAS",
        bid_price_e9=229_150_000_000 + number % 1000 * 10_000_000,
        ask_price_e9=229_170_000_000 + number % 1000 * 10_000_000,
        bid_size_e9=300_000_000_000,
        ask_size_e9=200_000_000_000,
        ts_event=number,
        ts_init=number,
    )


def read_numbers(connection: redis.Redis, lane: str) -> list[int]:
    """The message numbers in `lane`, in stream order."""
    numbers: list[int] = []
    start = "-"
    while True:
        page = connection.xrange(lane, start, "+", count=10_000)
        numbers += [Quote.FromString(fields[b"p"]).ts_event for _, fields in page]
        if len(page) < 10_000:
            return numbers
        start = "(" + page[-1][0].decode()


@dataclass
class Account:
    """Where every message of one run ended up."""

    scenario: str
    seed: int
    #: Messages the producer accepted, in publish order (per lane).
    published: dict[str, list[int]]
    #: Messages the server holds, in stream order (per lane).
    held: dict[str, list[int]]
    #: Messages the publisher reported refused for good.
    rejected: int = 0
    faults: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)

    def lost(self) -> int:
        """Accepted, neither in the server nor reported refused."""
        missing = sum(
            len(set(numbers) - set(self.held.get(lane, [])))
            for lane, numbers in self.published.items()
        )
        return missing - self.rejected

    def duplicated(self) -> int:
        """Extra copies: entries beyond the first of each message."""
        return sum(
            count - 1
            for numbers in self.held.values()
            for count in Counter(numbers).values()
            if count > 1
        )

    def reordered(self) -> int:
        """First copies that land after a message published later on the same lane."""
        total = 0
        for lane, numbers in self.held.items():
            rank = {number: i for i, number in enumerate(self.published.get(lane, []))}
            seen: set[int] = set()
            highest = -1
            for number in numbers:
                if number in seen:
                    continue
                seen.add(number)
                position = rank.get(number, -1)
                if position < highest:
                    total += 1
                highest = max(highest, position)
        return total

    def overtaking(self) -> int:
        """First copies that land ahead of a message published earlier on the same lane (the
        entries a publisher counts as `out_of_order`)."""
        total = 0
        for lane, numbers in self.held.items():
            published = self.published.get(lane, [])
            position: dict[int, int] = {}
            for index, number in enumerate(numbers):
                position.setdefault(number, index)
            latest = -1  # the latest landing position among messages published so far
            for number in published:
                landed = position.get(number)
                if landed is None:
                    continue
                if landed < latest:
                    total += 1
                latest = max(latest, landed)
        return total

    def report(self) -> str:
        lines = [
            f"write-path account: {self.scenario} (seed {self.seed})",
            f"  faults: {', '.join(self.faults) or 'none'}",
        ]
        for lane, numbers in self.published.items():
            lines.append(f"  {lane}: published {len(numbers)}, held {len(self.held.get(lane, []))}")
        lines.append(
            f"  lost {self.lost()}, duplicated {self.duplicated()} (producer retries), "
            f"reordered {self.reordered()} (overtaken by {self.overtaking()}), "
            f"refused for good {self.rejected}, dead-lettered 0"
        )
        if self.notes:
            lines.append("  " + ", ".join(f"{name} {value}" for name, value in self.notes.items()))
        return "\n".join(lines)
