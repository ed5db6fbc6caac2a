"""A stream entry as an operator reads it: envelope fields and the message as proto3 JSON.

Payloads are decoded with the generated class when the writer's fingerprint is the contract's, and
otherwise with the writer's own schema from the schema registry, so an entry written by an older
(or newer) producer still shows every field it carries. An entry that cannot be decoded is shown
with the reason instead of stopping the listing: operators look at streams precisely when
something is wrong with them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, message_factory
from google.protobuf.message import DecodeError, Message

from nautilus.cli.stream_names import lane_label
from nautilus.contract import bus_message_classes, fingerprints
from nautilus.runtime.errors import UndeliverableEntryError
from nautilus.runtime.schema.registry import SchemaRegistry
from nautilus.runtime.wire import WireEntry, decode_entry

__all__ = ["EntryDecoder", "EntryView", "format_entry", "iso_ns"]

_NS_PER_S = 1_000_000_000


def iso_ns(ns: int) -> str:
    """UTC ISO 8601 with all nine digits of the nanoseconds: 2025-11-25T13:30:00.000080000Z."""
    seconds, fraction = divmod(ns, _NS_PER_S)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


@dataclass(frozen=True, slots=True)
class EntryView:
    """One decoded entry; `message` is None and `error` says why when decoding failed."""

    entry_id: str
    lane: str
    wire: WireEntry | None
    message: dict[str, Any] | None
    #: "contract" (the generated class) or "registry" (the writer's registered schema).
    schema: str | None
    error: str | None
    #: Extra columns a command adds (a group's pending state, a dead letter's reason).
    extra: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON object `--json` prints for this entry (one per line)."""
        result: dict[str, Any] = {
            "id": self.entry_id,
            "lane": lane_label(self.lane),
            "lane_key": self.lane,
        }
        if self.wire is not None:
            wire = self.wire
            result.update(
                type=wire.message_type,
                fingerprint=wire.fingerprint,
                producer=wire.producer,
                published_at=iso_ns(wire.published_at_ns),
                published_at_ns=wire.published_at_ns,
                priority=wire.priority.name,
                key=wire.key,
                trace_context=wire.trace_context,
                schema=self.schema,
            )
        result["message"] = self.message
        if self.error is not None:
            result["error"] = self.error
        if self.extra:
            result.update(self.extra)
        return result


def format_entry(view: EntryView) -> str:
    """Two lines: the envelope, then the message as compact proto3 JSON (or the error)."""
    head = [view.entry_id, lane_label(view.lane)]
    wire = view.wire
    if wire is not None:
        head += [
            wire.message_type,
            f"producer={wire.producer}",
            f"published={iso_ns(wire.published_at_ns)} ({wire.published_at_ns})",
            f"priority={wire.priority.name}",
        ]
        if wire.key is not None:
            head.append(f"key={wire.key}")
        if view.schema == "registry":
            head.append(f"schema={wire.fingerprint} (registry)")
    for name, value in (view.extra or {}).items():
        head.append(f"{name}={value}")
    body = (
        json.dumps(view.message, separators=(",", ":"), sort_keys=False)
        if view.message is not None
        else f"(not decoded: {view.error})"
    )
    return "  ".join(head) + "\n  " + body


class EntryDecoder:
    """Decodes entries with the contract's classes or, for other fingerprints, the registry's."""

    def __init__(self, registry: SchemaRegistry | None) -> None:
        self._registry = registry
        self._contract = bus_message_classes()
        self._fingerprints = fingerprints()
        self._registered: dict[tuple[str, str], type[Message] | None] = {}

    async def view(
        self, lane: str, entry_id: str, fields: Mapping[bytes, bytes], **extra: Any
    ) -> EntryView:
        """The operator's view of one entry; never raises for a bad entry."""
        try:
            wire = decode_entry(fields)
        except UndeliverableEntryError as exc:
            return EntryView(entry_id, lane, None, None, None, str(exc), extra or None)
        cls, schema = await self._class_for(wire)
        if cls is None:
            error = (
                f"schema {wire.fingerprint} of {wire.message_type} is neither the contract's "
                "nor in the schema registry"
            )
            return EntryView(entry_id, lane, wire, None, None, error, extra or None)
        try:
            message = json_format.MessageToDict(cls.FromString(wire.payload))
        except DecodeError as exc:
            error = f"payload is not a valid {wire.message_type}: {exc}"
            return EntryView(entry_id, lane, wire, None, schema, error, extra or None)
        return EntryView(entry_id, lane, wire, message, schema, None, extra or None)

    async def _class_for(self, wire: WireEntry) -> tuple[type[Message] | None, str | None]:
        if self._fingerprints.get(wire.message_type) == wire.fingerprint:
            return self._contract[wire.message_type], "contract"
        key = (wire.message_type, wire.fingerprint)
        if key not in self._registered:
            self._registered[key] = await self._registered_class(*key)
        found = self._registered[key]
        return found, None if found is None else "registry"

    async def _registered_class(self, message_type: str, fingerprint: str) -> type[Message] | None:
        if self._registry is None:
            return None
        descriptor = await self._registry.descriptor(message_type, fingerprint)
        return None if descriptor is None else message_factory.GetMessageClass(descriptor)
