"""`nautilus up --backtest`: the twelve engines in one process on a test clock. Two runs of the
same scenario write byte-identical reports, and the report says what the live run says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nautilus.contract import bus_message_classes
from nautilus.engines.catalog import ENGINES
from nautilus.runtime.routing import message_spec
from tests.engines_e2e.up_command import nautilus_up

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The flash-crash scenario backtested twice, each run in a fresh process."""
    reports = []
    for name in ("first", "second"):
        workdir = tmp_path_factory.mktemp(name)
        result = nautilus_up(workdir, "--backtest", "--quiet", "--report", "report.json")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "final PnL" in result.stdout
        reports.append((workdir / "report.json").read_bytes())
    return reports[0], reports[1]


def test_two_backtests_of_a_scenario_write_byte_identical_reports(
    two_reports: tuple[bytes, bytes],
) -> None:
    first, second = two_reports
    assert first == second


def test_the_backtest_report_is_json_about_the_whole_scenario(
    two_reports: tuple[bytes, bytes],
) -> None:
    report: dict[str, Any] = json.loads(two_reports[0])
    assert report["run"]["mode"] == "backtest"
    assert report["run"]["market_seconds_replayed"] == 600.0
    assert report["alerts"]["flash_crash_warnings"] >= 1
    assert report["orders"]["opened_while_gated"] == 0
    assert report["pnl"]["final"]["currency"] == "USDT"
    assert report["latency_ms"]["clock"] == "test"


def test_every_engine_consumed_everything_published_on_its_streams(
    two_reports: tuple[bytes, bytes],
) -> None:
    streams: dict[str, Any] = json.loads(two_reports[0])["streams"]
    routes = [message_spec(cls).route for cls in bus_message_classes().values()]
    assert set(streams) == {route.stream for route in routes}
    consuming_groups = {
        (route.stream, group) for route in routes for group in route.consumers if group in ENGINES
    }
    checked = {
        (stream, group) for stream, counts in streams.items() for group in counts["consumed"]
    }
    assert checked == consuming_groups
    assert sum(sum(counts["published"].values()) for counts in streams.values()) > 0
    for stream, group in sorted(checked):
        counts = streams[stream]
        assert counts["consumed"][group] == counts["published"], (stream, group)


def test_a_backtest_needs_no_server_and_leaves_nothing_behind(tmp_path: Path) -> None:
    result = nautilus_up(tmp_path, "--backtest", "--duration", "2", "--report", "r.json")

    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["run"]["market_seconds_replayed"] == 40.0
    assert not (tmp_path / ".nautilus").exists()
