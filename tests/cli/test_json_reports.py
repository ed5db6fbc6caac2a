"""`--json` on the commands that report without a server: `contract` and `schema compat`."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import RunCli

COMPAT_CASES = Path(__file__).resolve().parents[1] / "schema" / "testdata" / "compat"


def test_contract_json_lists_each_stream_with_its_routes(cli: RunCli) -> None:
    result = cli("contract", "--json")

    document = json.loads(result.out)
    streams = {s["stream"]: s["messages"] for s in document["streams"]}
    alerts = {m["type"]: m for m in streams["nautilus-vpin-streams"]}
    toxicity = alerts["nautilus.vpin.v1.ToxicityAlert"]
    assert result.status == 0
    assert toxicity["producer"] == "vpin"
    assert "risk" in toxicity["consumers"]
    assert {"name": "vpin", "port": 10001}.items() <= next(
        e for e in document["engines"] if e["name"] == "vpin"
    ).items()


def test_schema_compat_json_gives_the_verdict_and_each_violation(cli: RunCli) -> None:
    case = COMPAT_CASES / "route_partitions_changed"

    result = cli("schema", "compat", str(case / "old"), str(case / "new"), "--json")

    document = json.loads(result.out)
    assert result.status == 1
    assert document["compatible"] is False
    assert (document["mode"], document["level"]) == ("full", "wire_json")
    assert [v["rule"] for v in document["violations"]] == ["ROUTE_PARTITIONS_CHANGED"]
    assert document["violations"][0]["location"].startswith("nautilus.vpin.v1.")


def test_schema_compat_json_of_compatible_contracts_has_no_violations(cli: RunCli) -> None:
    case = COMPAT_CASES / "comments_and_order_only"

    result = cli("schema", "compat", str(case / "old"), str(case / "new"), "--json")

    assert result.status == 0
    assert json.loads(result.out) == {
        "old": str(case / "old"),
        "new": str(case / "new"),
        "mode": "full",
        "level": "wire_json",
        "compatible": True,
        "violations": [],
    }
