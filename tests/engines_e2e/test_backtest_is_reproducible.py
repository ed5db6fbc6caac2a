"""`nautilus up --backtest`: the twelve engines in one process on a test clock. Two runs of the
same scenario write byte-identical reports, and the report says what the live run says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
    for counts in report["streams"].values():
        for consumed in counts["consumed"].values():
            assert consumed == counts["published"]


def test_a_backtest_needs_no_server_and_leaves_nothing_behind(tmp_path: Path) -> None:
    result = nautilus_up(tmp_path, "--backtest", "--duration", "2", "--report", "r.json")

    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["run"]["market_seconds_replayed"] == 40.0
    assert not (tmp_path / ".nautilus").exists()
