"""The routing options have one reader: codegen, the runtime and the engines agree by construction,
and what they generate says where it came from."""

from __future__ import annotations

from pathlib import Path

from nautilus.cli.contract_command import load_generated_contract
from nautilus.clients.vpin import VPINClient
from nautilus.contract import bus_message_classes
from nautilus.engines.catalog import engine_port
from nautilus.runtime.routing import message_spec
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"


def test_runtime_routes_are_the_codegen_model_routes() -> None:
    contract = load_generated_contract()
    for full_name, cls in bus_message_classes().items():
        model = contract.message(full_name).route
        runtime = message_spec(cls).route
        assert model is not None
        assert (runtime.stream, runtime.producer) == (model.stream, model.producer)
        assert runtime.consumers == frozenset(model.consumers)
        assert runtime.priority.name == model.priority
        assert runtime.best_effort_consumers == {
            c for c in model.consumers if model.best_effort_for(c)
        }


def test_engine_ports_come_from_the_same_reader() -> None:
    contract = load_generated_contract()
    for engine in contract.engines:
        if not engine.external:
            assert engine_port(engine.name) == engine.port


def test_a_generated_client_hands_its_published_types_to_the_runtime() -> None:
    client = VPINClient.create(redis_url="redis://127.0.0.1:1/0")

    assert (FlashCrashWarning, ToxicityAlert) == VPINClient.PUBLISHES
    assert client.bus.published_types() == VPINClient.PUBLISHES


def test_generated_python_says_it_is_generated_and_from_which_schemas() -> None:
    unmarked = []
    for path in sorted(GENERATED.rglob("*.py*")):
        if path.suffix not in (".py", ".pyi") or "__pycache__" in path.parts:
            continue
        head = "\n".join(path.read_text().splitlines()[:4])
        if "@generated" not in head or "schemas/" not in head:
            unmarked.append(str(path.relative_to(ROOT)))
    assert unmarked == []


def test_gitattributes_marks_generated_as_generated() -> None:
    lines = (ROOT / ".gitattributes").read_text().splitlines()
    assert "generated/** linguist-generated=true" in lines
