"""How strict a compatibility check is (level) and which readers and writers it protects (mode).

The level says which encodings must keep working: WIRE for the binary protobuf encoding the bus
carries, WIRE_JSON for that plus the proto3 JSON mapping used at the JSON edge (frontend, CLI,
fixtures), where field names, JSON names and enum value names are part of the data.

The mode follows the usual schema-registry vocabulary. BACKWARD: readers on the new schema can read
data written with the old one (consumers upgrade first). FORWARD: readers on the old schema can read
data written with the new one (producers upgrade first). FULL: both. The _TRANSITIVE variants
check against every registered version instead of only the latest; NONE checks nothing.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DEFAULT_LEVEL", "DEFAULT_MODE", "CompatLevel", "CompatMode"]


class CompatLevel(StrEnum):
    """Which encodings of a message must stay readable across a schema change."""

    WIRE = "WIRE"
    WIRE_JSON = "WIRE_JSON"


class CompatMode(StrEnum):
    """Which direction(s) of reading must keep working, and against how many past versions."""

    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"
    FULL = "FULL"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def checks_backward(self) -> bool:
        """New readers must read data written with older schemas."""
        return self in _BACKWARD_MODES

    @property
    def checks_forward(self) -> bool:
        """Old readers must read data written with the new schema."""
        return self in _FORWARD_MODES

    @property
    def transitive(self) -> bool:
        """The check runs against every registered version, not only the latest."""
        return self.value.endswith("_TRANSITIVE")


_BACKWARD_MODES = frozenset(
    {
        CompatMode.BACKWARD,
        CompatMode.FULL,
        CompatMode.BACKWARD_TRANSITIVE,
        CompatMode.FULL_TRANSITIVE,
    }
)
_FORWARD_MODES = frozenset(
    {
        CompatMode.FORWARD,
        CompatMode.FULL,
        CompatMode.FORWARD_TRANSITIVE,
        CompatMode.FULL_TRANSITIVE,
    }
)

#: The bus's default: producers and consumers upgrade in any order, so each new version must be
#: readable by the latest registered one's readers and read what its writers wrote.
DEFAULT_MODE = CompatMode.FULL
#: The contract has a JSON edge, so by default names are part of compatibility too.
DEFAULT_LEVEL = CompatLevel.WIRE_JSON
