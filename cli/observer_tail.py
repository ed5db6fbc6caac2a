"""`nautilus tail STREAM --observer NAME`: a durable tail that resumes where it left off.

The tail reads through the consumer group of observer NAME, `observer:<NAME>`
(runtime/observer.py), on each lane of the stream, as the group's consumer `tail`. So it sees
every entry of the lanes, never takes one from an engine's group, and the server remembers how far
it got: the next `tail --observer NAME` prints what arrived since, after whatever the last one had
read and not finished printing (its own pending entries, printed again first: at least once).

An entry is acknowledged for the observer once it has been printed (or left out by --type or
--key); entries read but not printed when the tail stops (--count or --max-entries reached, the
reader of the output gone) stay pending to the observer and come first next time. A new observer
starts at the end of the lanes (only new entries), or at --since. The observer's group stays on
the lanes when the tail ends, holding trimming back until `nautilus group destroy` removes it.
"""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from nautilus.cli.command_errors import CommandError
from nautilus.cli.stream_names import StreamSelection
from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.observer import observer_group, observer_name_problem
from nautilus.runtime.transport.base import parse_entry_id

__all__ = ["TAIL_CONSUMER", "observe", "observer_name"]

#: The consumer name the tail reads as, within the observer's group.
TAIL_CONSUMER = "tail"
_READ_COUNT = 100
_FOLLOW_BLOCK_MS = 1000
_MAX_SEQ = 2**64 - 1


class EntryPrinter(Protocol):
    """Prints an entry unless --type/--key leave it out; counts what it printed."""

    printed: int

    async def show(self, lane: str, entry_id: str, fields: Any, **extra: Any) -> None: ...


def observer_name(text: str) -> str:
    """An observer name (argparse type): letters, digits, '.', '_' or '-'."""
    problem = observer_name_problem(text.removeprefix("observer:"))
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text.removeprefix("observer:")


def _just_before(entry_id: str) -> str:
    """The id a group must stand at for `entry_id` to be the first one it is given."""
    ms, seq = parse_entry_id(entry_id if "-" in entry_id else entry_id + "-0")
    if seq:
        return f"{ms}-{seq - 1}"
    return f"{ms - 1}-{_MAX_SEQ}" if ms else "0-0"


async def _join(
    admin: RedisAdmin, selection: StreamSelection, group: str, since: str | None
) -> None:
    """Create the observer's group on every lane where it is missing (at --since, else at the
    end); refuse --since for an observer that exists, whose place the server keeps."""
    existing = [
        lane
        for lane in selection.lanes
        if any(_text(g["name"]) == group for g in await admin.groups(lane))
    ]
    if since is not None and existing:
        raise CommandError(
            f"observer {group!r} exists on {', '.join(existing)} and resumes where it left off; "
            "--since only places a new observer (move it with `nautilus group setid`)"
        )
    start = "$" if since is None else _just_before(since)
    for lane in selection.lanes:
        if lane not in existing:
            await admin.create_group(lane, group, start)


async def observe(
    admin: RedisAdmin,
    selection: StreamSelection,
    printer: EntryPrinter,
    name: str,
    *,
    since: str | None,
    limit: int | None,
    follow: bool,
) -> None:
    """Print what observer `name` has not yet seen on the selected lanes: its own pending entries
    first, then new ones; with `follow`, wait for more until `limit` entries are printed (or
    forever). Acknowledges each entry once handled."""
    group = observer_group(name)
    await _join(admin, selection, group, since)
    reading = _Reader(admin, group, printer, limit)
    await reading.pending(selection.lanes)
    while not reading.done:
        got = await reading.batch(
            dict.fromkeys(selection.lanes, ">"), _FOLLOW_BLOCK_MS if follow else None
        )
        if not got and not follow:
            return


class _Reader:
    def __init__(
        self, admin: RedisAdmin, group: str, printer: EntryPrinter, limit: int | None
    ) -> None:
        self._admin = admin
        self._group = group
        self._printer = printer
        self._limit = limit

    @property
    def done(self) -> bool:
        return self._limit is not None and self._printer.printed >= self._limit

    async def pending(self, lanes: tuple[str, ...]) -> None:
        """The entries this tail was given before and did not finish, oldest first."""
        positions = dict.fromkeys(lanes, "0")
        while positions and not self.done:
            read = await self._admin.read_group(
                self._group, TAIL_CONSUMER, positions, count=_READ_COUNT
            )
            for lane, entries in read:
                if entries:
                    positions[lane] = entries[-1][0]
                else:
                    positions.pop(lane, None)
            await self._handle(read)

    async def batch(self, positions: dict[str, str], block_ms: int | None) -> int:
        """One read of new entries, handled; how many were read."""
        read = await self._admin.read_group(
            self._group, TAIL_CONSUMER, positions, count=_READ_COUNT, block_ms=block_ms
        )
        await self._handle(read)
        return sum(len(entries) for _, entries in read)

    async def _handle(self, read: list[tuple[str, list[tuple[str, dict[bytes, bytes]]]]]) -> None:
        """Print in id order across lanes; acknowledge what was handled, lane by lane."""
        merged = sorted(
            ((lane, entry_id, fields) for lane, entries in read for entry_id, fields in entries),
            key=lambda item: parse_entry_id(item[1]),
        )
        handled: dict[str, list[str]] = {}
        try:
            for lane, entry_id, fields in merged:
                if self.done:
                    break
                await self._printer.show(lane, entry_id, fields)
                handled.setdefault(lane, []).append(entry_id)
        finally:
            for lane, ids in handled.items():
                await self._admin.ack(lane, self._group, ids)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
