"""End to end on a real server with two VPIN processes (`nautilus up --replicas vpin=2`): the
replicas split VPIN's streams under leases, and the run raises exactly the alerts one VPIN
raises on the same market, each handled by Risk, Strategy and Analytics."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import redis

from nautilus.engines.run_settings import RunSettings
from nautilus.engines.vpin.core import VpinCalculator
from nautilus.engines.vpin.service import vpin_config
from nautilus.marketdata.v1.marketdata_pb2 import Trade
from tests.engines_e2e.up_command import nautilus_up

pytestmark = pytest.mark.slow

SETTINGS = RunSettings(scenario="flash-crash", duration_s=15, speed=40)


def one_vpin_alerts(settings: RunSettings) -> Counter[str]:
    """What a single VPIN raises on the run's market: the calculator fed every event in order."""
    core = VpinCalculator(vpin_config(settings))
    raised: Counter[str] = Counter()
    for _, message in settings.market():
        outputs = (
            core.on_trade(message, 0) if isinstance(message, Trade) else core.on_quote(message, 0)
        )
        raised.update(f"{out.DESCRIPTOR.name}:{out.instrument_id}" for out in outputs)
    return raised


@pytest.fixture(scope="module")
def replicated_run(tmp_path_factory: pytest.TempPathFactory, session_server: Any) -> dict[str, Any]:
    session_server.verify_owned()
    with redis.Redis.from_url(session_server.url) as connection:
        connection.flushall()
    workdir = tmp_path_factory.mktemp("up-replicas")
    report = workdir / "flash-crash.json"
    result = nautilus_up(
        workdir,
        "--scenario", SETTINGS.scenario,
        "--speed", str(SETTINGS.speed),
        "--duration", str(SETTINGS.duration_s),
        "--redis-url", session_server.url,
        "--ports", "auto",
        "--replicas", "vpin=2",
        "--quiet",
        "--report", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(report.read_text())
    assert data["run"]["replicas"] == {"vpin": 2}
    data["logs"] = {
        name: (workdir / ".nautilus" / "run" / f"{name}.log").read_text()
        for name in ("vpin", "vpin.2")
    }
    return data


def test_two_vpin_replicas_raise_the_alerts_of_one_vpin(replicated_run: dict[str, Any]) -> None:
    alerts = replicated_run["alerts"]
    assert replicated_run["run"]["missing_summaries"] == []
    assert Counter(alerts["by_type_and_instrument"]) == one_vpin_alerts(SETTINGS)
    assert alerts["first_flash_crash_warning"]["instrument_id"] == "BTCUSDT.BINANCE"
    raised = {
        "ToxicityAlert": alerts["toxicity_alerts"],
        "FlashCrashWarning": alerts["flash_crash_warnings"],
    }
    for engine in ("risk", "strategy", "analytics"):
        assert alerts["handled"][engine] == raised


def test_the_replicas_together_consume_vpins_streams_once(replicated_run: dict[str, Any]) -> None:
    for stream, counts in replicated_run["streams"].items():
        assert counts["dead_lettered"] == 0
        if "vpin" in counts["consumed"]:
            assert counts["consumed"]["vpin"] == counts["published"], stream
    assert replicated_run["delivery"]["every_group_read_everything"]


def test_both_replicas_held_streams(replicated_run: dict[str, Any]) -> None:
    for name, log in replicated_run["logs"].items():
        assert "now holds" in log, name
