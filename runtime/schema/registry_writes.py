"""Every write to the schema registry, in one place.

Reads are everywhere (producers, consumers, operators); writes are few and must stay few: adding a
version, setting a compatibility mode, deprecating or deleting a version. They are all here, so an
access-control layer (today the generated ACL gives registry writes to the schema-admin identity
only) has one module to guard, and a reader of the code one place to audit.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RegistryKeys", "RegistryWrites"]


class RegistryKeys:
    """The registry's key layout (docs/schema-registry.md).

    Every key starts with the prefix as a hash tag (`{nautilus:schema}:...`), so all registry keys
    live in one Redis Cluster slot and a registration's WATCH/MULTI/EXEC over several of them
    never spans two slots. A prefix given without braces is wrapped in them.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix if prefix.startswith("{") and prefix.endswith("}") else f"{{{prefix}}}"

    def schema(self, fingerprint: str) -> str:
        return f"{self.prefix}:fp:{fingerprint}"

    def versions(self, message_type: str) -> str:
        return f"{self.prefix}:versions:{message_type}"

    def mode(self, message_type: str | None) -> str:
        """The per-type compatibility mode key, or the global one for None."""
        return (
            f"{self.prefix}:mode" if message_type is None else f"{self.prefix}:mode:{message_type}"
        )

    @property
    def types(self) -> str:
        return f"{self.prefix}:types"


class RegistryWrites:
    """Queues the registry's write commands on a redis-py client or (transaction) pipeline."""

    def __init__(self, keys: RegistryKeys) -> None:
        self._keys = keys

    def add_version(
        self,
        pipe: Any,
        *,
        message_type: str,
        fingerprint: str,
        descriptor_set: bytes,
        producer: str,
        registered_at_ns: int,
    ) -> None:
        pipe.hset(
            self._keys.schema(fingerprint),
            mapping={
                "type": message_type,
                "descriptor_set": descriptor_set,
                "producer": producer,
                "registered_at": str(registered_at_ns),
            },
        )
        pipe.rpush(self._keys.versions(message_type), fingerprint)
        pipe.sadd(self._keys.types, message_type)

    def set_mode(self, pipe: Any, message_type: str | None, mode: str) -> None:
        pipe.set(self._keys.mode(message_type), mode)

    def deprecate(self, pipe: Any, fingerprint: str, reason: str) -> None:
        pipe.hset(self._keys.schema(fingerprint), mapping={"deprecated": reason or "deprecated"})

    def delete_version(self, pipe: Any, message_type: str, fingerprint: str) -> None:
        pipe.lrem(self._keys.versions(message_type), 0, fingerprint)
        pipe.delete(self._keys.schema(fingerprint))
