"""`nautilus bench` runs end to end and writes a complete, machine-readable report.

A smoke test only: a tiny configuration against the session server. It asserts what the report
contains, never how fast anything was (the figures of a one-second run on a shared machine mean
nothing; docs/performance.md has the real ones).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nautilus.bench.machine import load_average, machine_info, package_versions, server_info
from nautilus.bench.os_priority import realtime_refusal
from nautilus.bench.peer_nautilustrader import nautilustrader_available
from nautilus.bench.plot import write_plot
from nautilus.bench.reference_scenarios import available_peers
from nautilus.bench.report import TARGETS, build_report, render_text, write_json
from nautilus.bench.runner import run_bench
from nautilus.bench.settings import BenchSettings
from nautilus.cli.main import build_parser
from nautilus.runtime.server import EmbeddedServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> Iterator[dict]:
    # A server of its own, as `nautilus bench` starts: other tests leave keys (even keys of the
    # wrong type, on purpose) in the session server.
    with EmbeddedServer() as server:
        yield _tiny_report(server.url, server.pid)


def _tiny_report(url: str, server_pid: int | None) -> dict:
    settings = BenchSettings.tiny()
    results = run_bench(url, settings, progress=lambda _: None, server_pid=server_pid)
    return build_report(
        results,
        settings,
        server=server_info(url),
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
    process = median["critical_priority_process"]
    assert process["received"] == process["sent"] > 0


def test_the_os_priority_variant_is_measured_where_allowed_else_said_why(report: dict) -> None:
    if realtime_refusal() is None:
        variant = report["median"]["critical_os_priority"]
        assert variant["received"] == variant["sent"] > 0
        assert "critical-os-priority" in report["curves"]
    else:
        assert "critical_os_priority" not in report["median"]
        assert any("CRITICAL with OS priority not measured" in note for note in report["notes"])


def test_every_target_is_judged_against_its_bound(report: dict) -> None:
    assert {target.name for target in TARGETS if not target.optional} <= set(report["targets"])
    assert {
        "typed_publish_ratio",
        "end_to_end_vs_floor",
        "latency_p99_at_10k_vs_floor",
        "critical_p99_under_bulk_load",
        "fanout_server_us_per_group_delivery",
    } <= set(report["targets"])
    by_name = {target.name: target for target in TARGETS}
    for name, verdict in report["targets"].items():
        target = by_name[name]
        figure: Any = report["median"]
        for key in target.path:
            figure = figure[key]
        assert verdict["value"] == float(figure), name
        meets = figure >= target.bound if target.at_least else figure <= target.bound
        assert verdict["passed"] is meets, name


def test_the_floor_is_measured_in_the_same_run(report: dict) -> None:
    floor = report["median"]["floor"]
    assert floor["end_to_end"]["rate"] > 0
    assert floor["latency"]["10000"]["received"] == floor["latency"]["10000"]["sent"] > 0
    assert report["ratios"]["end_to_end_vs_floor"] > 0
    assert report["ratios"]["latency_p99_at_10k_vs_floor"] > 0
    cpu = report["median"]["consumer_cpu_us_per_message"]
    assert cpu["ours"] > 0
    assert cpu["floor"] > 0


def test_the_fan_out_reports_server_cpu_per_delivery_per_group(report: dict) -> None:
    fanout = report["median"]["fanout"]
    assert fanout["groups"] == 11
    assert fanout["server_us_per_group_delivery"] > 0
    assert fanout["xreadgroup_calls_per_delivery"] > 0
    assert fanout["xack_calls_per_delivery"] > 0  # the groups that get trades at least once
    assert fanout["floor_server_us_per_group_delivery"] > 0
    assert fanout["floor_noack_server_us_per_group_delivery"] > 0


def test_nautilustrader_is_measured_when_installed_and_skipped_with_a_reason_otherwise(
    report: dict,
) -> None:
    if nautilustrader_available():
        assert {"typed_publish_vs_nautilustrader", "end_to_end_vs_nautilustrader"} <= set(
            report["targets"]
        )
        assert report["median"]["peers"]["nautilustrader"]["end_to_end"]["rate"] > 0
    else:
        assert "typed_publish_vs_nautilustrader" not in report["targets"]
        assert any(
            note.startswith("nautilustrader baseline skipped: nautilus_trader is not installed")
            for note in report["notes"]
        )


def test_a_peer_disabled_by_option_is_skipped_with_a_line_saying_so() -> None:
    run, skipped = available_peers({"nautilustrader": False, "faststream": False})
    assert run == []
    assert skipped == [
        "nautilustrader baseline skipped: disabled by option",
        "faststream baseline skipped: disabled by option",
    ]


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
    assert "floor: hiredis XADD" in text
    assert "Quote fan-out to 11 groups" in text
    assert {"ours 10000", "floor 10000", "critical"} <= set(report["curves"])
    plot = tmp_path / "latency.png"
    write_plot(report, plot)
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_the_command_accepts_the_documented_options() -> None:
    args = build_parser().parse_args(["bench", "--quick", "--json", "out.json", "--plot", "p.png"])
    assert (args.quick, args.json, args.plot) == (True, "out.json", "p.png")
