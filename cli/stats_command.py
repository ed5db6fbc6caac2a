"""`nautilus stats`: how every stream and consumer group of the bus is doing, right now.

Everything comes from the server's own bookkeeping (XINFO), so the numbers cover every process of
every engine, and taking them changes nothing. The write rate is the growth of XINFO STREAM's
entries-added counter over `--interval`, which trimming does not disturb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nautilus.cli.arguments import non_negative_float
from nautilus.cli.command_errors import EXIT_OK, run_command
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.cli.stream_names import contract_streams, lane_label, resolve_stream
from nautilus.cli.tables import Cell, format_duration_ms, render_table
from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.dead_letter import read_dead_letters
from nautilus.runtime.lanes import bulk_lane, dead_letter_stream, priority_lane
from nautilus.runtime.stream_info import LaneInfo, lane_info

__all__ = ["StreamStats", "collect_stats", "register"]

_DESCRIPTION = f"""\
Per stream of the contract (or the STREAMs given): length, entries per second and groups of
each lane, and the length of its dead-letter stream. Per consumer group of each lane: pending
(delivered, not acknowledged), lag (not yet delivered), last delivered id, entries read, and the
dead letters it moved. Per consumer: pending and idle time. Streams without any key on the
server are summarised in one line.

{SERVER_SELECTION_HELP}
Exit status: 0 done, 1 server unreachable, 2 bad arguments."""


@dataclass
class StreamStats:
    """One route stream: its two lanes, its dead-letter stream, and rates."""

    stream: str
    lanes: list[LaneInfo]
    dead_letters: LaneInfo
    #: Entries appended per second per lane key over the interval (None when not sampled).
    rates: dict[str, float | None] = field(default_factory=dict)
    #: Dead letters per (lane, group), from the dead letters' own dl.lane / dl.group fields.
    dead_by_group: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def exists(self) -> bool:
        return any(info.exists for info in (*self.lanes, self.dead_letters))

    def as_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "dead_letters": self.dead_letters.length,
            "lanes": [self._lane_json(info) for info in self.lanes],
        }

    def _lane_json(self, info: LaneInfo) -> dict[str, Any]:
        return {
            "lane": lane_label(info.key),
            "key": info.key,
            "exists": info.exists,
            "length": info.length,
            "entries_added": info.entries_added,
            "entries_per_second": self.rates.get(info.key),
            "last_id": info.last_id,
            "groups": [
                {
                    "name": group.name,
                    "pending": group.pending,
                    "lag": group.lag,
                    "last_delivered_id": group.last_delivered_id,
                    "entries_read": group.entries_read,
                    "dead_letters": self.dead_by_group[(info.key, group.name)],
                    "consumers": [
                        {"name": c.name, "pending": c.pending, "idle_ms": c.idle_ms}
                        for c in group.consumers
                    ],
                }
                for group in info.groups
            ],
        }


async def _snapshot(admin: RedisAdmin, stream: str) -> StreamStats:
    lanes = [await lane_info(admin, key) for key in (bulk_lane(stream), priority_lane(stream))]
    dead = await lane_info(admin, dead_letter_stream(stream), with_consumers=False)
    stats = StreamStats(stream, lanes, dead)
    if dead.length:
        for letter in await read_dead_letters(admin, stream):
            stats.dead_by_group[(letter.lane, letter.group)] += 1
    return stats


async def collect_stats(
    admin: RedisAdmin, streams: list[str], interval_s: float
) -> list[StreamStats]:
    """A snapshot of `streams`; with `interval_s` > 0, rates from a second sample after it."""
    first = [await _snapshot(admin, stream) for stream in streams]
    if interval_s <= 0:
        return first
    await asyncio.sleep(interval_s)
    for stats in first:
        for before in stats.lanes:
            after = await lane_info(admin, before.key, with_consumers=False)
            added = max(after.entries_added - before.entries_added, 0)
            stats.rates[before.key] = added / interval_s
    return first


def _lane_rows(all_stats: list[StreamStats]) -> list[list[Cell]]:
    """Per stream: the bulk and urgent lanes, then its dead-letter stream."""
    rows: list[list[Cell]] = []
    for stats in all_stats:
        for info in stats.lanes:
            rows.append(
                [
                    stats.stream,
                    lane_label(info.key),
                    info.length,
                    stats.rates.get(info.key),
                    len(info.groups),
                ]
            )
        rows.append([stats.stream, "dead-letter", stats.dead_letters.length, None, None])
    return rows


def _group_rows(all_stats: list[StreamStats]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for stats in all_stats:
        for info in stats.lanes:
            for group in info.groups:
                rows.append(
                    [
                        stats.stream,
                        lane_label(info.key),
                        group.name,
                        len(group.consumers),
                        group.pending,
                        group.lag,
                        group.last_delivered_id,
                        group.entries_read,
                        stats.dead_by_group[(info.key, group.name)],
                    ]
                )
    return rows


def _consumer_rows(all_stats: list[StreamStats]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for stats in all_stats:
        for info in stats.lanes:
            for group in info.groups:
                for consumer in group.consumers:
                    rows.append(
                        [
                            stats.stream,
                            lane_label(info.key),
                            group.name,
                            consumer.name,
                            consumer.pending,
                            format_duration_ms(consumer.idle_ms),
                        ]
                    )
    return rows


def render_stats(all_stats: list[StreamStats]) -> str:
    """The three tables (lanes, groups, consumers) and a line naming the empty streams."""
    active = [s for s in all_stats if s.exists]
    idle = [s.stream for s in all_stats if not s.exists]
    parts = [render_table(["stream", "lane", "length", "entries/s", "groups"], _lane_rows(active))]
    groups = _group_rows(active)
    if groups:
        headers = [
            "stream", "lane", "group", "consumers", "pending", "lag",
            "last delivered", "entries read", "dead letters",
        ]  # fmt: skip
        parts.append(render_table(headers, groups))
    consumers = _consumer_rows(active)
    if consumers:
        parts.append(
            render_table(["stream", "lane", "group", "consumer", "pending", "idle"], consumers)
        )
    if idle:
        parts.append(f"no entries or groups yet: {', '.join(idle)}")
    return "\n\n".join(parts)


async def _stats(args: argparse.Namespace) -> int:
    streams = (
        [resolve_stream(name, allow_lane=False).stream for name in args.streams]
        if args.streams
        else list(contract_streams())
    )
    async with connect(args.redis_url) as (admin, _url):
        all_stats = await collect_stats(admin, streams, args.interval)
    if args.json:
        print(json.dumps({"streams": [s.as_json() for s in all_stats]}, indent=2))
    else:
        print(render_stats(all_stats))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    return run_command("stats", lambda: _stats(args))


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "stats",
        help="lengths, rates, pending, lag, consumers and dead letters of every stream",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "streams", nargs="*", metavar="STREAM", help="route streams to show (default: all)"
    )
    parser.add_argument(
        "--interval",
        type=non_negative_float,
        default=1.0,
        metavar="SECONDS",
        help="sample twice this far apart for entries per second (default 1; 0: no rates)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document")
    add_server_option(parser)
    parser.set_defaults(handler=_run)
