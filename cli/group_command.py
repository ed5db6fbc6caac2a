"""`nautilus group list|setid|delconsumer|destroy`: the consumer groups of the bus, by hand.

Engines' groups are part of the contract (one per consuming engine and lane); observers' groups
(`observer:<name>`, runtime/observer.py) come and go with the observers. Both are durable, so a
group nobody reads any more holds trimming back and shows a growing lag: `destroy` removes it.
Commands that would lose entries refuse unless told: removing a consumer that still holds pending
entries (they would never be delivered again) needs --force, and so does destroying the group of
an engine that consumes the stream.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from nautilus.cli.arguments import entry_id_or_time
from nautilus.cli.command_errors import EXIT_OK, CommandError, run_command
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.cli.stream_names import StreamSelection, contract_streams, lane_label, resolve_stream
from nautilus.cli.tables import Cell, format_duration_ms, render_table
from nautilus.contract import bus_message_classes
from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.observer import is_observer_group
from nautilus.runtime.routing import message_spec
from nautilus.runtime.stream_info import GroupInfo, lane_info

__all__ = ["register"]


@dataclass(frozen=True, slots=True)
class _LaneGroup:
    stream: str
    lane: str
    group: GroupInfo


def _consuming_engines(stream: str) -> set[str]:
    """The engines whose groups the contract puts on `stream`."""
    engines: set[str] = set()
    for cls in bus_message_classes().values():
        route = message_spec(cls).route
        if route.stream == stream:
            engines.update(route.consumers)
    return engines


def _kind(stream: str, group: str) -> str:
    if is_observer_group(group):
        return "observer"
    return "engine" if group in _consuming_engines(stream) else "other"


def _idle_ms(group: GroupInfo) -> int | None:
    """How long since any consumer of the group last read: its least idle consumer."""
    return min((c.idle_ms for c in group.consumers), default=None)


async def _lane_groups(admin: RedisAdmin, selection: StreamSelection) -> list[_LaneGroup]:
    found = []
    for lane in selection.lanes:
        for group in (await lane_info(admin, lane)).groups:
            found.append(_LaneGroup(selection.stream, lane, group))
    return found


def _group_json(item: _LaneGroup) -> dict[str, Any]:
    group = item.group
    return {
        "stream": item.stream,
        "lane": lane_label(item.lane),
        "lane_key": item.lane,
        "group": group.name,
        "kind": _kind(item.stream, group.name),
        "consumers": [
            {"name": c.name, "pending": c.pending, "idle_ms": c.idle_ms} for c in group.consumers
        ],
        "pending": group.pending,
        "lag": group.lag,
        "last_delivered_id": group.last_delivered_id,
        "idle_ms": _idle_ms(group),
    }


async def _list(args: argparse.Namespace) -> int:
    names = args.streams or list(contract_streams())
    selections = [resolve_stream(name) for name in names]
    async with connect(args.redis_url) as (admin, _url):
        items = [item for s in selections for item in await _lane_groups(admin, s)]
    if args.json:
        print(json.dumps({"groups": [_group_json(item) for item in items]}, indent=2))
        return EXIT_OK
    rows: list[list[Cell]] = []
    for item in items:
        idle = _idle_ms(item.group)
        rows.append(
            [
                item.stream,
                lane_label(item.lane),
                item.group.name,
                _kind(item.stream, item.group.name),
                len(item.group.consumers),
                item.group.pending,
                item.group.lag,
                item.group.last_delivered_id,
                None if idle is None else format_duration_ms(idle),
            ]
        )
    headers = [
        "stream", "lane", "group", "kind", "consumers", "pending", "lag", "last delivered", "idle",
    ]  # fmt: skip
    print(render_table(headers, rows) if rows else "no consumer groups")
    return EXIT_OK


async def _existing(admin: RedisAdmin, selection: StreamSelection, group: str) -> list[_LaneGroup]:
    """The lanes of `selection` where `group` exists; CommandError naming the groups otherwise."""
    items = await _lane_groups(admin, selection)
    chosen = [item for item in items if item.group.name == group]
    if not chosen:
        known = sorted({item.group.name for item in items})
        raise CommandError(
            f"no group {group!r} on {selection.stream} "
            f"(its groups: {', '.join(known) if known else 'none'})"
        )
    return chosen


def _report(args: argparse.Namespace, document: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        print(json.dumps(document, separators=(",", ":")))
    else:
        print("\n".join(lines))


async def _setid(args: argparse.Namespace) -> int:
    selection = resolve_stream(args.stream)
    if not args.yes:
        raise CommandError(
            f"this moves group {args.group!r} on {selection.stream} to {args.position}: entries "
            "after it are delivered to the group (again), entries before it never; add --yes"
        )
    async with connect(args.redis_url) as (admin, _url):
        chosen = await _existing(admin, selection, args.group)
        for item in chosen:
            await admin.command(
                "XGROUP SETID", "XGROUP", "SETID", item.lane, args.group, args.position
            )
    lanes = [item.lane for item in chosen]
    _report(
        args,
        {"stream": selection.stream, "group": args.group, "id": args.position, "lanes": lanes},
        [
            f"{lane_label(lane)} lane {lane}: group {args.group} now at {args.position}"
            for lane in lanes
        ],
    )
    return EXIT_OK


async def _delconsumer(args: argparse.Namespace) -> int:
    selection = resolve_stream(args.stream)
    async with connect(args.redis_url) as (admin, _url):
        chosen = await _existing(admin, selection, args.group)
        holding = [
            (item.lane, c)
            for item in chosen
            for c in item.group.consumers
            if c.name == args.consumer
        ]
        if not holding:
            raise CommandError(
                f"no consumer {args.consumer!r} in group {args.group!r} on {selection.stream}"
            )
        pending = sum(c.pending for _, c in holding)
        if pending and not args.force:
            raise CommandError(
                f"consumer {args.consumer!r} still holds {pending} pending entries, which would "
                "never be delivered to the group again; let a live consumer reclaim them first, "
                "or add --force"
            )
        dropped = {
            lane: int(
                await admin.command(
                    "XGROUP DELCONSUMER", "XGROUP", "DELCONSUMER", lane, args.group, args.consumer
                )
            )
            for lane, _ in holding
        }
    _report(
        args,
        {
            "stream": selection.stream,
            "group": args.group,
            "consumer": args.consumer,
            "lanes": [{"lane": lane, "dropped_pending": n} for lane, n in dropped.items()],
        },
        [
            f"{lane_label(lane)} lane {lane}: consumer {args.consumer} removed from {args.group}"
            + (f" ({n} pending entries dropped)" if n else "")
            for lane, n in dropped.items()
        ],
    )
    return EXIT_OK


async def _destroy(args: argparse.Namespace) -> int:
    selection = resolve_stream(args.stream)
    kind = _kind(selection.stream, args.group)
    if kind == "engine" and not args.force:
        raise CommandError(
            f"{args.group!r} is the group of an engine that consumes {selection.stream}: "
            "destroying it loses its place and its pending entries; add --force to do it anyway"
        )
    if not args.yes:
        raise CommandError(f"this destroys group {args.group!r} on {selection.stream}; add --yes")
    async with connect(args.redis_url) as (admin, _url):
        chosen = await _existing(admin, selection, args.group)
        for item in chosen:
            await admin.command("XGROUP DESTROY", "XGROUP", "DESTROY", item.lane, args.group)
    lanes = [item.lane for item in chosen]
    _report(
        args,
        {"stream": selection.stream, "group": args.group, "kind": kind, "destroyed": lanes},
        [f"{lane_label(lane)} lane {lane}: group {args.group} destroyed" for lane in lanes],
    )
    return EXIT_OK


def _stream_and_group(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stream", metavar="STREAM", help="route stream or priority lane key")
    parser.add_argument("group", metavar="GROUP", help="consumer group, e.g. observer:desk")


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="report as JSON")


def register(commands: Any) -> None:
    group: argparse.ArgumentParser = commands.add_parser(
        "group",
        help="list, move and remove consumer groups (observers that are gone)",
        description=(
            "The consumer groups of the bus's lanes: engines' (from the contract) and observers' "
            "(observer:<name>). Exit status: 0 done, 1 server unreachable, 2 bad arguments. "
            + SERVER_SELECTION_HELP
        ),
    )
    actions = group.add_subparsers(dest="group_command", required=True, metavar="ACTION")

    listing = actions.add_parser(
        "list", help="groups per lane: kind, consumers, pending, lag, idle"
    )
    listing.add_argument("streams", nargs="*", metavar="STREAM", help="default: every stream")
    _json_option(listing)
    add_server_option(listing)
    listing.set_defaults(handler=lambda a: run_command("group list", lambda: _list(a)))

    setid = actions.add_parser(
        "setid", help="move a group to an entry id or time (XGROUP SETID; needs --yes)"
    )
    _stream_and_group(setid)
    setid.add_argument(
        "position",
        metavar="ID|TIME|$",
        type=lambda text: text if text == "$" else entry_id_or_time(text),
        help="entry id, ISO 8601 time, or $ (the end: only new entries)",
    )
    setid.add_argument("--yes", action="store_true", help="really move it")
    _json_option(setid)
    add_server_option(setid)
    setid.set_defaults(handler=lambda a: run_command("group setid", lambda: _setid(a)))

    delconsumer = actions.add_parser(
        "delconsumer", help="remove a departed consumer (refused while it holds pending entries)"
    )
    _stream_and_group(delconsumer)
    delconsumer.add_argument("consumer", metavar="CONSUMER", help="consumer name (`group list`)")
    delconsumer.add_argument(
        "--force", action="store_true", help="even with pending entries (they are dropped)"
    )
    _json_option(delconsumer)
    add_server_option(delconsumer)
    delconsumer.set_defaults(
        handler=lambda a: run_command("group delconsumer", lambda: _delconsumer(a))
    )

    destroy = actions.add_parser(
        "destroy", help="remove a group from the stream's lanes (needs --yes)"
    )
    _stream_and_group(destroy)
    destroy.add_argument("--yes", action="store_true", help="really destroy it")
    destroy.add_argument("--force", action="store_true", help="even an engine's group")
    _json_option(destroy)
    add_server_option(destroy)
    destroy.set_defaults(handler=lambda a: run_command("group destroy", lambda: _destroy(a)))
