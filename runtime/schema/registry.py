"""The schema registry kept in Redis: which versions of each message type exist on the bus.

Producers register the schema of every type they publish before they publish it, and refuse to
start when the new schema is incompatible with the registered versions under the configured mode.
Consumers meeting a fingerprint other than their own look the writer's schema up here, so they can
decode every compatible version and dead-letter the rest with the reason.

Keys (documented in docs/schema-registry.md; every write is in `registry_writes`):

    {nautilus:schema}:fp:<fingerprint>    hash  type, descriptor_set, producer, registered_at,
                                                deprecated (the reason, once deprecated)
    {nautilus:schema}:versions:<type>     list  fingerprints, oldest first
    {nautilus:schema}:types               set   every registered type name
    {nautilus:schema}:mode:<type>         str   the type's compatibility mode (optional)
    {nautilus:schema}:mode                str   the registry's default mode (optional; else FULL)

The braces are a Redis Cluster hash tag: every registry key lives in the slot of
`nautilus:schema`, so the transactions below run on a cluster as on a single server.

A fingerprint's entry never changes once written (same fingerprint, same schema), so lookups are
cached without expiry. Registration is atomic: the versions list is WATCHed while the candidate is
checked, and a concurrent registration makes the check run again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message
from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from nautilus.runtime.admin import map_server_error, server_errors
from nautilus.runtime.errors import (
    DeadLetterReason,
    RegistryEntryError,
    TransportError,
    UndeliverableEntryError,
)
from nautilus.runtime.resolver import LocalTypeResolver
from nautilus.runtime.route_options import descriptor_set_of_file
from nautilus.runtime.schema.compat import MessageDescriptor, check_compatibility, check_mode
from nautilus.runtime.schema.descriptor_sets import DescriptorSetError, message_descriptor
from nautilus.runtime.schema.fingerprint import fingerprint
from nautilus.runtime.schema.modes import DEFAULT_LEVEL, DEFAULT_MODE, CompatLevel, CompatMode
from nautilus.runtime.schema.registry_writes import RegistryKeys, RegistryWrites
from nautilus.runtime.schema.violations import Rule, SchemaIncompatibleError, Violation

__all__ = [
    "REGISTRY_PREFIX",
    "Registration",
    "RegistryTypeResolver",
    "SchemaRegistry",
    "SchemaVersion",
    "descriptor_set_of",
]

T = TypeVar("T")

#: The hash tag every registry key starts with (one slot for the whole registry).
REGISTRY_PREFIX = "{nautilus:schema}"

#: Rules about how a schema may evolve (reserve what you remove, never reuse it), not about whether
#: one schema can read another's data. A reader older or newer than the writer decodes fine
#: across them: fields it does not know are skipped, fields it misses keep their defaults.
_HISTORY_RULES = frozenset(
    {
        Rule.FIELD_REMOVED_NOT_RESERVED,
        Rule.FIELD_RESERVED_REUSED,
        Rule.ENUM_VALUE_REMOVED_NOT_RESERVED,
        Rule.ENUM_VALUE_RESERVED_REUSED,
        Rule.RESERVED_REMOVED,
    }
)
_UNKNOWN_RETRY_S = 1.0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def descriptor_set_of(message: MessageDescriptor) -> descriptor_pb2.FileDescriptorSet:
    """A self-contained descriptor set for `message`: its file and every file it imports."""
    return descriptor_set_of_file(message.file)


@dataclass(frozen=True)
class Registration:
    """The outcome of registering one message type's schema."""

    message_type: str
    fingerprint: str
    #: False when this exact schema was already registered.
    created: bool
    #: 1-based position of the schema among the type's registered versions.
    version: int


@dataclass(frozen=True)
class SchemaVersion:
    """One registered version of a message type, as operators list it (`nautilus schema show`)."""

    message_type: str
    fingerprint: str
    #: 1-based position among the type's registered versions, oldest first.
    version: int
    #: The engine that registered it ("" when registered by a tool).
    producer: str
    registered_at_ns: int
    #: Why it was deprecated ("" when it is not): still readable, listed as deprecated.
    deprecated: str = ""


class SchemaRegistry:
    """Schema versions of the bus's message types, stored in Redis."""

    def __init__(self, redis: Redis, *, prefix: str = REGISTRY_PREFIX) -> None:
        self._redis = redis
        self._keys = RegistryKeys(prefix)
        self._writes = RegistryWrites(self._keys)
        self._descriptors: dict[tuple[str, str], Descriptor] = {}

    def _schema_key(self, fingerprint_: str) -> str:
        return self._keys.schema(fingerprint_)

    def _versions_key(self, message_type: str) -> str:
        return self._keys.versions(message_type)

    @property
    def _types_key(self) -> str:
        return self._keys.types

    async def mode(self, message_type: str | None = None) -> CompatMode:
        """The compatibility mode of `message_type`: its own, else the registry's, else FULL."""
        names = [self._keys.mode(None)] if message_type is None else [
            self._keys.mode(message_type), self._keys.mode(None)
        ]  # fmt: skip
        for value in await self._call("MGET", self._redis.mget(names)):
            if value:
                return CompatMode(_text(value))
        return DEFAULT_MODE

    async def set_mode(self, message_type: str | None, mode: CompatMode) -> None:
        """Set the mode of one type, or the registry's default for None."""
        await self._write("SET", lambda pipe: self._writes.set_mode(pipe, message_type, mode.value))

    async def deprecate(self, message_type: str, fingerprint_: str, reason: str = "") -> None:
        """Mark a version deprecated: still readable and checked against, listed as such."""
        await self._require_version(message_type, fingerprint_)
        await self._write("HSET", lambda pipe: self._writes.deprecate(pipe, fingerprint_, reason))

    async def delete(self, message_type: str, fingerprint_: str) -> None:
        """Remove a version: consumers can no longer decode entries written with it."""
        await self._require_version(message_type, fingerprint_)
        await self._write(
            "LREM", lambda pipe: self._writes.delete_version(pipe, message_type, fingerprint_)
        )
        self._descriptors.pop((message_type, fingerprint_), None)

    async def _write(self, operation: str, queue: Callable[[Any], None]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            queue(pipe)
            await self._call(operation, pipe.execute())

    async def _require_version(self, message_type: str, fingerprint_: str) -> None:
        known = await self.versions(message_type)
        if fingerprint_ not in known:
            raise KeyError(
                f"{message_type} has no registered version {fingerprint_}; "
                f"registered: {', '.join(known) or 'none'}"
            )

    async def types(self) -> list[str]:
        """Every registered message type, sorted."""
        names = await self._call("SMEMBERS", self._redis.smembers(self._types_key))
        return sorted(_text(n) for n in names)

    async def versions(self, message_type: str) -> list[str]:
        """Fingerprints registered for `message_type`, oldest first."""
        raw = await self._call(
            "LRANGE", self._redis.lrange(self._versions_key(message_type), 0, -1)
        )
        return [_text(fp) for fp in raw]

    async def version_history(self, message_type: str) -> list[SchemaVersion]:
        """Every registered version of `message_type` with who registered it and when."""
        fingerprints = await self.versions(message_type)
        history = []
        for number, fp in enumerate(fingerprints, start=1):
            producer, registered_at, deprecated = await self._call(
                "HMGET",
                self._redis.hmget(
                    self._schema_key(fp), ["producer", "registered_at", "deprecated"]
                ),
            )
            history.append(
                SchemaVersion(
                    message_type,
                    fp,
                    number,
                    _text(producer or b""),
                    int(_text(registered_at or b"0") or 0),
                    _text(deprecated or b""),
                )
            )
        return history

    async def descriptor_set(self, fingerprint_: str) -> descriptor_pb2.FileDescriptorSet | None:
        """The stored descriptor set of a fingerprint, or None when it was never registered."""
        key = self._schema_key(fingerprint_)
        try:
            data = await self._call("HGET", self._redis.hget(key, "descriptor_set"))
        except TransportError as exc:
            if "WRONGTYPE" not in exc.detail:
                raise
            raise RegistryEntryError(key, "not a hash") from None
        if data is None:
            return None
        try:
            return descriptor_pb2.FileDescriptorSet.FromString(
                data if isinstance(data, bytes) else data.encode()
            )
        except DecodeError:
            raise RegistryEntryError(key, "descriptor_set is not a FileDescriptorSet") from None

    async def registered_type(self, fingerprint_: str) -> str | None:
        """The message type a fingerprint was registered for, or None when it never was."""
        data = await self._call("HGET", self._redis.hget(self._schema_key(fingerprint_), "type"))
        return None if data is None else (data.decode() if isinstance(data, bytes) else str(data))

    async def descriptor(self, message_type: str, fingerprint_: str) -> Descriptor | None:
        """The writer's descriptor for a registered fingerprint (cached), or None if unknown."""
        cached = self._descriptors.get((message_type, fingerprint_))
        if cached is not None:
            return cached
        stored = await self.descriptor_set(fingerprint_)
        if stored is None:
            return None
        try:
            found = message_descriptor(stored, message_type)
        except DescriptorSetError:
            return None
        self._descriptors[(message_type, fingerprint_)] = found
        return found

    async def register(
        self,
        message: MessageDescriptor,
        *,
        mode: CompatMode | None = None,
        level: CompatLevel = DEFAULT_LEVEL,
        producer: str = "",
        now_ns: int | None = None,
    ) -> Registration:
        """Register `message`'s schema, or raise SchemaIncompatibleError listing every violation.

        `mode` None means the type's mode in the registry (`mode()`: its own, else the registry's
        default, else FULL). Registering a schema that is already registered changes nothing.
        """
        if mode is None:
            mode = await self.mode(message.full_name)
        candidate = fingerprint(message)
        versions_key = self._versions_key(message.full_name)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(versions_key)
                        known = [_text(fp) for fp in await pipe.lrange(versions_key, 0, -1)]
                        if candidate in known:
                            await pipe.reset()  # type: ignore[no-untyped-call]
                            return Registration(
                                message.full_name, candidate, False, known.index(candidate) + 1
                            )
                        await self._check(message, known, mode, level)
                        pipe.multi()  # type: ignore[no-untyped-call]
                        self._writes.add_version(
                            pipe,
                            message_type=message.full_name,
                            fingerprint=candidate,
                            descriptor_set=descriptor_set_of(message).SerializeToString(
                                deterministic=True
                            ),
                            producer=producer,
                            registered_at_ns=now_ns if now_ns is not None else time.time_ns(),
                        )
                        await pipe.execute()
                        return Registration(message.full_name, candidate, True, len(known) + 1)
                    except WatchError:
                        continue
        except (RedisError, OSError, TimeoutError) as exc:
            raise map_server_error("register schema", exc) from exc

    async def register_all(
        self,
        messages: Iterable[MessageDescriptor],
        *,
        mode: CompatMode | None = None,
        level: CompatLevel = DEFAULT_LEVEL,
        producer: str = "",
        now_ns: int | None = None,
    ) -> list[Registration]:
        """Register several types; the first incompatible one stops the rest."""
        return [
            await self.register(m, mode=mode, level=level, producer=producer, now_ns=now_ns)
            for m in messages
        ]

    async def check(
        self,
        message: MessageDescriptor,
        *,
        mode: CompatMode | None = None,
        level: CompatLevel = DEFAULT_LEVEL,
    ) -> list[Violation]:
        """What registering `message` would be refused for (a dry run: nothing is written).

        Each violation names the registered version it conflicts with. Empty when the schema is
        already registered or compatible.
        """
        if mode is None:
            mode = await self.mode(message.full_name)
        known = await self.versions(message.full_name)
        if fingerprint(message) in known:
            return []
        return await self._violations(message, known, mode, level)

    async def _check(
        self, message: MessageDescriptor, known: Sequence[str], mode: CompatMode, level: CompatLevel
    ) -> None:
        violations = await self._violations(message, known, mode, level)
        if violations:
            raise SchemaIncompatibleError(message.full_name, violations)

    async def _violations(
        self, message: MessageDescriptor, known: Sequence[str], mode: CompatMode, level: CompatLevel
    ) -> list[Violation]:
        if mode is CompatMode.NONE or not known:
            return []
        numbered = list(enumerate(known, start=1))
        against = numbered if mode.transitive else numbered[-1:]
        found: list[Violation] = []
        for number, fp in against:
            previous = await self.descriptor(message.full_name, fp)
            if previous is None:
                raise TransportError(
                    "register schema",
                    f"registry has version {fp} of {message.full_name} "
                    "in its versions list but no descriptors for it",
                )
            for violation in check_mode([previous], message, mode, level):
                found.append(
                    replace(violation, message=f"{violation.message} [registered v{number} {fp}]")
                )
        return found

    async def _call(self, operation: str, awaitable: Awaitable[T]) -> T:
        """Errors mapped by the admin layer: ServerUnreachableError (retry) or
        ServerRejectedError (surface), both TransportErrors."""
        with server_errors(f"schema registry {operation}"):
            return await awaitable


class RegistryTypeResolver:
    """Decodes any registered schema version that the local class can read.

    A writer whose fingerprint equals the local class's needs no lookup. Any other fingerprint is
    looked up once: when the local schema can read data written with the writer's schema (checked
    at `level` as BACKWARD, local reader and writer's data, leaving out the rules about evolution
    history) the local class decodes it, older or newer; otherwise the entry is dead-lettered with
    the violations. Unknown fingerprints are dead-lettered too, and
    asked for again at most once a second, so a burst of bad entries costs one lookup.
    """

    def __init__(self, registry: SchemaRegistry, *, level: CompatLevel = DEFAULT_LEVEL) -> None:
        self._registry = registry
        self._level = level
        self._local = LocalTypeResolver()
        self._verdicts: dict[tuple[str, str], type[Message] | UndeliverableEntryError] = {}
        self._unknown_until: dict[tuple[str, str], float] = {}

    async def resolve(self, message_type: str, writer_fingerprint: str) -> type[Message]:
        cls, local_fingerprint = self._local.local(message_type)
        if writer_fingerprint == local_fingerprint:
            return cls
        key = (message_type, writer_fingerprint)
        verdict = self._verdicts.get(key)
        if verdict is None:
            if time.monotonic() < self._unknown_until.get(key, 0.0):
                raise self._unknown(message_type, writer_fingerprint)
            registered = await self._registry.registered_type(writer_fingerprint)
            if registered is not None and registered != message_type:
                # A fingerprint is bound to the type it was registered for: another type's
                # schema (and bytes) must never reach this type's handler.
                verdict = UndeliverableEntryError(
                    DeadLetterReason.FINGERPRINT_MISMATCH,
                    f"{message_type} written with schema {writer_fingerprint}, "
                    f"which is registered for {registered}",
                )
            else:
                try:
                    writer = await self._registry.descriptor(message_type, writer_fingerprint)
                except RegistryEntryError as exc:
                    # Only entries written with this fingerprint are affected; report the key.
                    self._verdicts[key] = UndeliverableEntryError(
                        DeadLetterReason.INCOMPATIBLE_SCHEMA, str(exc)
                    )
                    raise UndeliverableEntryError(
                        DeadLetterReason.INCOMPATIBLE_SCHEMA, str(exc)
                    ) from None
                if writer is None:
                    self._unknown_until[key] = time.monotonic() + _UNKNOWN_RETRY_S
                    raise self._unknown(message_type, writer_fingerprint)
                verdict = self._judge(cls, writer, writer_fingerprint)
            self._verdicts[key] = verdict
        if isinstance(verdict, UndeliverableEntryError):
            raise UndeliverableEntryError(verdict.reason, verdict.detail)
        return verdict

    def _judge(
        self, cls: type[Message], writer: Descriptor, writer_fingerprint: str
    ) -> type[Message] | UndeliverableEntryError:
        violations = [
            v
            for v in check_compatibility(writer, cls.DESCRIPTOR, self._level, CompatMode.BACKWARD)
            if v.rule not in _HISTORY_RULES
        ]
        if not violations:
            return cls
        listed = "; ".join(f"{v.field}: {v.rule}" for v in violations)
        return UndeliverableEntryError(
            DeadLetterReason.INCOMPATIBLE_SCHEMA,
            f"{writer.full_name} written with schema {writer_fingerprint}, which this consumer's "
            f"schema cannot read at level {self._level.value}: {listed}",
        )

    @staticmethod
    def _unknown(message_type: str, writer_fingerprint: str) -> UndeliverableEntryError:
        return UndeliverableEntryError(
            DeadLetterReason.UNKNOWN_FINGERPRINT,
            f"{message_type} written with schema {writer_fingerprint}, "
            "which is not in the schema registry",
        )
