"""Type resolution on the consumer: which class reads an entry written as (type, fingerprint).

The resolver is the seam where schema evolution plugs in. `LocalTypeResolver` accepts exactly the
schemas compiled into this process; `nautilus.runtime.schema.registry.RegistryTypeResolver` also
accepts other registered fingerprints that the local class can read. Resolution is asynchronous
because it may ask the registry; the consumer caches each answer, so it is off the hot path.
"""

from __future__ import annotations

from typing import Protocol

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from nautilus.runtime.errors import DeadLetterReason, UndeliverableEntryError
from nautilus.runtime.schema.fingerprint import fingerprint

__all__ = ["LocalTypeResolver", "TypeResolver"]


class TypeResolver(Protocol):
    """Maps a writer's (type name, fingerprint) to the class that decodes its payload."""

    async def resolve(self, message_type: str, writer_fingerprint: str) -> type[Message]:
        """The class to decode with (asked once per type and fingerprint, then cached).

        Raises UndeliverableEntryError with UNKNOWN_TYPE when the type is not known, or
        FINGERPRINT_MISMATCH when the writer's schema cannot be read by any known class.
        """
        ...


class LocalTypeResolver:
    """Resolves against the protobuf types loaded in this process; fingerprints must match."""

    def __init__(self, pool: descriptor_pool.DescriptorPool | None = None) -> None:
        self._pool = pool or descriptor_pool.Default()
        self._local: dict[str, tuple[type[Message], str] | None] = {}

    def local(self, message_type: str) -> tuple[type[Message], str]:
        """This process's class for `message_type` and its fingerprint (cached).

        Raises UndeliverableEntryError with UNKNOWN_TYPE when the process has no such type.
        """
        if message_type not in self._local:
            try:
                descriptor = self._pool.FindMessageTypeByName(message_type)
            except KeyError:
                self._local[message_type] = None
            else:
                cls = message_factory.GetMessageClass(descriptor)
                self._local[message_type] = (cls, fingerprint(descriptor))
        found = self._local[message_type]
        if found is None:
            raise UndeliverableEntryError(
                DeadLetterReason.UNKNOWN_TYPE, f"no schema for message type {message_type!r}"
            )
        return found

    async def resolve(self, message_type: str, writer_fingerprint: str) -> type[Message]:
        cls, local_fingerprint = self.local(message_type)
        if writer_fingerprint != local_fingerprint:
            raise UndeliverableEntryError(
                DeadLetterReason.FINGERPRINT_MISMATCH,
                f"{message_type} written with schema {writer_fingerprint}, "
                f"this consumer reads {local_fingerprint}",
            )
        return cls
