"""The report: targets judged against the medians, the JSON document, and a plain-text table."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nautilus.bench.runner import BenchResults
from nautilus.bench.settings import BenchSettings

__all__ = [
    "TARGETS",
    "Target",
    "build_report",
    "build_scale_out_report",
    "render_scale_out",
    "render_text",
    "write_json",
]

#: Report format version: bumped when a figure is renamed or removed.
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Target:
    """One performance target: a figure from the medians and the bound it must meet.

    An `optional` target (a peer's ratio) is judged only when its figure was measured.
    """

    name: str
    description: str
    path: tuple[str, ...]
    bound: float
    at_least: bool
    unit: str
    optional: bool = False

    def value(self, median: dict[str, Any]) -> float | None:
        node: Any = median
        for key in self.path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return float(node)

    def judge(self, median: dict[str, Any]) -> dict[str, Any]:
        value = self.value(median)
        if value is None or math.isnan(value):
            passed = None
        else:
            passed = value >= self.bound if self.at_least else value <= self.bound
        return {
            "description": self.description,
            "value": value,
            "bound": self.bound,
            "comparison": ">=" if self.at_least else "<=",
            "unit": self.unit,
            "passed": passed,
        }


TARGETS = (
    Target(
        "typed_publish_ratio",
        "typed publish ≥ 1.6x redis-py pipeline (landed)",
        ("ratios", "typed_publish_vs_redis_py_pipeline"),
        1.6,
        True,
        "x",
    ),
    Target(
        "end_to_end_vs_floor",
        "end to end ≥ 0.7x the bare hiredis consumer floor",
        ("ratios", "end_to_end_vs_floor"),
        0.7,
        True,
        "x",
    ),
    Target(
        "latency_p99_at_10k_vs_floor",
        "p99 at 10K msg/s ≤ 2.5x the bare XADD → XREADGROUP floor's",
        ("ratios", "latency_p99_at_10k_vs_floor"),
        2.5,
        False,
        "x",
    ),
    Target(
        "critical_p99_under_bulk_load",
        "CRITICAL p99 ≤ 2 ms while bulk saturates the bus",
        ("critical", "p99_us"),
        2_000,
        False,
        "µs",
    ),
    Target(
        "fanout_server_us_per_group_delivery",
        "server CPU ≤ 2.0 µs per quote per group (11-group fan-out)",
        ("fanout", "server_us_per_group_delivery"),
        2.0,
        False,
        "µs",
    ),
    Target(
        "typed_publish_vs_nautilustrader",
        "typed publish ≥ 4x NautilusTrader's MessageBus (landed)",
        ("ratios", "typed_publish_vs_nautilustrader"),
        4.0,
        True,
        "x",
        optional=True,
    ),
    Target(
        "end_to_end_vs_nautilustrader",
        "end to end ≥ 3x NautilusTrader's MessageBus + stream reader",
        ("ratios", "end_to_end_vs_nautilustrader"),
        3.0,
        True,
        "x",
        optional=True,
    ),
)


def build_report(
    results: BenchResults,
    settings: BenchSettings,
    *,
    server: dict[str, Any],
    machine: dict[str, Any],
    versions: dict[str, Any],
    load_before: list[float],
    load_after: list[float],
    notes: list[str],
) -> dict[str, Any]:
    """Everything measured, the ratios, the targets with pass/fail, and the context."""
    median = results["median"]
    report = {
        **_context(settings, machine, versions, load_before, load_after),
        "server": {**server, **results.get("server", {})},
        "median": median,
        "ratios": median["ratios"],
        "targets": {
            target.name: target.judge(median)
            for target in TARGETS
            if not target.optional or target.value(median) is not None
        },
        "rounds": results["rounds"],
        "histograms": results["histograms"],
        "curves": results["curves"],
        "elapsed_s": results["elapsed_s"],
        "notes": [*notes, *results.get("skipped", [])],
    }
    if "scale_out" in results:
        report["scale_out"] = results["scale_out"]
    return report


def build_scale_out_report(
    results: BenchResults,
    settings: BenchSettings,
    *,
    machine: dict[str, Any],
    versions: dict[str, Any],
    load_before: list[float],
    load_after: list[float],
) -> dict[str, Any]:
    """The report of `nautilus bench --only scale-out`: the section and its context."""
    report = {
        **_context(settings, machine, versions, load_before, load_after),
        "elapsed_s": results["elapsed_s"],
        "notes": results.get("skipped", []),
    }
    if "scale_out" in results:
        report["scale_out"] = results["scale_out"]
    return report


def write_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _rate(value: float) -> str:
    return f"{value / 1000:,.1f}K/s"


def _us(value: float) -> str:
    return f"{value:,.0f} µs"


def _latency_row(label: str, s: dict[str, Any]) -> tuple[str, ...]:
    return (
        label,
        _us(s["p50_us"]),
        _us(s["p90_us"]),
        _us(s["p99_us"]),
        _us(s["p99_9_us"]),
        _us(s["max_us"]),
    )


def _publish_lines(report: dict[str, Any]) -> list[str]:
    median = report["median"]
    spread = {name: [r["publish"][name] for r in report["rounds"]] for name in median["publish"]}
    rows: list[tuple[str, ...]] = [("publisher", "median", "min", "max")]
    for name, value in median["publish"].items():
        rows.append((name, _rate(value), _rate(min(spread[name])), _rate(max(spread[name]))))
    lines = ["Publish throughput (landed in Redis; median [min..max] over rounds)", *_table(rows)]
    lines += ["", "Ratios (ours / reference, per round, median; latency: lower is better)"]
    ratio_rows: list[tuple[str, ...]] = [("ratio", "x")]
    ratio_rows += [(k, f"{v:.2f}") for k, v in median["ratios"].items()]
    return lines + _table(ratio_rows)


def _end_to_end_lines(median: dict[str, Any]) -> list[str]:
    rows: list[tuple[str, ...]] = [("end to end (2 processes)", "handled", "publisher landed")]
    references = [("ours: typed publish → group → typed handler → ack", median["end_to_end"])]
    references.append(("floor: hiredis XADD → XREADGROUP + XACK", median["floor"]["end_to_end"]))
    for name, peer in median.get("peers", {}).items():
        references.append((f"peer: {name}", peer["end_to_end"]))
    for label, e2e in references:
        rows.append((label, _rate(e2e["rate"]), _rate(e2e["publisher_landed_rate"])))
    cpu = median["consumer_cpu_us_per_message"]
    return [
        "End to end",
        *_table(rows),
        f"Consumer CPU per message, draining a filled stream: ours {cpu['ours']:.2f} µs, "
        f"floor {cpu['floor']:.2f} µs",
    ]


def _latency_lines(report: dict[str, Any]) -> list[str]:
    median = report["median"]
    rows: list[tuple[str, ...]] = [("publish → handler", "p50", "p90", "p99", "p99.9", "max")]
    for rate, s in median["latency"].items():
        rows.append(_latency_row(f"ours {int(rate):,}/s", s))
    for rate, s in median["floor"].get("latency", {}).items():
        rows.append(_latency_row(f"floor {int(rate):,}/s", s))
    for name, peer in median.get("peers", {}).items():
        for rate, s in peer.get("latency", {}).items():
            rows.append(_latency_row(f"{name} {int(rate):,}/s", s))
    c = median["critical"]
    rows.append(_latency_row(f"ours CRITICAL {int(c['rate'])}/s + bulk", c))
    if "critical_priority_process" in median:
        p = median["critical_priority_process"]
        rows.append(_latency_row("  same, priority reader in its own process", p))
    if "critical_os_priority" in median:
        o = median["critical_os_priority"]
        rows.append(_latency_row("  same, that process SCHED_FIFO, server nice -10", o))
    return [
        "Latency (medians over rounds)",
        *_table(rows),
        f"(bulk lane meanwhile: published {_rate(c['bulk_published_rate'])}, "
        f"consumed {_rate(c['bulk_consumed_rate'])}; the process handling CRITICAL waited "
        f"for a core {c.get('handler_run_queue_wait_share', 0.0):.0%} of the run)",
    ]


def _fanout_lines(median: dict[str, Any]) -> list[str]:
    f = median["fanout"]
    return [
        f"Quote fan-out to {int(f['groups'])} groups at {_rate(f['rate'])}: server CPU "
        f"{f['server_us_per_group_delivery']:.2f} µs per quote per group "
        f"({f['server_us_per_quote']:.1f} µs per quote; publishing alone "
        f"{f['publish_only_server_us_per_quote']:.1f} µs); per delivery "
        f"{f['xreadgroup_calls_per_delivery']:.3f} XREADGROUP, "
        f"{f['xack_calls_per_delivery']:.3f} XACK and "
        f"{f.get('xclaim_calls_per_delivery', 0.0):.3f} XCLAIM calls",
        f"Server floor per delivery per group (bare consumers draining in batches of 500): "
        f"{f['floor_server_us_per_group_delivery']:.2f} µs with XACK, "
        f"{f['floor_noack_server_us_per_group_delivery']:.2f} µs with XREADGROUP NOACK",
    ]


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _scale_out_lines(report: dict[str, Any]) -> list[str]:
    """One row per layout: CPU per delivery, the masters' shares and the projected ceiling."""
    section = report.get("scale_out")
    if section is None:
        return []
    median = section["median"]
    rows: list[tuple[str, ...]] = [
        (
            "layout",
            "µs/delivery/group",
            "publishing µs/quote",
            "share per master",
            "busiest µs/quote",
            "ceiling",
            "vs 1 server",
            "balanced",
        )
    ]
    first = next(iter(median.values()))
    for key, label in section["layouts"].items():
        f = median[key]
        shares = " / ".join(_percent(m["share"]) for m in f["per_master"].values())
        rows.append(
            (
                label,
                f"{f['server_us_per_group_delivery']:.2f}",
                f"{f['publish_only_server_us_per_quote']:.1f}",
                shares,
                f"{f['busiest_master_us_per_quote']:.1f}",
                _rate(f["ceiling_quotes_per_s"]),
                f"{f['ceiling_vs_one_server']:.2f}x",
                _rate(f["balanced_ceiling_quotes_per_s"]),
            )
        )
    runs = len(section["runs"])
    return [
        f"Scale-out: {int(first['groups'])}-group quote fan-out at {_rate(section['rate'])}, "
        f"{int(first['quotes']):,} quotes per layout, private {section['server']['binary']} "
        f"{section['server']['version']} servers (median of {runs} run{'s' if runs > 1 else ''})",
        *_table(rows),
        "ceiling: quotes/s at which the busiest master's thread is saturated (1 / its CPU per "
        "quote), reached with a free core per master; balanced: the partitioned route's work "
        "spread evenly over the masters; grouped: the same quotes in runs of one instrument, so "
        "that a publisher's batch holds one master's writes. "
        f"Projections: on this {report['machine']['cpu_count']}-core machine the masters share "
        "the cores.",
    ]


def render_scale_out(report: dict[str, Any]) -> str:
    """The summary of `nautilus bench --only scale-out`."""
    lines = [
        f"nautilus bench --only scale-out: {report['elapsed_s']:.0f} s; "
        f"{report['machine']['cpu_count']} x {report['machine']['cpu_model']}; "
        f"load {report['machine']['load_average_before']} → "
        f"{report['machine']['load_average_after']}",
        "",
        *_scale_out_lines(report),
    ]
    lines += [f"note: {note}" for note in report["notes"]]
    return "\n".join(lines)


def _topology(server: dict[str, Any]) -> str:
    """The header's mention of a cluster (its figures are per master); none for one server."""
    return f" ({server['topology']})" if server.get("kind") == "cluster" else ""


def _target_lines(report: dict[str, Any]) -> list[str]:
    rows: list[tuple[str, ...]] = [("target", "measured", "bound", "result")]
    for target in report["targets"].values():
        value = target["value"]
        shown = "n/a" if value is None else f"{value:,.2f} {target['unit']}"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[target["passed"]]
        bound = f"{target['comparison']} {target['bound']:,.1f} {target['unit']}"
        rows.append((target["description"], shown, bound, verdict))
    server = report["server"]
    title = "Targets"
    if server.get("kind") == "cluster":
        title = f"Targets (ratios per master: {server['topology']})"
    return [title, *_table(rows)]


def render_text(report: dict[str, Any]) -> str:
    """The human summary: throughput, ratios, end to end, latency, fan-out and the targets."""
    median = report["median"]
    lines = [
        f"nautilus bench: {len(report['rounds'])} rounds, {report['elapsed_s']:.0f} s; "
        f"{report['server']['name']} {report['server']['version']}"
        f"{_topology(report['server'])}; "
        f"{report['machine']['cpu_count']} x {report['machine']['cpu_model']}; "
        f"load {report['machine']['load_average_before']} → "
        f"{report['machine']['load_average_after']}",
        "",
        *_publish_lines(report),
        "",
        *_end_to_end_lines(median),
        "",
        *_latency_lines(report),
        "",
        *_fanout_lines(median),
        "",
        *_scale_out_lines(report),
        *([""] if "scale_out" in report else []),
        *_target_lines(report),
    ]
    for note in report["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _context(
    settings: BenchSettings,
    machine: dict[str, Any],
    versions: dict[str, Any],
    load_before: list[float],
    load_after: list[float],
) -> dict[str, Any]:
    """What every report opens with: when, with which settings, on which machine and versions."""
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": settings.as_dict(),
        "machine": {
            **machine,
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "versions": versions,
    }
