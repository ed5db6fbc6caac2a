"""Leases: which replica of an engine reads which unit of the engine's consumer group.

Several processes of one engine (replicas) share its consumer group. Without leases Redis hands
each entry to whichever replica reads first, so a stateful engine (VPIN buckets trades per
instrument) sees part of every instrument in every replica and its state is wrong everywhere.
With leases, the group's work is cut into units (a partition stream of a partitioned route, or a
whole stream otherwise: see runtime/partitions.py), and each unit is read by exactly one live
replica at a time; every entry of an instrument is on one unit, so one replica sees all of it.

In Redis, per unit and group:

- `{<unit>}:lease:<group>`: a string holding the holder's consumer name, set with
  `SET NX PX <lease_ms>` and renewed by the holder alone (a compare-and-set script: extend only
  if the value is still its name). The key carries the unit's hash tag, so it lives on the same
  Redis Cluster slot as the unit's lanes.
- `nautilus:replicas:<group>`: a sorted set of the group's live replicas, scored by the server
  time (ms) at which each one's membership expires; every replica refreshes its own score each
  round and drops the expired ones (server time, so replicas' clocks do not matter).

Each replica runs a round every third of `lease_ms` (`LeaseKeeper.run`):

1. refresh its membership and read the live replicas;
2. renew the leases it holds; a lease it could not renew (it stalled past its expiry and another
   replica took it) is dropped at once;
3. compute its fair share: the live replicas sorted by name, the first `units % replicas` get
   `units // replicas + 1` units, the others `units // replicas`; holding more than its share, it
   releases the excess (a newcomer then finds free units); holding fewer, it takes free units
   (`SET NX`), a dead replica's units becoming free when its lease expires.

Handing a unit over never splits an instrument between two replicas at the same time: before a
replica deletes a lease it stops reading the unit and waits until every read it started on it has
been handled and acknowledged (`LeaseHolder.hold`). Leases carry no fencing token: a replica
whose event loop stalls longer than `lease_ms` may find its lease taken while it still finishes a
batch, so `lease_ms` must exceed the longest stall (2 s under `nautilus up`).

Entries a replica leaves pending (a failed handler's retries) and a dead replica's in-flight
entries are reclaimed by the unit's new holder, through the consumer's usual reclaim of entries
idle longer than `reclaim_idle_ms`. A replica that stops cleanly releases its leases and leaves
the member set, so the others take over at their next round rather than after the lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

from nautilus.runtime.errors import TransportError
from nautilus.runtime.lanes import hash_tag

__all__ = [
    "LEASE_INFIX",
    "MEMBERS_PREFIX",
    "LeaseHolder",
    "LeaseKeeper",
    "LeaseView",
    "fair_share",
    "lease_key",
    "members_key",
]

_log = logging.getLogger(__name__)

LEASE_INFIX = ":lease:"
MEMBERS_PREFIX = "nautilus:replicas:"

#: Extend the lease only while it is still ours (the compare-and-set renewal).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
#: Delete the lease only while it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
#: Refresh this replica's membership (server time), drop expired members, list the live ones.
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


def lease_key(unit: str, group: str) -> str:
    """The lease of `unit` (a stream) for consumer group `group`, in the unit's hash tag."""
    return hash_tag(unit) + LEASE_INFIX + group


def members_key(group: str) -> str:
    """The sorted set of the live replicas of consumer group `group`."""
    return MEMBERS_PREFIX + group


def fair_share(units: int, members: Sequence[str], me: str) -> int:
    """How many of `units` the replica `me` should hold among the live `members`.

    Members sorted by name; the first `units % len(members)` hold one more. The shares add up to
    `units`, so when every replica sees the same members each unit has exactly one holder.
    """
    ordered = sorted(set(members) | {me})
    base, extra = divmod(units, len(ordered))
    return base + (1 if ordered.index(me) < extra else 0)


class LeaseHolder(Protocol):
    """What the keeper drives: the consumer, which reads only the units it is told to hold."""

    async def hold(self, units: Collection[str], *, newly_held: Collection[str] = ()) -> None:
        """Read only `units` from now on; returns once reads started on other units are done."""
        ...


@dataclass(frozen=True, slots=True)
class LeaseView:
    """The keeper's last round, for /health and the launcher's wait for a balanced group."""

    units: int
    held: tuple[str, ...]
    members: tuple[str, ...]
    share: int

    @property
    def balanced(self) -> bool:
        """Holding exactly its fair share among the members it saw."""
        return len(self.held) == self.share

    def as_dict(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "held": list(self.held),
            "members": list(self.members),
            "share": self.share,
            "balanced": self.balanced,
        }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class LeaseKeeper:
    """Holds this replica's fair share of a group's units (see the module docstring).

    `redis` is a redis-py asyncio client (standalone or cluster: every command names one key).
    """

    def __init__(
        self,
        redis: Any,
        holder: LeaseHolder,
        *,
        group: str,
        name: str,
        units: Sequence[str],
        lease_ms: int,
    ) -> None:
        if lease_ms < 30:
            raise ValueError(f"lease_ms must be at least 30, got {lease_ms}")
        if not units:
            raise ValueError("a lease keeper needs at least one unit")
        self._redis = redis
        self._holder = holder
        self._group = group
        self._name = name
        self._units = tuple(sorted(set(units)))
        self._lease_ms = lease_ms
        self._held: set[str] = set()
        self._view = LeaseView(len(self._units), (), (name,), 0)
        #: Rounds that failed on the server (the keeper goes on; leases may expire meanwhile).
        self.failed_rounds = 0
        #: Units taken, released, and lost (taken by another after this replica stalled).
        self.acquired = 0
        self.released = 0
        self.lost = 0

    @property
    def interval_s(self) -> float:
        """Seconds between two rounds: a third of the lease."""
        return self._lease_ms / 3000

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    def view(self) -> LeaseView:
        return self._view

    async def _call(self, what: str, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except RedisError as exc:
            raise TransportError(f"lease {what}", str(exc)) from exc

    async def _script(self, what: str, script: str, key: str, *args: str | int) -> Any:
        return await self._call(what, self._redis.eval(script, 1, key, *args))

    async def round(self) -> LeaseView:
        """One round: membership, renewal, release of the excess, acquisition of free units.

        Raises TransportError when the server cannot be reached (nothing is changed locally
        then: a lease that expires meanwhile is dropped by the next round's renewal).
        """
        raw = await self._script(
            "heartbeat", _HEARTBEAT, members_key(self._group), self._name, self._lease_ms
        )
        members = tuple(sorted({_text(m) for m in raw} | {self._name}))
        lost = [unit for unit in sorted(self._held) if not await self._renew(unit)]
        if lost:
            self._held.difference_update(lost)
            self.lost += len(lost)
            _log.warning(
                "%s: leases lost (expired, this replica stalled longer than a lease; or taken by "
                "another replica): %s",
                self._name,
                lost,
            )
            await self._holder.hold(self._held)
        share = fair_share(len(self._units), members, self._name)
        if len(self._held) > share:
            excess = sorted(self._held)[share:]
            self._held.difference_update(excess)
            # Stop reading them and let what was read be handled first, then hand them over.
            await self._holder.hold(self._held)
            for unit in excess:
                await self._script("release", _RELEASE, lease_key(unit, self._group), self._name)
            self.released += len(excess)
            _log.info("%s: released %s (share %d of %d)", self._name, excess, share, len(members))
        elif len(self._held) < share:
            taken: list[str] = []
            for unit in self._free_order():
                if len(self._held) + len(taken) >= share:
                    break
                if await self._acquire(unit):
                    taken.append(unit)
            if taken:
                self._held.update(taken)
                self.acquired += len(taken)
                await self._holder.hold(self._held, newly_held=taken)
                _log.info("%s: now holds %s", self._name, sorted(self._held))
        self._view = LeaseView(len(self._units), tuple(sorted(self._held)), members, share)
        return self._view

    def _free_order(self) -> list[str]:
        """Units not held by this replica, starting at a place that depends on its name, so that
        replicas starting together try different units first."""
        candidates = [unit for unit in self._units if unit not in self._held]
        if not candidates:
            return []
        start = sum(self._name.encode()) % len(candidates)
        return candidates[start:] + candidates[:start]

    async def _acquire(self, unit: str) -> bool:
        key = lease_key(unit, self._group)
        reply = await self._call(
            "acquire", self._redis.set(key, self._name, nx=True, px=self._lease_ms)
        )
        return bool(reply)

    async def _renew(self, unit: str) -> bool:
        key = lease_key(unit, self._group)
        return bool(await self._script("renew", _RENEW, key, self._name, self._lease_ms))

    async def run(self, stop: asyncio.Event) -> None:
        """Run rounds until `stop` is set; a failed round is logged and the next one tried.

        When no round has succeeded for most of a lease, this replica can no longer know that
        its leases are still its own: it stops reading every unit until a round succeeds again.
        """
        confirmed = time.monotonic()
        while not stop.is_set():
            try:
                await self.round()
                confirmed = time.monotonic()
            except Exception as exc:  # a keeper that stopped would leave units unread
                self.failed_rounds += 1
                if self.failed_rounds == 1 or self.failed_rounds % 50 == 0:
                    _log.warning("%s: lease round failed: %r", self._name, exc)
                if self._held and time.monotonic() - confirmed > self._lease_ms * 0.8 / 1000:
                    _log.warning("%s: leases unconfirmed for too long: reading nothing", self._name)
                    self._held.clear()
                    await self._holder.hold(())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)

    async def release_all(self) -> None:
        """Release every lease held and leave the member set (a clean stop: the others take the
        units at their next round). The caller has stopped reading first."""
        held, self._held = sorted(self._held), set()
        for unit in held:
            await self._script("release", _RELEASE, lease_key(unit, self._group), self._name)
        await self._call("leave", self._redis.zrem(members_key(self._group), self._name))
        self.released += len(held)
        self._view = LeaseView(len(self._units), (), (), 0)
