"""Stream key naming: the lanes, dead-letter stream and retry lanes of a stream, in one hash slot.

A route names one stream (for example `nautilus-vpin-streams`). On Redis it becomes these keys
(key layout 2, docs/wire-format.md):

- `<stream>`                   bulk lane: LOW, NORMAL and HIGH messages, buffered and pipelined;
- `{<stream>}:urgent`          priority lane: URGENT and CRITICAL, written at once, read first;
- `{<stream>}:dead-letter`     entries that could not be delivered, with the reason;
- `{<stream>}:retry:<group>`   dead letters replayed for one consumer group only, read by that
  group after the priority lane and before the bulk lane (runtime/retry_lane.py);
- `{<stream>}:dead-letter:replayed`  which dead letters were replayed, and as what.

Redis Cluster hashes a key that holds `{...}` by the text between the braces (its hash tag), and
any other key by its whole name. The bulk lane has no braces, so it hashes `<stream>`; every other
key of the stream carries `{<stream>}`, so it hashes `<stream>` too: all keys of one stream live
in one slot, on one node, and a command or script over several of them never spans two slots.
The bulk lane keeps the name it had in key layout 1, so bulk traffic written before the change
is still read after it.

A stream name must not contain braces (it would change which part is hashed): `hash_tag`
refuses one. The suffixes are part of the wire contract: clients in other languages derive the
same keys.
"""

from __future__ import annotations

from nautilus.runtime.priority import MessagePriority

__all__ = [
    "DEAD_LETTER_SUFFIX",
    "KEY_LAYOUT_VERSION",
    "PRIORITY_LANE_SUFFIX",
    "REPLAYED_SUFFIX",
    "RETRY_LANE_INFIX",
    "bulk_lane",
    "dead_letter_stream",
    "hash_tag",
    "lane_for",
    "lanes_in_read_order",
    "priority_lane",
    "replayed_key",
    "retry_lane",
    "stream_keys",
    "stream_of_key",
    "stream_of_lane",
]

#: The key layout this module writes (docs/wire-format.md, "Key layout"). Layout 1 named the
#: other keys `<stream>:urgent`, `<stream>:dead-letter`, ... without a hash tag.
KEY_LAYOUT_VERSION = 2

PRIORITY_LANE_SUFFIX = ":urgent"
DEAD_LETTER_SUFFIX = ":dead-letter"
REPLAYED_SUFFIX = ":dead-letter:replayed"
RETRY_LANE_INFIX = ":retry:"


def hash_tag(stream: str) -> str:
    """`{<stream>}`: the prefix of every key of `stream` but its bulk lane.

    ValueError for an empty name or one holding a brace, which would hash differently.
    """
    if not stream or "{" in stream or "}" in stream:
        raise ValueError(f"a stream name must be non-empty and hold no braces: {stream!r}")
    return "{" + stream + "}"


def bulk_lane(stream: str) -> str:
    """The key of `stream`'s bulk lane: the stream key itself."""
    return stream


def priority_lane(stream: str) -> str:
    """The key of `stream`'s priority lane (URGENT and CRITICAL)."""
    return hash_tag(stream) + PRIORITY_LANE_SUFFIX


def dead_letter_stream(stream: str) -> str:
    """The key of `stream`'s dead-letter stream, shared by both lanes and all consumer groups."""
    return hash_tag(stream) + DEAD_LETTER_SUFFIX


def retry_lane(stream: str, group: str) -> str:
    """The key of `stream`'s retry lane of consumer group `group` (replayed dead letters)."""
    return hash_tag(stream) + RETRY_LANE_INFIX + group


def replayed_key(stream: str) -> str:
    """The hash remembering which dead letters of `stream` were replayed, and as what."""
    return hash_tag(stream) + REPLAYED_SUFFIX


def stream_keys(stream: str, groups: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """Every key of `stream` (with the retry lanes of `groups`): all of them in one hash slot."""
    return (
        bulk_lane(stream),
        priority_lane(stream),
        dead_letter_stream(stream),
        replayed_key(stream),
        *(retry_lane(stream, group) for group in groups),
    )


def lane_for(stream: str, priority: MessagePriority) -> str:
    """The lane key a message of `priority` is written to."""
    return priority_lane(stream) if priority.uses_priority_lane else stream


def lanes_in_read_order(stream: str) -> tuple[str, str]:
    """Both lanes of `stream`, the priority lane first: the order consumers drain them."""
    return (priority_lane(stream), bulk_lane(stream))


def stream_of_key(key: str) -> str:
    """The route stream that any key of it (lane, dead-letter, retry lane, ...) belongs to."""
    if key.startswith("{"):
        tag, closed, _ = key[1:].partition("}")
        if closed and tag:
            return tag
    return key


def stream_of_lane(lane: str) -> str:
    """The route stream that `lane` (a bulk, priority or retry lane) belongs to."""
    return stream_of_key(lane)
