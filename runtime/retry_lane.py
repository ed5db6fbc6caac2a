"""Replaying dead letters to the one consumer group that gave up on them.

A dead letter names the group that moved it (`dl.group`). Putting its entry back on the lane it
came from would deliver it again to every group of that lane, so groups that had handled it
would see it twice (and their own dead letters of the same entry would multiply it further).
Instead a replay writes the original fields, unchanged, to that group's retry lane
`{<stream>}:retry:<group>` (runtime/lanes.py), which only that group reads, after its priority lanes
and before its bulk lanes; its consumers handle the entry like any other.

Replay is idempotent per original entry and group: the key `{<stream>}:dead-letter:replayed` (a
hash) remembers, for each replayed (group, lane, original id), the id it was replayed as. A
second dead letter of the same entry for the same group (a consumer that died after moving it
and before acknowledging) is deleted without being replayed again, and a replay interrupted and
run again moves each dead letter once. Each dead letter moves in one server-side script (its
three keys share the stream's hash slot, so the script runs on a cluster too): the
entry is on the retry lane and the dead letter is gone, or neither; a crash never loses one.
An entry that fails again on the retry lane is dead-lettered from there, with a new id, so it can
be replayed again after another fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.dead_letter import DeadLetter
from nautilus.runtime.lanes import dead_letter_stream, replayed_key, retry_lane, stream_of_lane

__all__ = ["GroupReplay", "replay_to_groups", "replayed_key"]


@dataclass(frozen=True, slots=True)
class GroupReplay:
    """One dead letter's replay: the group and retry lane it went to, and what happened."""

    dead_letter_id: str
    group: str
    retry_lane: str
    #: "replayed" (written to the retry lane as `new_id`), "duplicate" (its entry had already
    #: been replayed for this group, as `new_id`: the dead letter was deleted), or "gone" (the
    #: dead letter was replayed or purged meanwhile: nothing was done).
    outcome: str
    new_id: str | None


# KEYS: retry lane, dead-letter stream, replayed hash.
# ARGV: dead letter id, group, replayed field, then the original fields.
_SCRIPT = """
if #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) == 0 then return {'gone', false} end
local previous = redis.call('HGET', KEYS[3], ARGV[3])
if previous then
  redis.call('XDEL', KEYS[2], ARGV[1])
  return {'duplicate', previous}
end
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[2], '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then
  return redis.error_reply(created.err)
end
local new_id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
redis.call('HSET', KEYS[3], ARGV[3], new_id)
redis.call('XDEL', KEYS[2], ARGV[1])
return {'replayed', new_id}
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def replay_to_groups(
    redis: Redis | RedisAdmin, stream: str, letters: Sequence[DeadLetter]
) -> list[GroupReplay]:
    """Replay each dead letter of route stream `stream` to its group's retry lane, in order.

    Raises ValueError, before anything moves, for a letter without a group or from another
    stream's lane; TransportError when the server fails (letters replayed so far stay replayed).
    """
    for letter in letters:
        if not letter.group or stream_of_lane(letter.lane) != stream:
            raise ValueError(
                f"dead letter {letter.dead_letter_id} names group {letter.group!r} and lane "
                f"{letter.lane!r}, which is not a lane of {stream!r}"
            )
    admin = RedisAdmin.of(redis)
    results = []
    for letter in letters:
        lane = retry_lane(stream, letter.group)
        marker = f"{letter.group}\n{letter.lane}\n{letter.original_id}"
        arguments: list[bytes | str] = [letter.dead_letter_id, letter.group, marker]
        for name, value in letter.original_fields.items():
            arguments += (name, value)
        reply: Any = await admin.run_script(
            "replay dead letter",
            _SCRIPT,
            (lane, dead_letter_stream(stream), replayed_key(stream)),
            *arguments,
        )
        outcome, new_id = _text(reply[0]), reply[1]
        results.append(
            GroupReplay(
                letter.dead_letter_id,
                letter.group,
                lane,
                outcome,
                None if new_id is None else _text(new_id),
            )
        )
    return results
