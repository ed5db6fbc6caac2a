"""Golden files: what the generators produce for a small contract using every field shape.

Regenerate them after an intended generator change with `make golden`, and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from nautilus.codegen import ContractModel, compile_descriptor_set, parse_contract
from nautilus.codegen.render.jsonschema import message_json_schema
from nautilus.codegen.render.pydantic_models import render_pydantic_models
from nautilus.codegen.render.typed_clients import render_typed_clients

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
SCHEMAS = HERE.parents[1] / "schemas"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
if UPDATE and os.environ.get("CI"):
    # Under CI an update would make every golden test pass by writing what it compares.
    raise RuntimeError(
        "UPDATE_GOLDEN=1 is refused under CI: update golden files with `make golden`"
    )


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> ContractModel:
    root = tmp_path_factory.mktemp("golden-schemas")
    shutil.copytree(HERE / "testdata" / "golden", root, dirs_exist_ok=True)
    for package in ("bus", "common"):
        shutil.copytree(SCHEMAS / "nautilus" / package, root / "nautilus" / package)
    return parse_contract(compile_descriptor_set(root))


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"missing golden file {path}; run `make golden`"
    assert actual == path.read_text(), f"{name} differs from its golden file; run `make golden`"


def test_json_schema_matches_golden(contract: ContractModel) -> None:
    schema = message_json_schema(contract, contract.message("nautilus.golden.v1.PriceAlert"))
    _compare("PriceAlert.schema.json", json.dumps(schema, indent=2) + "\n")


def test_pydantic_models_match_golden(contract: ContractModel) -> None:
    rendered = render_pydantic_models(contract)
    _compare("golden_json_models.py.txt", rendered["nautilus/golden/v1/json_models.py"].decode())


@pytest.mark.parametrize("engine", ["vpin", "risk"])
def test_typed_clients_match_golden(contract: ContractModel, engine: str) -> None:
    rendered = render_typed_clients(contract)
    _compare(f"clients_{engine}.py.txt", rendered[f"nautilus/clients/{engine}.py"].decode())


def test_golden_route_is_read_into_the_model(contract: ContractModel) -> None:
    route = contract.message("nautilus.golden.v1.PriceAlert").route
    assert route is not None
    assert (route.stream, route.producer, route.consumers, route.priority) == (
        "nautilus-vpin-streams",
        "vpin",
        ("risk",),
        "URGENT",
    )
