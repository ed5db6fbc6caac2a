"""The generated AsyncAPI 3.0 document: valid, complete, and consistent with the routes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from nautilus.codegen.render.asyncapi import ASYNCAPI_PATH
from nautilus.contract import fingerprints
from tests.contract.test_routing_matrix import MATRIX

REPO = Path(__file__).resolve().parents[2]
SPEC_SCHEMA = Path(__file__).parent / "testdata" / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((REPO / "generated" / ASYNCAPI_PATH).read_text())
    return result


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SPEC_SCHEMA.read_text()))


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_document_is_valid_asyncapi_3(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    assert document["asyncapi"] == "3.0.0"
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_an_operation_without_action_is_invalid(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    broken = copy.deepcopy(document)
    del broken["operations"]["vpin.publish_toxicity_alert"]["action"]
    assert not validator.is_valid(broken)


def test_every_stream_is_a_channel(document: dict[str, Any]) -> None:
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {stream for stream, _, _ in MATRIX.values()}


def test_every_route_is_one_send_and_one_receive_per_consumer(document: dict[str, Any]) -> None:
    expected = set()
    for producer, (_, names, consumers) in MATRIX.items():
        for name in names:
            expected.add((producer, "send", name))
            expected.update((consumer, "receive", name) for consumer in consumers)
    actual = set()
    for operation in document["operations"].values():
        (message_ref,) = operation["messages"]
        message = _resolve(document, _resolve(document, message_ref["$ref"])["$ref"])
        actual.add((operation["x-nautilus-engine"], operation["action"], message["title"]))
    assert actual == expected


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#/$defs") and ref != "#":
                refs.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in document.items() if k != "components"})
    assert refs
    for ref in refs:
        _resolve(document, ref)


def test_messages_carry_their_fingerprint_and_payload_schema(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    assert set(messages) == set(fingerprints())
    for full_name, message in messages.items():
        assert message["x-nautilus-fingerprint"] == fingerprints()[full_name]
        assert message["payload"]["schema"]["$id"] == f"urn:nautilus:schema:{full_name}"
        assert message["headers"]["properties"]["t"]["const"] == full_name
