"""`nautilus dlq list|show|replay|purge STREAM`: inspect and repair a stream's dead letters.

The logic lives in the runtime (`nautilus.runtime.dead_letter`); this is the operator's face of
it. Replay gives each dead letter back to the group that gave up on it, and to no other
(runtime/retry_lane.py); it is safe to interrupt and to run again.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from nautilus.cli.arguments import entry_id, positive_int
from nautilus.cli.command_errors import EXIT_OK, CommandError, run_command
from nautilus.cli.entry_view import EntryDecoder, iso_ns
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.cli.stream_names import lane_label, resolve_stream
from nautilus.cli.tables import render_table
from nautilus.runtime.dead_letter import (
    DeadLetter,
    purge_dead_letters,
    read_dead_letters,
    select_dead_letters,
)
from nautilus.runtime.errors import DeadLetterReason
from nautilus.runtime.lanes import dead_letter_stream
from nautilus.runtime.retry_lane import replay_to_groups
from nautilus.runtime.schema.registry import SchemaRegistry
from nautilus.runtime.wire import FIELD_TYPE

__all__ = ["register"]

_DETAIL_WIDTH = 60
_REASONS = sorted(reason.value for reason in DeadLetterReason)


def _original_type(letter: DeadLetter) -> str:
    return letter.original_fields.get(FIELD_TYPE, b"?").decode(errors="replace")


def _summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.dead_letter_id,
        "type": _original_type(letter),
        "reason": letter.reason.value,
        "detail": letter.detail,
        "group": letter.group,
        "consumer": letter.consumer,
        "deliveries": letter.deliveries,
        "original_id": letter.original_id,
        "lane": lane_label(letter.lane),
        "lane_key": letter.lane,
        "dead_lettered_at": iso_ns(letter.dead_lettered_at_ns),
        "dead_lettered_at_ns": letter.dead_lettered_at_ns,
    }


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_WIDTH else text[: _DETAIL_WIDTH - 1] + "…"


def _reasons(args: argparse.Namespace) -> set[DeadLetterReason] | None:
    return {DeadLetterReason(r) for r in args.reason} if args.reason else None


def _require_selection(args: argparse.Namespace) -> None:
    """Refuse, before any I/O, a replay or purge that does not say which dead letters."""
    if not args.id and not args.all:
        raise CommandError("say which dead letters: --id ID (repeatable) or --all")


def _chosen(letters: list[DeadLetter], args: argparse.Namespace, stream: str) -> list[DeadLetter]:
    """The dead letters --id/--all and --reason pick; CommandError for ids that do not exist."""
    _require_selection(args)
    ids = set(args.id) if args.id else None
    if ids is not None:
        missing = ids - {letter.dead_letter_id for letter in letters}
        if missing:
            raise CommandError(
                f"no dead letter {', '.join(sorted(missing))} in {dead_letter_stream(stream)}; "
                "`nautilus dlq list` shows the ids"
            )
    return select_dead_letters(letters, ids=ids, reasons=_reasons(args))


async def _list(args: argparse.Namespace) -> int:
    stream = resolve_stream(args.stream, allow_dead_letter=True).stream
    async with connect(args.redis_url) as (admin, _url):
        letters = await read_dead_letters(admin, stream, count=args.count)
    letters = select_dead_letters(letters, reasons=_reasons(args))
    if args.json:
        for letter in letters:
            print(json.dumps(_summary(letter), separators=(",", ":")))
        return EXIT_OK
    rows = [
        [
            s["id"], s["type"], s["reason"], s["group"], s["deliveries"], s["lane"],
            s["dead_lettered_at"], _short(s["detail"]),
        ]
        for s in map(_summary, letters)
    ]  # fmt: skip
    headers = ["id", "type", "reason", "group", "deliveries", "lane", "dead-lettered", "detail"]
    if rows:
        print(render_table(headers, rows) + "\n")
    print(f"{len(letters)} dead letters in {dead_letter_stream(stream)}")
    return EXIT_OK


async def _show(args: argparse.Namespace) -> int:
    stream = resolve_stream(args.stream, allow_dead_letter=True).stream
    async with connect(args.redis_url) as (admin, _url):
        letters = await read_dead_letters(admin, stream, start=args.id, end=args.id)
        if not letters:
            raise CommandError(f"no dead letter {args.id} in {dead_letter_stream(stream)}")
        letter = letters[0]
        view = await EntryDecoder(SchemaRegistry(admin.redis)).view(
            letter.lane, letter.original_id, letter.original_fields
        )
    document = _summary(letter)
    document["entry"] = view.as_json()
    document["fields"] = {
        name.decode(errors="replace"): value.decode(errors="replace") if name != b"p" else None
        for name, value in letter.original_fields.items()
    }
    document["payload_hex"] = letter.original_fields.get(b"p", b"").hex()
    print(json.dumps(document, indent=None if args.json else 2))
    return EXIT_OK


async def _replay(args: argparse.Namespace) -> int:
    stream = resolve_stream(args.stream, allow_dead_letter=True).stream
    _require_selection(args)
    async with connect(args.redis_url) as (admin, _url):
        chosen = _chosen(await read_dead_letters(admin, stream), args, stream)
        try:
            results = await replay_to_groups(admin, stream, chosen)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    replayed = sum(result.outcome == "replayed" for result in results)
    if args.json:
        document = {
            "stream": stream,
            "replayed": replayed,
            "results": [
                {
                    "id": r.dead_letter_id,
                    "group": r.group,
                    "retry_lane": r.retry_lane,
                    "outcome": r.outcome,
                    "new_id": r.new_id,
                }
                for r in results
            ],
        }
        print(json.dumps(document, separators=(",", ":")))
        return EXIT_OK
    for r in results:
        if r.outcome == "replayed":
            print(f"{r.dead_letter_id} -> group {r.group}: {r.retry_lane} {r.new_id}")
        elif r.outcome == "duplicate":
            print(f"{r.dead_letter_id}: already replayed for {r.group} as {r.new_id}; removed")
        else:
            print(f"{r.dead_letter_id}: already gone (replayed or purged meanwhile)")
    print(f"replayed {replayed} dead letters of {stream}, each to the group that gave up on it")
    return EXIT_OK


async def _purge(args: argparse.Namespace) -> int:
    stream = resolve_stream(args.stream, allow_dead_letter=True).stream
    _require_selection(args)
    async with connect(args.redis_url) as (admin, _url):
        chosen = _chosen(await read_dead_letters(admin, stream), args, stream)
        if not args.yes:
            raise CommandError(
                f"this deletes {len(chosen)} dead letters of {stream} for good; add --yes"
            )
        deleted = await purge_dead_letters(admin, stream, [c.dead_letter_id for c in chosen])
    if args.json:
        document = {
            "stream": stream,
            "deleted": deleted,
            "ids": [c.dead_letter_id for c in chosen],
        }
        print(json.dumps(document, separators=(",", ":")))
    else:
        print(f"deleted {deleted} dead letters of {stream}")
    return EXIT_OK


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stream", metavar="STREAM", help="route stream, e.g. nautilus-vpin-streams")
    add_server_option(parser)


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--id", action="append", type=entry_id, metavar="ID", help="a dead letter's id (repeatable)"
    )
    parser.add_argument("--all", action="store_true", help="every dead letter (see --reason)")
    parser.add_argument(
        "--reason", action="append", choices=_REASONS, help="only these reasons (repeatable)"
    )


def register(commands: Any) -> None:
    dlq: argparse.ArgumentParser = commands.add_parser(
        "dlq",
        help="inspect, replay and purge dead letters",
        description=(
            "Dead letters of STREAM (the key {<STREAM>}:dead-letter): entries a consumer could not "
            "deliver, with the reason. Exit status: 0 done, 1 server unreachable, 2 bad "
            f"arguments. {SERVER_SELECTION_HELP}"
        ),
    )
    actions = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="id, type, reason, group, deliveries, time, detail")
    _add_common(listing)
    listing.add_argument("--reason", action="append", choices=_REASONS, help="only these reasons")
    listing.add_argument("--count", type=positive_int, metavar="N", help="at most N (oldest first)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=lambda a: run_command("dlq list", lambda: _list(a)))

    show = actions.add_parser("show", help="one dead letter: reason, fields, decoded message")
    _add_common(show)
    show.add_argument(
        "id", type=entry_id, metavar="ID", help="the dead letter's id (from `dlq list`)"
    )
    show.add_argument("--json", action="store_true", help="compact JSON on one line")
    show.set_defaults(handler=lambda a: run_command("dlq show", lambda: _show(a)))

    replay = actions.add_parser(
        "replay",
        help="give dead letters back to the groups that gave up on them (after a fix)",
        description=(
            "Put each chosen dead letter's original fields, unchanged, on the retry lane of the "
            "consumer group that gave up on it ({<STREAM>}:retry:<group>), which only that group "
            "reads, before its bulk lane; other groups never see it again. Each letter moves "
            "atomically (a crash never loses one), and an entry already replayed for its group "
            "is not replayed twice: a second dead letter of it is just removed."
        ),
    )
    _add_common(replay)
    _add_selection(replay)
    replay.add_argument("--json", action="store_true", help="report as one JSON object")
    replay.set_defaults(handler=lambda a: run_command("dlq replay", lambda: _replay(a)))

    purge = actions.add_parser("purge", help="delete dead letters for good (needs --yes)")
    _add_common(purge)
    _add_selection(purge)
    purge.add_argument("--yes", action="store_true", help="really delete them")
    purge.add_argument("--json", action="store_true", help="report as one JSON object")
    purge.set_defaults(handler=lambda a: run_command("dlq purge", lambda: _purge(a)))
