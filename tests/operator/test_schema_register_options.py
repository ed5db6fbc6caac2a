"""`nautilus schema register --all` and `--level`, checked on the registry's keys
(`{nautilus:schema}:types`, `{nautilus:schema}:versions:<type>`; docs/schema-registry.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from nautilus.contract import fingerprints

from .conftest import RunCli
from .test_schema_registry_cli import ALERT, edited_schemas

VERSIONS = "{nautilus:schema}:versions:"


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as connection:
        yield connection


def test_register_all_registers_every_bus_type_of_the_contract(
    run_cli: RunCli, server: redis.Redis
) -> None:
    result = run_cli("schema", "register", "--all", "--producer", "ops")

    assert result.status == 0, result.err
    contract = fingerprints()
    assert server.smembers("{nautilus:schema}:types") == set(contract)
    for name, fingerprint in contract.items():
        assert server.lrange(VERSIONS + name, 0, -1) == [fingerprint]
        assert server.hget(f"{{nautilus:schema}}:fp:{fingerprint}", "producer") == "ops"


def test_register_all_with_type_names_is_a_usage_error(
    run_cli: RunCli, server: redis.Redis
) -> None:
    result = run_cli("schema", "register", "--all", ALERT)

    assert result.status == 2
    assert server.keys("{nautilus:schema}:*") == []


def test_a_renamed_field_passes_at_wire_level_but_not_at_wire_json(
    run_cli: RunCli, server: redis.Redis, tmp_path: Path
) -> None:
    """Same number and type, new name: the binary encoding reads it, the JSON mapping does not."""
    renamed = edited_schemas(tmp_path, "double vpin = 2;", "double vpin_score = 2;")
    run_cli("schema", "register", ALERT)

    refused = run_cli("schema", "register", ALERT, "--from", str(renamed))
    assert refused.status == 1
    assert server.llen(VERSIONS + ALERT) == 1

    accepted = run_cli("schema", "register", ALERT, "--from", str(renamed), "--level", "wire")
    assert accepted.status == 0, accepted.out + accepted.err
    assert server.llen(VERSIONS + ALERT) == 2
