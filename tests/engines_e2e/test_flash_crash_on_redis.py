"""End to end on a real server, twelve engine processes: the flash-crash scenario's alerts reach
Risk, Strategy and Analytics, Strategy stops opening positions, every message published is
consumed by every consumer group the contract routes it to, and the report sets the alerts'
propagation beside its floor, measured by a probe that leaves nothing on the server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from nautilus.contract import bus_message_classes
from nautilus.engines.alert_probe import PROBE_KEY
from nautilus.runtime.lanes import lanes_in_read_order
from nautilus.runtime.routing import engine_info, message_spec
from tests.engines_e2e.up_command import nautilus_up

pytestmark = pytest.mark.slow

ALERT_RECEIVERS = ("risk", "strategy", "analytics")


def _routed_groups() -> dict[str, set[str]]:
    """Each stream's consumer groups per the contract (external parties have none)."""
    groups: dict[str, set[str]] = {}
    for cls in bus_message_classes().values():
        route = message_spec(cls).route
        consumers = {c for c in route.consumers if not engine_info(c).external}
        groups.setdefault(route.stream, set()).update(consumers)
    return groups


@pytest.fixture(scope="module")
def live_run(
    tmp_path_factory: pytest.TempPathFactory, session_server: Any
) -> tuple[dict[str, Any], str]:
    """One live run of the flash-crash scenario at 40x (ten minutes of market in 15 s)."""
    session_server.verify_owned()
    with redis.Redis.from_url(session_server.url) as connection:
        connection.flushall()
    workdir = tmp_path_factory.mktemp("up")
    report = workdir / "flash-crash.json"
    result = nautilus_up(
        workdir,
        "--scenario", "flash-crash",
        "--speed", "40",
        "--duration", "15",
        "--redis-url", session_server.url,
        "--ports", "auto",
        "--quiet",
        "--report", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (workdir / ".nautilus" / "server.url").exists()
    return json.loads(report.read_text()), session_server.url


def test_the_run_replays_the_whole_scenario_and_stops_on_its_duration(
    live_run: tuple[dict[str, Any], str],
) -> None:
    report, _ = live_run
    run = report["run"]
    assert (run["mode"], run["scenario"]) == ("live", "flash-crash")
    assert run["stopped_by"] in ("--duration 15 s reached", "the market ended")
    assert run["missing_summaries"] == []
    assert run["market_seconds_replayed"] > 210  # past the crash, a third into 600 s


def test_the_flash_crash_alerts_reach_risk_strategy_and_analytics(
    live_run: tuple[dict[str, Any], str],
) -> None:
    report, _ = live_run
    alerts = report["alerts"]
    warning = alerts["first_flash_crash_warning"]
    assert warning is not None
    assert warning["instrument_id"] == "BTCUSDT.BINANCE"
    raised = {
        "ToxicityAlert": alerts["toxicity_alerts"],
        "FlashCrashWarning": alerts["flash_crash_warnings"],
    }
    for engine in ALERT_RECEIVERS:
        assert alerts["handled"][engine] == raised
    latency = report["latency_ms"]["alert_propagation"]
    assert latency["all"]["count"] == 3 * sum(raised.values())


def test_the_report_sets_the_propagation_beside_its_floor(
    live_run: tuple[dict[str, Any], str],
) -> None:
    report, url = live_run
    latency = report["latency_ms"]
    floor = latency["alert_propagation_floor"]
    assert report["run"]["alert_probe"]["not_measured"] is None
    assert floor["count"] == report["run"]["alert_probe"]["received"] > 0
    assert 0 <= floor["p50"] <= floor["p90"] <= floor["p99"] <= floor["max"]
    assert latency["alert_propagation_p99_vs_floor"] > 0
    with redis.Redis.from_url(url) as connection:
        assert connection.exists(PROBE_KEY) == 0


def test_strategy_opens_no_position_while_an_alert_is_in_force(
    live_run: tuple[dict[str, Any], str],
) -> None:
    report, _ = live_run
    orders = report["orders"]
    assert orders["after_first_alert"] > 0  # it kept trading where no alert applied
    assert orders["opened_while_gated"] == 0
    assert report["alerts"]["strategy_first_alert_handled"] is not None


def test_every_routed_group_consumed_every_message_published(
    live_run: tuple[dict[str, Any], str],
) -> None:
    report, _ = live_run
    for stream, counts in report["streams"].items():
        assert counts["dead_lettered"] == 0
        for group, consumed in counts["consumed"].items():
            assert consumed == counts["published"], f"{group} on {stream}"
        assert set(counts["consumed"]) == _routed_groups()[stream]


def test_the_server_agrees_every_group_read_and_acknowledged_every_entry(
    live_run: tuple[dict[str, Any], str],
) -> None:
    report, url = live_run
    published = sum(sum(counts["published"].values()) for counts in report["streams"].values())
    written = 0
    with redis.Redis.from_url(url) as connection:
        for stream, routed in _routed_groups().items():
            for lane in lanes_in_read_order(stream):
                if not connection.exists(lane):  # never written, and no group to create it
                    assert not routed, lane
                    continue
                added = int(connection.xinfo_stream(lane)["entries-added"])
                written += added
                groups = {g["name"].decode(): g for g in connection.xinfo_groups(lane)}
                assert set(groups) == routed, lane
                for name, group in groups.items():
                    assert (group["entries-read"] or 0, group["pending"]) == (added, 0), (
                        f"{name} on {lane}"
                    )
    assert written == published
