"""`nautilus tail STREAM`: the entries of a stream, decoded and typed, like kcat for the bus.

Reading never changes the stream or an engine's group: plain XRANGE/XREAD and XPENDING, so a
tail can run beside the engines without taking or acknowledging anything. The durable tail
(`--observer NAME`, cli/observer_tail.py) reads through an observer's own consumer group instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import string
import sys
import threading
from typing import Any

from nautilus.cli.arguments import (
    entry_id_or_time,
    message_type,
    non_negative_int,
    positive_int,
)
from nautilus.cli.command_errors import EXIT_OK, CommandError, run_command
from nautilus.cli.entry_view import EntryDecoder, EntryView, format_entry
from nautilus.cli.observer_tail import observe, observer_name
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.cli.stream_names import StreamSelection, resolve_stream
from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.schema.registry import SchemaRegistry
from nautilus.runtime.transport.base import parse_entry_id

__all__ = ["register"]

_FOLLOW_BLOCK_MS = 1000
_DEFAULT_COUNT = 20

_DESCRIPTION = f"""\
Print the entries of STREAM, decoded with the contract's classes or, for entries written with
another schema version, with the writer's schema from the schema registry.

STREAM is a route stream of the contract (e.g. nautilus-vpin-streams: both lanes, merged in id
order) or one priority lane ({{nautilus-vpin-streams}}:urgent, or nautilus-vpin-streams:urgent
for short).

Without --group: the last --count entries. With --group G: what group G still has to process,
oldest first, up to --count entries: the entries delivered to G and not yet acknowledged
(state=pending, with their consumer and delivery count) followed by the entries not yet delivered
to G at all (state=undelivered; their number is G's lag). --follow then waits for new entries
and prints them as they arrive, until Ctrl-C.

With --observer NAME: a durable tail. It reads through the observer's own consumer group
(observer:NAME) on each lane, so it never takes an entry from an engine, and it resumes where it
left off: it prints what arrived since the last `tail --observer NAME` (up to --count entries;
entries it read and did not print last time come first), then, with --follow, new entries as
they arrive. A new observer starts at the end of the lanes, or at --since. The group stays until
`nautilus group destroy STREAM observer:NAME`.

Each entry prints its id, lane, type, producer, publish time (ISO 8601 and ns), priority, key and
the message as proto3 JSON; --json prints one JSON object per line instead.

{SERVER_SELECTION_HELP}
Exit status: 0 done, 1 server unreachable, 2 bad arguments (unknown stream or group, bad URL)."""


def _by_id(item: tuple[str, str, Any]) -> tuple[int, int]:
    return parse_entry_id(item[1])


async def _latest(
    admin: RedisAdmin, selection: StreamSelection, count: int
) -> list[tuple[str, str, Any]]:
    """The last `count` entries over the selected lanes, oldest first, as (lane, id, fields)."""
    merged: list[tuple[str, str, Any]] = []
    if count <= 0:
        return merged
    for lane in selection.lanes:
        for entry_id, fields in await admin.latest_entries(lane, count):
            merged.append((lane, entry_id, fields))
    merged.sort(key=_by_id)
    return merged[-count:]


async def _group_backlog(
    admin: RedisAdmin, selection: StreamSelection, group: str, count: int
) -> list[tuple[str, str, Any, dict[str, Any]]]:
    """What `group` still has to process on the selected lanes: pending, then undelivered."""
    backlog: list[tuple[str, str, Any, dict[str, Any]]] = []
    found = False
    for lane in selection.lanes:
        groups = await admin.groups(lane)  # empty when the lane does not exist yet
        state = next((g for g in groups if _text(g["name"]) == group), None)
        if state is None:
            continue
        found = True
        for item in await admin.pending_entries(lane, group, count):
            entries = await admin.entries(lane, item.entry_id, item.entry_id)
            fields = entries[0][1] if entries else {}
            extra = {
                "state": "pending" if entries else "pending-trimmed",
                "consumer": item.consumer,
                "deliveries": item.deliveries,
            }
            backlog.append((lane, item.entry_id, fields, extra))
        after = "(" + _text(state["last-delivered-id"])
        for entry_id, fields in await admin.entries(lane, after, "+", count):
            backlog.append((lane, entry_id, fields, {"state": "undelivered"}))
    if not found:
        raise CommandError(
            f"group {group!r} does not exist on {selection.stream} "
            f"(lanes {', '.join(selection.lanes)}); `nautilus stats` lists the groups"
        )
    backlog.sort(key=lambda item: (item[3]["state"] == "undelivered", parse_entry_id(item[1])))
    return backlog[:count]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


#: The fields a --format template may name (each entry's --json object, message as JSON text).
FORMAT_FIELDS = (
    "id", "lane", "lane_key", "type", "fingerprint", "producer", "published_at",
    "published_at_ns", "priority", "key", "trace_context", "schema", "message", "error",
    "state", "consumer", "deliveries",
)  # fmt: skip


class _FormatValues(dict[str, Any]):
    """An entry's fields for a --format template; fields an entry lacks print as "-"."""

    def __missing__(self, name: str) -> str:
        return "-"


def format_template(text: str) -> str:
    """A --format template: Python format fields among FORMAT_FIELDS, e.g. '{id} {type}'."""
    try:
        for _, name, _, _ in string.Formatter().parse(text):
            if name is not None and name not in FORMAT_FIELDS:
                raise argparse.ArgumentTypeError(
                    f"unknown field {{{name}}}; fields: {', '.join(FORMAT_FIELDS)}"
                )
        text.format_map(_FormatValues())
    except (ValueError, IndexError) as exc:
        raise argparse.ArgumentTypeError(f"bad template {text!r}: {exc}") from None
    return text


class _Printer:
    def __init__(self, decoder: EntryDecoder, args: argparse.Namespace) -> None:
        self._decoder = decoder
        self._as_json = args.json
        self._template: str | None = args.format
        self._type: str | None = args.type
        self._key: str | None = args.key
        self.printed = 0

    async def view(self, lane: str, entry_id: str, fields: Any, **extra: Any) -> EntryView | None:
        """The entry's view, or None when --type or --key leave it out."""
        view: EntryView = await self._decoder.view(lane, entry_id, fields, **extra)
        if self._type is not None and (view.wire is None or view.wire.message_type != self._type):
            return None
        if self._key is not None and (view.wire is None or view.wire.key != self._key):
            return None
        return view

    async def show(self, lane: str, entry_id: str, fields: Any, **extra: Any) -> None:
        view = await self.view(lane, entry_id, fields, **extra)
        if view is not None:
            self.print(view)

    def print(self, view: EntryView) -> None:
        if self._template is not None:
            document = view.as_json()
            document["message"] = json.dumps(document.get("message"), separators=(",", ":"))
            print(self._template.format_map(_FormatValues(document)))
        elif self._as_json:
            print(json.dumps(view.as_json(), separators=(",", ":")))
        else:
            print(format_entry(view))
        sys.stdout.flush()
        self.printed += 1


_PAGE = 500


async def _latest_matching(
    admin: RedisAdmin, selection: StreamSelection, printer: _Printer, count: int
) -> list[EntryView]:
    """The last `count` entries that pass --type/--key over the lanes, oldest first."""
    found: list[EntryView] = []
    for lane in selection.lanes:
        end, taken = "+", 0
        while taken < count:
            page = await admin.latest_entries(lane, _PAGE, end)
            for entry_id, fields in page:
                view = await printer.view(lane, entry_id, fields)
                if view is not None and taken < count:
                    found.append(view)
                    taken += 1
            if len(page) < _PAGE:
                break
            end = "(" + page[-1][0]
    found.sort(key=lambda view: parse_entry_id(view.entry_id))
    return found[-count:] if count else []


async def _since(
    admin: RedisAdmin, selection: StreamSelection, printer: _Printer, start: str, count: int | None
) -> list[EntryView]:
    """Entries from id `start` on that pass --type/--key, oldest first, at most `count`."""
    found: list[EntryView] = []
    for lane in selection.lanes:
        begin, taken = start, 0
        while count is None or taken < count:
            page = await admin.entries(lane, begin, "+", _PAGE)
            for entry_id, fields in page:
                view = await printer.view(lane, entry_id, fields)
                if view is not None and (count is None or taken < count):
                    found.append(view)
                    taken += 1
            if len(page) < _PAGE:
                break
            begin = "(" + page[-1][0]
    found.sort(key=lambda view: parse_entry_id(view.entry_id))
    return found if count is None else found[:count]


async def _follow(
    admin: RedisAdmin, selection: StreamSelection, printer: _Printer, max_entries: int | None
) -> None:
    """Print new entries until Ctrl-C (or `max_entries`).

    Ctrl-C sets a flag that the loop checks after each read (reads block at most
    `_FOLLOW_BLOCK_MS`), rather than cancelling the read: a cancellation that lands just as a
    blocking read returns can be lost inside the client library, and the tail would then follow
    on after the user's Ctrl-C.
    """
    interrupted = asyncio.Event()
    if threading.current_thread() is not threading.main_thread():
        # Signals reach the main thread only (a tail run from a thread of another program).
        await _follow_until(admin, selection, printer, max_entries, interrupted)
        return
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    try:
        await _follow_until(admin, selection, printer, max_entries, interrupted)
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def _follow_until(
    admin: RedisAdmin,
    selection: StreamSelection,
    printer: _Printer,
    max_entries: int | None,
    interrupted: asyncio.Event,
) -> None:
    last_ids: dict[str, str] = {}
    for lane in selection.lanes:
        newest = await admin.latest_entries(lane, 1)
        last_ids[lane] = newest[0][0] if newest else "0-0"
    while not interrupted.is_set() and (max_entries is None or printer.printed < max_entries):
        replies = await admin.read_after(last_ids, count=100, block_ms=_FOLLOW_BLOCK_MS)
        arrived: list[tuple[str, str, Any]] = []
        for lane, entries in replies:
            for entry_id, fields in entries:
                arrived.append((lane, entry_id, fields))
                last_ids[lane] = entry_id
        for lane, entry_id, fields in sorted(arrived, key=_by_id):
            if max_entries is not None and printer.printed >= max_entries:
                return
            await printer.show(lane, entry_id, fields)


async def _tail(args: argparse.Namespace) -> int:
    selection = resolve_stream(args.stream)
    async with connect(args.redis_url) as (admin, _url):
        printer = _Printer(EntryDecoder(SchemaRegistry(admin.redis)), args)
        count = _DEFAULT_COUNT if args.count is None and args.since is None else args.count
        if args.observer is not None:
            limits = [n for n in (args.count, args.max_entries) if n is not None]
            await observe(
                admin,
                selection,
                printer,
                args.observer,
                since=args.since,
                limit=min(limits) if limits else None,
                follow=args.follow,
            )
            if not printer.printed:
                lanes = ", ".join(selection.lanes)
                print(
                    f"nautilus tail: observer {args.observer} has nothing new on {lanes}",
                    file=sys.stderr,
                )
            return EXIT_OK
        if args.group is not None:
            for lane, entry_id, fields, extra in await _group_backlog(
                admin, selection, args.group, count if count is not None else _DEFAULT_COUNT
            ):
                await printer.show(lane, entry_id, fields, **extra)
        elif args.since is not None:
            for view in await _since(admin, selection, printer, args.since, count):
                printer.print(view)
        elif args.type is not None or args.key is not None:
            for view in await _latest_matching(admin, selection, printer, count or 0):
                printer.print(view)
        else:
            for lane, entry_id, fields in await _latest(admin, selection, count or 0):
                await printer.show(lane, entry_id, fields)
        if not printer.printed and not args.follow:
            print(f"nautilus tail: {_nothing(selection, args.group)}", file=sys.stderr)
        if args.follow:
            await _follow(admin, selection, printer, args.max_entries)
    return EXIT_OK


def _nothing(selection: StreamSelection, group: str | None) -> str:
    """What an empty listing means, said on stderr so that stdout stays the entries only."""
    lanes = ", ".join(selection.lanes)
    if group is not None:
        return f"group {group} has nothing left to process on {lanes}"
    return f"no entries on {lanes}"


def _run(args: argparse.Namespace) -> int:
    return run_command("tail", lambda: _tail(args))


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "tail",
        help="print a stream's entries, decoded (like kcat)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stream", metavar="STREAM", help="route stream or priority lane key")
    reader = parser.add_mutually_exclusive_group()
    reader.add_argument(
        "--group",
        metavar="G",
        help="show only what consumer group G has still to process: pending, then undelivered",
    )
    reader.add_argument(
        "--observer",
        type=observer_name,
        metavar="NAME",
        help="durable tail through the observer group observer:NAME: resumes where it left off",
    )
    parser.add_argument(
        "--count",
        type=non_negative_int,
        metavar="N",
        help=f"entries to print before following (default {_DEFAULT_COUNT}; with --since: all)",
    )
    parser.add_argument(
        "--since",
        type=entry_id_or_time,
        metavar="ID|TIME",
        help="start at this entry id or ISO 8601 time (UTC unless it says), oldest first",
    )
    parser.add_argument(
        "--type",
        type=message_type,
        metavar="T",
        help="only messages of type T (full or short name)",
    )
    parser.add_argument("--key", metavar="K", help="only messages published with key K")
    parser.add_argument(
        "--format",
        type=format_template,
        metavar="TEMPLATE",
        help="print each entry as TEMPLATE, e.g. '{id} {type} {key} {message}' "
        f"(fields: {', '.join(FORMAT_FIELDS)})",
    )
    parser.add_argument(
        "--follow", "-f", action="store_true", help="then wait for new entries until Ctrl-C"
    )
    parser.add_argument(
        "--max-entries",
        type=positive_int,
        metavar="N",
        help="with --follow: stop after N entries in all (scripts and tests)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_server_option(parser)
    parser.set_defaults(handler=_run)
