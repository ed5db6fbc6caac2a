"""STREAM arguments: a route stream of the contract, or one lane of it, checked before any I/O.

An operator names a stream as the routes do (`nautilus-vpin-streams`); that covers both lanes.
Naming a lane key (`{nautilus-vpin-streams}:urgent`, or `nautilus-vpin-streams:urgent` for short)
narrows a command to that lane; the dead-letter commands also take the dead-letter key
(`{nautilus-vpin-streams}:dead-letter`, or `nautilus-vpin-streams:dead-letter`). A name the
contract does not know is refused with the list of streams it does know, so a typo never reads
(or trims) an unrelated key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from nautilus.cli.command_errors import CommandError
from nautilus.contract import bus_message_classes
from nautilus.runtime.lanes import (
    DEAD_LETTER_SUFFIX,
    PRIORITY_LANE_SUFFIX,
    bulk_lane,
    priority_lane,
    stream_of_key,
)
from nautilus.runtime.routing import message_spec

__all__ = ["StreamSelection", "contract_streams", "lane_label", "resolve_stream"]


@dataclass(frozen=True, slots=True)
class StreamSelection:
    """A route stream and the lanes of it a command works on (bulk first)."""

    stream: str
    lanes: tuple[str, ...]


@cache
def contract_streams() -> tuple[str, ...]:
    """Every route stream of the generated contract, sorted."""
    return tuple(sorted({message_spec(cls).route.stream for cls in bus_message_classes().values()}))


def lane_label(lane: str) -> str:
    """ "urgent" for a priority lane, "bulk" for a bulk lane."""
    return "urgent" if lane.endswith(PRIORITY_LANE_SUFFIX) else "bulk"


def resolve_stream(
    name: str, *, allow_lane: bool = True, allow_dead_letter: bool = False
) -> StreamSelection:
    """The stream (and lanes) `name` means; CommandError listing the known streams otherwise.

    With `allow_dead_letter` (the dead-letter commands), a dead-letter key means its stream.
    """
    streams = contract_streams()
    if allow_dead_letter and name.endswith(DEAD_LETTER_SUFFIX):
        name = stream_of_key(name.removesuffix(DEAD_LETTER_SUFFIX))
    if name in streams:
        return StreamSelection(name, (bulk_lane(name), priority_lane(name)))
    if allow_lane and name.endswith(PRIORITY_LANE_SUFFIX):
        stream = stream_of_key(name.removesuffix(PRIORITY_LANE_SUFFIX))
        if stream in streams:
            return StreamSelection(stream, (priority_lane(stream),))
    hint = " (dead letters: `nautilus dlq`)" if name.endswith(DEAD_LETTER_SUFFIX) else ""
    raise CommandError(
        f"unknown stream {name!r}{hint}; the contract's streams are: {', '.join(streams)}"
    )
