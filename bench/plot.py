"""The latency plot: HDR-style percentile distributions of ours, the floor and the peers, as a PNG.

The x axis is the percentile on a log scale of 1/(1-p) (so p99, p99.9 are spread out, where the
targets live) and the y axis the latency in microseconds, from the histograms merged over all
rounds: ours at each offered rate (solid), the CRITICAL lane under bulk load, the bare floor
(dashed) and each peer (dotted).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["write_plot"]

_TICKS = (0.0, 50.0, 90.0, 99.0, 99.9, 99.99)


def _x(percentile: float) -> float:
    return 1.0 / max(1.0 - percentile / 100.0, 1e-5)


def _label(name: str, report: dict[str, Any]) -> tuple[str, str]:
    """Legend text and line style of curve `name` ("ours 10000", "floor 10000", "critical", ...)."""
    critical_rate = int(report["settings"]["critical_rate"])
    if name == "critical":
        return f"ours: CRITICAL {critical_rate}/s, bulk saturated", "-"
    if name == "critical-process":
        return f"ours: CRITICAL {critical_rate}/s, bulk saturated, reader in a process", "-."
    if name == "critical-os-priority":
        return (
            f"ours: CRITICAL {critical_rate}/s, bulk saturated, reader process SCHED_FIFO, "
            "server nice -10",
            "-.",
        )
    who, _, rate = name.rpartition(" ")
    offered = f"{int(rate):,} msg/s"
    if who == "ours":
        return f"ours: {offered}", "-"
    if who == "floor":
        return f"floor (bare hiredis, no bus): {offered}", "--"
    return f"{who}: {offered}", ":"


def write_plot(report: dict[str, Any], path: Path) -> None:
    """Draw `report`'s latency curves into `path` (PNG, matplotlib's Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 7), dpi=110)
    for name, points in report["curves"].items():
        if points:
            label, style = _label(name, report)
            axes.plot([_x(p) for p, _ in points], [v for _, v in points], style, label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks([_x(p) for p in _TICKS])
    axes.set_xticklabels([f"p{p:g}" for p in _TICKS])
    axes.axhline(1000, color="grey", linestyle=":", linewidth=1)
    axes.axhline(2000, color="grey", linestyle="--", linewidth=1)
    axes.set_xlabel("percentile")
    axes.set_ylabel("publish → handler latency (µs)")
    server = report["server"]
    axes.set_title(
        f"Publish → handler latency ({server['name']} {server['version']}, "
        f"{report['machine']['cpu_count']} CPUs, {len(report['rounds'])} rounds merged)"
    )
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize="small")
    if not math.isfinite(axes.get_ylim()[1]):
        axes.set_ylim(10, 1e6)
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
