"""`nautilus up --cluster 3`: the twelve engines on a private 3-master Redis Cluster, each as its
own ACL user, give the same report as on a single server: every alert handled by Risk, Strategy
and Analytics, every group read everything, nothing dead-lettered, no ACL denial."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.engines_e2e.up_command import nautilus_up

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("up-cluster")
    report = workdir / "report.json"
    result = nautilus_up(
        workdir,
        "--cluster", "3",
        "--scenario", "flash-crash",
        "--speed", "40",
        "--duration", "10",
        "--ports", "auto",
        "--quiet",
        "--report", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (workdir / ".nautilus" / "server.url").exists()
    loaded: dict[str, Any] = json.loads(Path(report).read_text())
    return loaded


def test_every_alert_is_handled_by_risk_strategy_and_analytics(
    cluster_run: dict[str, Any],
) -> None:
    alerts = cluster_run["alerts"]
    raised = {
        "ToxicityAlert": alerts["toxicity_alerts"],
        "FlashCrashWarning": alerts["flash_crash_warnings"],
    }
    assert raised["FlashCrashWarning"] >= 1
    for engine in ("risk", "strategy", "analytics"):
        assert alerts["handled"][engine] == raised


def test_every_group_reads_everything_and_nothing_is_dead_lettered(
    cluster_run: dict[str, Any],
) -> None:
    assert cluster_run["delivery"]["every_group_read_everything"] is True
    assert {s: v["dead_lettered"] for s, v in cluster_run["streams"].items()} == dict.fromkeys(
        cluster_run["streams"], 0
    )


def test_the_engines_identities_need_nothing_the_acl_does_not_grant(
    cluster_run: dict[str, Any],
) -> None:
    assert cluster_run["run"]["identities"] == "per-engine"
    assert cluster_run["acl_log"] == []


def test_the_floor_probe_finds_its_streams_node_as_its_own_users(
    cluster_run: dict[str, Any],
) -> None:
    floor = cluster_run["latency_ms"]["alert_propagation_floor"]
    assert floor["count"] > 0
    assert floor["p50"] <= floor["p99"]
