"""Key layout 2 (docs/wire-format.md): every key of a stream, and every key of the schema registry,
hashes to one Redis Cluster slot, so no command or script of the bus ever spans two slots."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from nautilus.contract import bus_message_classes, fingerprints
from nautilus.runtime.lanes import (
    KEY_LAYOUT_VERSION,
    bulk_lane,
    dead_letter_stream,
    hash_tag,
    priority_lane,
    replayed_key,
    retry_lane,
    stream_keys,
    stream_of_key,
)
from nautilus.runtime.routing import message_spec
from nautilus.runtime.schema.registry import REGISTRY_PREFIX
from nautilus.runtime.schema.registry_writes import RegistryKeys

VPIN = "nautilus-vpin-streams"


def _routes() -> dict[str, tuple[str, ...]]:
    """Each route stream of the contract and the consumer groups that read it."""
    routes: dict[str, set[str]] = {}
    for cls in bus_message_classes().values():
        route = message_spec(cls).route
        routes.setdefault(route.stream, set()).update(route.consumers)
    return {stream: tuple(sorted(groups)) for stream, groups in sorted(routes.items())}


def _slot(key: str) -> int:
    return int(key_slot(key.encode()))


def test_layout_2_keeps_the_bulk_lane_key_and_tags_the_others() -> None:
    assert KEY_LAYOUT_VERSION == 2
    assert bulk_lane(VPIN) == "nautilus-vpin-streams"
    assert priority_lane(VPIN) == "{nautilus-vpin-streams}:urgent"
    assert dead_letter_stream(VPIN) == "{nautilus-vpin-streams}:dead-letter"
    assert retry_lane(VPIN, "risk") == "{nautilus-vpin-streams}:retry:risk"
    assert replayed_key(VPIN) == "{nautilus-vpin-streams}:dead-letter:replayed"


@pytest.mark.parametrize(("stream", "groups"), list(_routes().items()))
def test_every_key_of_a_routed_stream_is_in_the_bulk_lanes_slot(
    stream: str, groups: tuple[str, ...]
) -> None:
    keys = stream_keys(stream, groups)
    assert len(keys) == 4 + len(groups)
    assert {key: _slot(key) for key in keys} == dict.fromkeys(keys, _slot(stream))


@pytest.mark.parametrize(("stream", "groups"), list(_routes().items()))
def test_every_key_of_a_routed_stream_names_its_stream(
    stream: str, groups: tuple[str, ...]
) -> None:
    assert {stream_of_key(key) for key in stream_keys(stream, groups)} == {stream}


@pytest.mark.parametrize(
    "key",
    [
        "{nautilus-vpin-streams}:retry:risk}",  # a closing brace too many
        "{nautilus-vpin-streams:urgent",  # a hash tag never closed
        "{}nautilus-vpin-streams",  # an empty hash tag
    ],
)
def test_a_malformed_key_names_a_stream_in_its_own_slot(key: str) -> None:
    """Keys are grouped by the stream they name so that no command spans two slots; a key that
    is not of the layout (an operator's typo, another program's key) still names a stream that
    hashes where the key does: the text up to the first closing brace, else the whole key."""
    assert _slot(stream_of_key(key)) == _slot(key)


def test_the_contracts_streams_spread_over_several_slots() -> None:
    slots = {_slot(stream) for stream in _routes()}
    assert len(slots) == len(_routes())


def test_every_registry_key_of_the_contract_is_in_one_slot() -> None:
    keys = RegistryKeys(REGISTRY_PREFIX)
    names = [keys.types, keys.mode(None)]
    for full_name, fingerprint in fingerprints().items():
        names += [keys.versions(full_name), keys.mode(full_name), keys.schema(fingerprint)]
    assert all(name.startswith("{nautilus:schema}:") for name in names)
    assert {_slot(name) for name in names} == {_slot("nautilus:schema")}


def test_a_registry_prefix_without_braces_becomes_a_hash_tag() -> None:
    keys = RegistryKeys("staging:schema")
    assert keys.types == "{staging:schema}:types"
    assert _slot(keys.versions("nautilus.vpin.v1.ToxicityAlert")) == _slot(keys.types)


@pytest.mark.parametrize(
    "name", ["", "nautilus-{vpin}-streams", "nautilus-{vpin-streams", "nautilus-vpin-streams}"]
)
def test_a_stream_name_that_would_change_the_hash_tag_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="no braces"):
        hash_tag(name)
