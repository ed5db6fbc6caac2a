"""`nautilus trim STREAM`: the producers' safe trim, by hand, saying why it stopped where it did.

It runs the runtime's own `safe_trim`, so it can never delete an entry that a consumer group has
not received or has not acknowledged; when groups hold the trim back, it names them.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from nautilus.cli.arguments import non_negative_int
from nautilus.cli.command_errors import EXIT_OK, CommandError, run_command
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.cli.stream_names import lane_label, resolve_stream
from nautilus.runtime.admin import server_errors
from nautilus.runtime.clock import LiveClock
from nautilus.runtime.transport.base import GroupState, parse_entry_id
from nautilus.runtime.transport.redis import RedisTransport
from nautilus.runtime.trim import TrimResult, received_floor, safe_trim

__all__ = ["register"]

_COUNT_PAGE = 10_000

_DESCRIPTION = f"""\
Delete the oldest entries of STREAM's lanes (both, or the one named) beyond --max-len entries
and/or older than --max-age-ms, never below what a consumer group still needs: its oldest pending
entry, or the first entry it has not received. --dry-run reports what would go and deletes
nothing. Dead-letter streams are never trimmed (`nautilus dlq purge`).

{SERVER_SELECTION_HELP}
Exit status: 0 done, 1 server unreachable, 2 bad arguments."""


class _DryRunTransport(RedisTransport):
    """Counts the entries a trim would delete instead of deleting them."""

    async def trim_before(self, key: str, min_id: str) -> int:
        bound = parse_entry_id(min_id)
        counted, start = 0, "-"
        with server_errors("XRANGE"):
            while True:
                page: Any = await self.client.xrange(key, start, "+", count=_COUNT_PAGE)
                ids = [parse_entry_id(entry_id.decode()) for entry_id, _ in page]
                below = [i for i in ids if i < bound]
                counted += len(below)
                if len(below) < len(ids) or len(page) < _COUNT_PAGE:
                    return counted
                start = "(" + page[-1][0].decode()


def _needed_from(group: GroupState) -> tuple[int, int]:
    return received_floor([group]) or (0, 0)


def _explain(result: TrimResult, groups: list[GroupState], dry_run: bool) -> str:
    verb = "would delete" if dry_run else "deleted"
    line = f"{lane_label(result.lane)} lane {result.lane}: {verb} {result.deleted} entries"
    if result.min_id is None:
        return line + " (within its bounds)"
    line += f" below {result.min_id}"
    if not groups:
        return line + "; no consumer group reads it, so it was cut to its bounds"
    if not result.held_by_groups:
        return line
    floor = received_floor(groups)
    holders = []
    for group in groups:
        if _needed_from(group) != floor:
            continue
        if group.first_pending_id is not None:
            state = f"{group.pending} pending from {group.first_pending_id}"
        else:
            state = f"has not received the entries after {group.last_delivered_id}"
        holders.append(f"{group.name} ({state})")
    return line + "; held back by group " + ", ".join(holders)


async def _trim(args: argparse.Namespace) -> int:
    if args.max_len is None and args.max_age_ms is None:
        raise CommandError("give a bound: --max-len N and/or --max-age-ms MS")
    selection = resolve_stream(args.stream)
    async with connect(args.redis_url) as (_redis, url):
        transport_class = _DryRunTransport if args.dry_run else RedisTransport
        transport = transport_class(url)
        try:
            reports = []
            for lane in selection.lanes:
                groups = await transport.group_states(lane)
                result = await safe_trim(
                    transport,
                    lane,
                    max_len=args.max_len,
                    max_age_ms=args.max_age_ms,
                    clock=LiveClock(),
                )
                reports.append((result, groups))
        finally:
            await transport.close()
    if args.json:
        document = {
            "stream": selection.stream,
            "dry_run": args.dry_run,
            "lanes": [_as_json(result, groups) for result, groups in reports],
        }
        print(json.dumps(document, separators=(",", ":")))
    else:
        for result, groups in reports:
            print(_explain(result, groups, args.dry_run))
    return EXIT_OK


def _as_json(result: TrimResult, groups: list[GroupState]) -> dict[str, Any]:
    floor = received_floor(groups)
    holders = [g.name for g in groups if result.held_by_groups and _needed_from(g) == floor]
    return {
        "lane": lane_label(result.lane),
        "lane_key": result.lane,
        "deleted": result.deleted,
        "min_id": result.min_id,
        "held_by_groups": holders,
    }


def _run(args: argparse.Namespace) -> int:
    return run_command("trim", lambda: _trim(args))


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "trim",
        help="safely trim a stream (never what a group still needs)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stream", metavar="STREAM", help="route stream or priority lane key")
    parser.add_argument(
        "--max-len", type=non_negative_int, metavar="N", help="keep at most N entries per lane"
    )
    parser.add_argument(
        "--max-age-ms",
        type=non_negative_int,
        metavar="MS",
        help="delete entries older than MS milliseconds",
    )
    parser.add_argument("--dry-run", action="store_true", help="report only; delete nothing")
    parser.add_argument("--json", action="store_true", help="report as one JSON object")
    add_server_option(parser)
    parser.set_defaults(handler=_run)
