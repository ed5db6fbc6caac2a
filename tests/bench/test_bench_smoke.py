"""`nautilus bench` runs end to end and writes a complete, machine-readable report.

A smoke test only: a tiny configuration against the session server. It asserts what the report
contains, never how fast anything was (the figures of a one-second run on a shared machine mean
nothing; docs/performance.md has the real ones).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nautilus.bench.machine import load_average, machine_info, package_versions, server_info
from nautilus.bench.plot import write_plot
from nautilus.bench.report import TARGETS, build_report, render_text, write_json
from nautilus.bench.runner import run_bench
from nautilus.bench.settings import BenchSettings
from nautilus.cli.main import build_parser
from nautilus.runtime.server import EmbeddedServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(session_server: EmbeddedServer) -> dict:
    settings = BenchSettings.tiny()
    results = run_bench(session_server.url, settings, progress=lambda _: None)
    return build_report(
        results,
        settings,
        server=server_info(session_server.url),
        machine=machine_info(),
        versions=package_versions(),
        load_before=load_average(),
        load_after=load_average(),
        notes=[],
    )


def test_the_json_report_holds_every_figure_the_issue_asks_for(
    report: dict, tmp_path: Path
) -> None:
    path = tmp_path / "out.json"
    write_json(report, path)
    written = json.loads(path.read_text())

    median = written["median"]
    assert {"redis_py_pipeline", "hiredis_packed", "typed_publish_awaited"} <= set(
        median["publish"]
    )
    assert all(rate > 0 for rate in median["publish"].values())
    assert median["ratios"]["typed_publish_vs_redis_py_pipeline"] > 0
    assert median["end_to_end"]["rate"] > 0
    assert {"p50_us", "p99_us", "p99_9_us"} <= set(median["latency"]["1000"])
    assert median["critical"]["received"] == median["critical"]["sent"] > 0


def test_every_target_is_judged_against_its_bound(report: dict) -> None:
    assert TARGETS
    assert set(report["targets"]) == {target.name for target in TARGETS}
    for target in TARGETS:
        verdict = report["targets"][target.name]
        figure = report["median"]
        for key in target.path:
            figure = figure[key]
        assert verdict["value"] == float(figure)
        meets = figure >= target.bound if target.at_least else figure <= target.bound
        assert verdict["passed"] is meets, target.name


def test_the_report_names_the_machine_and_the_versions(report: dict) -> None:
    assert report["machine"]["cpu_count"] >= 1
    assert report["machine"]["cpu_model"]
    assert {"python", "redis", "hiredis", "protobuf"} <= set(report["versions"])
    assert report["server"]["version"]


def test_every_message_landed_in_every_round(report: dict) -> None:
    results = [result for figures in report["rounds"] for result in figures["latency"].values()]
    assert len(report["rounds"]) == BenchSettings.tiny().rounds
    assert results
    assert all(result["sent"] > 0 for result in results)
    assert [result["received"] for result in results] == [result["sent"] for result in results]


def test_the_text_summary_and_the_plot_are_written(report: dict, tmp_path: Path) -> None:
    text = render_text(report)
    assert "Targets" in text
    assert "typed_publish_awaited" in text
    plot = tmp_path / "latency.png"
    write_plot(report, plot)
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_the_command_accepts_the_documented_options() -> None:
    args = build_parser().parse_args(["bench", "--quick", "--json", "out.json", "--plot", "p.png"])
    assert (args.quick, args.json, args.plot) == (True, "out.json", "p.png")
