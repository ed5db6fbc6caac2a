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

__all__ = ["TARGETS", "Target", "build_report", "render_text", "write_json"]

#: Report format version: bumped when a figure is renamed or removed.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Target:
    """One performance target: a figure from the medians and the bound it must meet."""

    name: str
    description: str
    path: tuple[str, ...]
    bound: float
    at_least: bool
    unit: str

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
        "end_to_end_throughput",
        "end to end ≥ 100K msg/s (1 publisher + 1 consumer process)",
        ("end_to_end", "rate"),
        100_000,
        True,
        "msg/s",
    ),
    Target(
        "latency_p99_at_10k",
        "p99 ≤ 1 ms at 10K msg/s",
        ("latency", "10000", "p99_us"),
        1_000,
        False,
        "µs",
    ),
    Target(
        "critical_p99_under_bulk_load",
        "CRITICAL p99 ≤ 2 ms while bulk saturates the bus",
        ("critical", "p99_us"),
        2_000,
        False,
        "µs",
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
        "server": server,
        "median": median,
        "ratios": median["ratios"],
        "targets": {target.name: target.judge(median) for target in TARGETS},
        "rounds": results["rounds"],
        "histograms": results["histograms"],
        "curves": results["curves"],
        "elapsed_s": results["elapsed_s"],
        "notes": notes,
    }


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


def render_text(report: dict[str, Any]) -> str:
    """The human summary: throughput, ratios, latency tables and the targets."""
    median = report["median"]
    spread = {name: [r["publish"][name] for r in report["rounds"]] for name in median["publish"]}
    lines = [
        f"nautilus bench: {len(report['rounds'])} rounds, {report['elapsed_s']:.0f} s; "
        f"{report['server']['name']} {report['server']['version']}; "
        f"{report['machine']['cpu_count']} x {report['machine']['cpu_model']}; "
        f"load {report['machine']['load_average_before']} → "
        f"{report['machine']['load_average_after']}",
        "",
        "Publish throughput (landed in Redis; median [min..max] over rounds)",
    ]
    rows: list[tuple[str, ...]] = [("publisher", "median", "min", "max")]
    for name, value in median["publish"].items():
        rows.append((name, _rate(value), _rate(min(spread[name])), _rate(max(spread[name]))))
    lines += _table(rows)
    lines += ["", "Ratios (ours / baseline, per round, median)"]
    ratio_rows: list[tuple[str, ...]] = [("ratio", "x")]
    ratio_rows += [(k, f"{v:.2f}") for k, v in median["ratios"].items()]
    lines += _table(ratio_rows)
    e2e = median["end_to_end"]
    lines += [
        "",
        f"End to end (publish → group → typed handler → ack, 2 processes): {_rate(e2e['rate'])}"
        f" (publisher alone landed {_rate(e2e['publisher_landed_rate'])})",
        "",
        "Latency, publish → typed handler (medians over rounds)",
    ]
    rows = [("offered rate", "p50", "p90", "p99", "p99.9", "max")]
    for rate, s in median["latency"].items():
        rows.append(
            (
                f"{int(rate):,}/s",
                _us(s["p50_us"]),
                _us(s["p90_us"]),
                _us(s["p99_us"]),
                _us(s["p99_9_us"]),
                _us(s["max_us"]),
            )
        )
    c = median["critical"]
    rows.append(
        (
            f"CRITICAL {int(c['rate'])}/s + bulk",
            _us(c["p50_us"]),
            _us(c["p90_us"]),
            _us(c["p99_us"]),
            _us(c["p99_9_us"]),
            _us(c["max_us"]),
        )
    )
    lines += _table(rows)
    lines.append(
        f"(bulk lane meanwhile: published {_rate(c['bulk_published_rate'])}, "
        f"consumed {_rate(c['bulk_consumed_rate'])})"
    )
    lines += ["", "Targets"]
    rows = [("target", "measured", "bound", "result")]
    for target in report["targets"].values():
        value = target["value"]
        shown = "n/a" if value is None else f"{value:,.2f} {target['unit']}"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[target["passed"]]
        bound = f"{target['comparison']} {target['bound']:,.1f} {target['unit']}"
        rows.append((target["description"], shown, bound, verdict))
    lines += _table(rows)
    for note in report["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)
