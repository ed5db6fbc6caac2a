"""Each engine's generated client offers exactly its routes: what it owns and what it is sent."""

from __future__ import annotations

import inspect

import pytest

from nautilus.clients import CLIENTS
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import message_spec
from tests.contract.test_routing_matrix import ENGINES, MATRIX
from tests.samples import bus_message_class


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _expected(engine: str) -> tuple[set[str], set[str]]:
    produced = set(MATRIX[engine][1])
    consumed = {n for _, names, consumers in MATRIX.values() if engine in consumers for n in names}
    return produced, consumed


def test_there_is_one_client_per_engine() -> None:
    assert set(CLIENTS) == set(ENGINES)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_client_methods_are_exactly_the_engines_routes(engine: str) -> None:
    client = CLIENTS[engine]
    produced, consumed = _expected(engine)
    publishes = {n for n in vars(client) if n.startswith("publish_") and not n.endswith("_nowait")}
    nowaits = {n.removesuffix("_nowait") for n in vars(client) if n.endswith("_nowait")}
    subscribes = {n for n in vars(client) if n.startswith("on_")}
    assert publishes == {f"publish_{_snake(_short(name))}" for name in produced}
    assert nowaits == publishes
    assert subscribes == {f"on_{_snake(_short(name))}" for name in consumed}


def _short(full_name: str) -> str:
    return full_name.rsplit(".", 1)[1]


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_publish_defaults_to_the_routes_priority(engine: str) -> None:
    client = CLIENTS[engine]
    for full_name in MATRIX[engine][1]:
        method = getattr(client, f"publish_{_snake(_short(full_name))}")
        default = inspect.signature(method).parameters["priority"].default
        route_priority = message_spec(bus_message_class(full_name)).route.priority
        assert default == route_priority
        assert isinstance(default, MessagePriority)


def test_docstrings_come_from_the_schema_comments() -> None:
    method = CLIENTS["vpin"].__dict__["publish_flash_crash_warning"]
    assert "the price has fallen fast while order flow is highly toxic" in (method.__doc__ or "")
    assert "Volume-synchronised probability" in (CLIENTS["vpin"].__doc__ or "")
