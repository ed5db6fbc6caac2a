"""Redis ACLs from the contract: a user per engine, `schema-admin`, `operator`, `observer`.

Each engine's user may write only the lanes of the streams it produces and read, acknowledge and
reclaim only the lanes of the streams it consumes (plus their dead-letter streams, which it
writes when an entry cannot be delivered). The schema registry is read-only to engines; only
`schema-admin` writes it. `operator` is what the `nautilus` commands need: reads everywhere, plus
dead-letter replay and purge, trimming, deleting bus streams and consumer-group management.
`observer` is the identity of observers (runtime/observer.py, `nautilus tail --observer`): on
every lane it reads, and creates, reads through and acknowledges consumer groups, and writes
nothing (no XADD, XTRIM, XDEL, no dead letters, no registry). Redis ACLs cannot restrict which
consumer group a command names, so the rules cannot keep an observer to `observer:*` groups
(docs/security.md says what that leaves open).

Key names come from `runtime/lanes.py` and the registry's `RegistryKeys`, so the key layout
(hash tags for Redis Cluster: `{<stream>}:urgent`, `{nautilus:schema}:*`) flows into the ACL
without touching this module; braces are not glob characters, so the patterns match them as is.
Command permissions are per key through ACL selectors (Redis 7.0+, Valkey 7.2+): a command is
allowed when the root permissions or one selector allow both the command and every key it names.

Servers differ: Redis 7.2+ and Valkey know `CLIENT SETINFO`, which redis-py sends on connect and
whose refusal it ignores (it would still be logged in `ACL LOG`); Redis 7.0 does not know it and
refuses an ACL that names it. `ServerFlavor` picks the variant.

The rendered file holds no passwords unless hashes are given: users are `on` but cannot log in
until a password is added (`ACL SETUSER name >password`, or `nautilus acl --passwords DIR`).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nautilus.codegen.model import ContractModel
from nautilus.runtime.lanes import (
    dead_letter_stream,
    lanes_in_read_order,
    replayed_key,
    retry_lane,
)
from nautilus.runtime.leases import lease_key, members_key
from nautilus.runtime.observer import OBSERVER_GROUP_PREFIX
from nautilus.runtime.schema.registry import REGISTRY_PREFIX

__all__ = [
    "ACL_PATHS",
    "OBSERVER",
    "OPERATOR",
    "SCHEMA_ADMIN",
    "EngineAccess",
    "ServerFlavor",
    "acl_users",
    "engine_access",
    "password_hash",
    "render_acl",
    "render_acl_file",
]

SCHEMA_ADMIN = "schema-admin"
OPERATOR = "operator"
OBSERVER = "observer"


class ServerFlavor(enum.Enum):
    """Which ACL dialect the server speaks."""

    #: Redis 7.0: no CLIENT SETINFO.
    REDIS_7_0 = "7.0"
    #: Redis 7.2 and later, Valkey 7.2 and later: CLIENT SETINFO exists.
    REDIS_7_2 = "7.2"

    @classmethod
    def for_version(cls, version: str) -> ServerFlavor:
        """The flavor of a server reporting `version` (INFO's redis_version or valkey_version).

        ValueError for versions before 7.0, which have no ACL selectors.
        """
        try:
            major, minor = (int(part) for part in version.split(".")[:2])
        except ValueError:
            raise ValueError(f"unrecognised server version {version!r}") from None
        if (major, minor) < (7, 0):
            raise ValueError(f"server version {version} has no ACL selectors: 7.0 or later needed")
        return cls.REDIS_7_0 if (major, minor) < (7, 2) else cls.REDIS_7_2


#: The generated files, one per flavor (no passwords).
ACL_PATHS: dict[ServerFlavor, str] = {
    ServerFlavor.REDIS_7_0: "acl/redis-7.0.acl",
    ServerFlavor.REDIS_7_2: "acl/redis-7.2.acl",
}


@dataclass(frozen=True)
class EngineAccess:
    """What one engine does on the bus: the streams it writes and the streams it reads (each
    partition of a partitioned stream is a stream of its own here)."""

    engine: str
    produces: tuple[str, ...]
    consumes: tuple[str, ...]


def engine_access(contract: ContractModel) -> tuple[EngineAccess, ...]:
    """Each engine's streams from the routes, engines in contract order; external parties (the
    browser frontend) do not connect to Redis and get no user."""
    result = []
    for engine in contract.engines:
        if engine.external:
            continue
        produces: set[str] = set()
        consumes: set[str] = set()
        for message in contract.bus_messages:
            assert message.route is not None
            if message.route.producer == engine.name:
                produces.update(message.route.streams)
            if engine.name in message.route.consumers:
                consumes.update(message.route.streams)
        result.append(EngineAccess(engine.name, tuple(sorted(produces)), tuple(sorted(consumes))))
    return tuple(result)


def acl_users(contract: ContractModel) -> tuple[str, ...]:
    """Every user the ACL defines besides `default`: the engines, `schema-admin`, `operator`,
    `observer`."""
    engines = (access.engine for access in engine_access(contract))
    return (*engines, SCHEMA_ADMIN, OPERATOR, OBSERVER)


def password_hash(password: str) -> str:
    """The ACL form of a password: `#` and its SHA-256 in hex (the file never holds the text)."""
    return "#" + hashlib.sha256(password.encode()).hexdigest()


# What every client sends on connect: AUTH (or HELLO), PING for liveness, SELECT for a non-zero
# database, CLIENT SETNAME / SETINFO (redis-py; SETINFO only where the server knows it). Then
# what finding and using a Redis Cluster takes: CLUSTER SLOTS (is this a cluster node, and the
# slot map), COMMAND (redis-py's cluster client reads the key positions of commands), ASKING
# (following an ASK redirect); and CLIENT ID / CLIENT UNBLOCK, with which a consumer ends its
# other blocking reads (one per stream) once one of them has returned.
_CONNECTION = (
    "+auth", "+hello", "+ping", "+select", "+client|setname", "+cluster|slots", "+command",
    "+asking", "+client|id", "+client|unblock",
)  # fmt: skip
_CONNECTION_7_2 = ("+client|setinfo",)
# A producer on its own lanes: write, trim safely (length, ids, groups' progress), create the
# consumer groups of its routed consumers.
_PRODUCER = (
    "+xadd", "+xtrim", "+xlen", "+xrange", "+xrevrange", "+xinfo|groups", "+xinfo|stream",
    "+xpending", "+xgroup|create",
)  # fmt: skip
# A consumer on the lanes it consumes: its group's reads, acks, reclaims and their bookkeeping
# (deleting itself, or dead consumers holding nothing, from its group), and the lane state its
# /health reports.
_CONSUMER = (
    "+xreadgroup", "+xack", "+xautoclaim", "+xclaim", "+xpending", "+xgroup|create",
    "+xgroup|createconsumer", "+xgroup|delconsumer", "+xinfo|groups", "+xinfo|stream",
    "+xinfo|consumers", "+xlen",
)  # fmt: skip
# A replica of a consuming engine on its group's leases (runtime/leases.py): take, renew and
# release a lease (SET NX PX, compare-and-set scripts), and keep its membership (server TIME).
_REPLICA = (
    "+set", "+get", "+del", "+pexpire", "+eval", "+evalsha", "+zadd", "+zrem", "+zrange",
    "+zremrangebyscore", "+time",
)  # fmt: skip
# Reading the schema registry (engines and the operator).
_REGISTRY_READ = (
    "+lrange", "+llen", "+lindex", "+hget", "+hmget", "+hgetall", "+hexists", "+smembers",
    "+sismember", "+scard", "+exists", "+type",
)  # fmt: skip
# The operator on every bus key: read everything, replay and purge dead letters, trim, delete
# streams (`nautilus up --reset-streams`), manage consumer groups; read ACL LOG (denials).
_OPERATOR = (
    "+xrange", "+xrevrange", "+xread", "+xlen", "+xinfo", "+xpending", "+xtrim", "+xdel",
    "+xadd", "+eval", "+evalsha", "+xgroup", "+del", "+exists", "+type", "+acl|log",
    "+acl|whoami", "+info", "+hget", "+hset", "+xreadgroup", "+xack",
)  # fmt: skip
# An observer on every lane: what a consumer does through its group (read, acknowledge, renew and
# reclaim its own entries, join and leave), plain reads, and no write to any key's entries.
_OBSERVER = (*_CONSUMER, "+xrange", "+xrevrange", "+xread")
# schema-admin on the registry keys: read and write them (WATCH/MULTI/EXEC for atomic
# registration, scripts), never the dangerous commands (FLUSHALL has no key to restrict).
_SCHEMA_ADMIN = ("+@read", "+@write", "+@transaction", "+@scripting", "-@dangerous")


def _pattern(key: str) -> str:
    """A key as an exact ACL glob: glob characters escaped."""
    escaped = "".join("\\" + c if c in "*?[]\\" else c for c in key)
    return "~" + escaped


def _lanes(streams: Iterable[str]) -> list[str]:
    return [_pattern(lane) for stream in streams for lane in lanes_in_read_order(stream)]


def _registry_pattern(read_only: bool) -> str:
    return ("%R~" if read_only else "~") + REGISTRY_PREFIX + ":*"


def _selector(*parts: str) -> str:
    return "(" + " ".join(parts) + ")"


def _connection(flavor: ServerFlavor) -> tuple[str, ...]:
    return _CONNECTION + (_CONNECTION_7_2 if flavor is ServerFlavor.REDIS_7_2 else ())


def _user(name: str, password: str | None, rules: Iterable[str]) -> str:
    secret = password or ""
    head = ["user", name, "on", "resetpass", "resetkeys", "resetchannels", "-@all"]
    if secret:
        head.append(secret)
    return " ".join([*head, *rules])


def _engine_rules(access: EngineAccess, flavor: ServerFlavor) -> list[str]:
    rules = [*_connection(flavor)]
    if access.produces:
        rules += [*_lanes(access.produces), *_PRODUCER]
    rules.append(_selector(_registry_pattern(read_only=True), *_REGISTRY_READ))
    if access.consumes:
        # One selector for every consumed lane: a consumer reads all of them in one XREADGROUP,
        # and a selector must allow every key of a command.
        # Its retry lanes (dead letters replayed to its group) are read in the same XREADGROUP.
        retries = [_pattern(retry_lane(s, access.engine)) for s in access.consumes]
        rules.append(_selector(*_lanes(access.consumes), *retries, *_CONSUMER))
        dead_letters = [_pattern(dead_letter_stream(s)) for s in access.consumes]
        rules.append(_selector(*dead_letters, "+xadd"))
        leases = [_pattern(lease_key(s, access.engine)) for s in access.consumes]
        rules.append(_selector(*leases, _pattern(members_key(access.engine)), *_REPLICA))
    return rules


def _operator_rules(streams: Iterable[str], flavor: ServerFlavor) -> list[str]:
    keys = [
        pattern
        for stream in streams
        for pattern in (
            *_lanes([stream]),
            _pattern(dead_letter_stream(stream)),
            # Replay writes each group's retry lane and remembers what it replayed.
            _pattern(retry_lane(stream, "")) + "*",
            _pattern(replayed_key(stream)),
        )
    ]
    return [
        *_connection(flavor),
        *keys,
        *_OPERATOR,
        _selector(_registry_pattern(read_only=True), *_REGISTRY_READ),
    ]


def _observer_rules(streams: Iterable[str], flavor: ServerFlavor) -> list[str]:
    # One selector: an observer reads its retry lanes and the bulk lanes in one XREADGROUP.
    retries = [_pattern(retry_lane(stream, OBSERVER_GROUP_PREFIX)) + "*" for stream in streams]
    return [
        *_connection(flavor),
        _selector(*_lanes(streams), *retries, *_OBSERVER),
        _selector(_registry_pattern(read_only=True), *_REGISTRY_READ),
    ]


def _schema_admin_rules(flavor: ServerFlavor) -> list[str]:
    return [*_connection(flavor), _registry_pattern(read_only=False), *_SCHEMA_ADMIN]


def render_acl_file(
    contract: ContractModel,
    flavor: ServerFlavor,
    passwords: Mapping[str, str] | None = None,
) -> str:
    """The ACL file (`aclfile` / `ACL LOAD` format) for `flavor`.

    `passwords` maps user names to their `#<sha256>` hashes (see `password_hash`); a user
    without one is listed with no password and cannot log in until given one.
    """
    hashes = dict(passwords or {})
    accesses = engine_access(contract)
    streams = sorted({s for a in accesses for s in (*a.produces, *a.consumes)})
    # Servers refuse comments in ACL files: the file is the users and nothing else.
    lines = [
        "user default off resetpass resetkeys resetchannels -@all",
    ]
    for access in accesses:
        lines.append(_user(access.engine, hashes.get(access.engine), _engine_rules(access, flavor)))
    lines.append(_user(SCHEMA_ADMIN, hashes.get(SCHEMA_ADMIN), _schema_admin_rules(flavor)))
    lines.append(_user(OPERATOR, hashes.get(OPERATOR), _operator_rules(streams, flavor)))
    lines.append(_user(OBSERVER, hashes.get(OBSERVER), _observer_rules(streams, flavor)))
    return "\n".join(lines) + "\n"


def render_acl(contract: ContractModel) -> dict[str, bytes]:
    """The pipeline's renderer: one password-free ACL file per server flavor."""
    return {path: render_acl_file(contract, flavor).encode() for flavor, path in ACL_PATHS.items()}
