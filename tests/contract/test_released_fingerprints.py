"""Released fingerprints are pinned: the canonical form of a schema may never drift.

`released_fingerprints.json` is a reviewed fixture, written by hand from the fingerprints of
`schemas/baseline.binpb` (the released contract), not produced by the function under test. Every
deployed reader compares an entry's `f` with these exact values, so a change to the canonical form
(`runtime/schema/fingerprint.py`) would make every reader of an older build dead-letter every
entry as `fingerprint-mismatch`. Such a change is a new wire-format version, not a refactoring.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from nautilus.runtime.schema import build_pool, fingerprint

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "schemas" / "baseline.binpb"
RELEASED = Path(__file__).with_name("released_fingerprints.json")


def _baseline_fingerprints() -> dict[str, str]:
    """Fingerprint of every `nautilus.*` message type of the released contract."""
    image = descriptor_pb2.FileDescriptorSet.FromString(BASELINE.read_bytes())
    pool = build_pool(image)
    found: dict[str, str] = {}
    for file in image.file:
        if file.package.startswith("google."):
            continue
        for message in pool.FindFileByName(file.name).message_types_by_name.values():
            found[message.full_name] = fingerprint(message)
    return found


def _released() -> dict[str, str]:
    released: dict[str, str] = json.loads(RELEASED.read_text())
    return released


def test_the_fixture_pins_the_released_bus_messages() -> None:
    released = _released()
    assert "nautilus.vpin.v1.ToxicityAlert" in released
    assert "nautilus.marketdata.v1.Quote" in released
    assert all(len(value) == 16 and int(value, 16) >= 0 for value in released.values())


@pytest.mark.parametrize("message_type", sorted(_released()))
def test_the_released_schema_still_has_its_released_fingerprint(message_type: str) -> None:
    computed = _baseline_fingerprints().get(message_type)
    assert computed == _released()[message_type], (
        f"{message_type} of schemas/baseline.binpb now fingerprints as {computed}, but it was "
        f"released as {_released()[message_type]}. Either the canonical form in "
        "runtime/schema/fingerprint.py changed (every deployed reader would dead-letter this "
        "type's entries as fingerprint-mismatch: revert it, or make it a new wire-format "
        "version), or a new baseline was released on purpose (review the change and update "
        f"{RELEASED.name} by hand)."
    )


def test_every_released_type_is_pinned() -> None:
    unpinned = sorted(set(_baseline_fingerprints()) - set(_released()))
    assert not unpinned, (
        f"types released in schemas/baseline.binpb without a pinned fingerprint: {unpinned}; "
        f"after review, add their fingerprints to {RELEASED.name}"
    )
