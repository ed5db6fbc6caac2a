"""`run_bench`: every scenario, several rounds, baselines and ours interleaved, on one server.

The machine is shared and noisy, so a single figure means little: each round runs the baselines
and our publisher back to back (in an order rotated per round, so none always runs first), ratios
are taken within a round, and the report gives the median over rounds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import redis

from nautilus.bench import baselines
from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.payloads import BULK_STREAM, quotes, wire_entries
from nautilus.bench.publish import typed_publish
from nautilus.bench.scenarios import (
    Workers,
    critical_latency,
    end_to_end_throughput,
    latency_at_rate,
    reset_streams,
)
from nautilus.bench.settings import BenchSettings

__all__ = ["BenchResults", "run_bench"]

BenchResults = dict[str, Any]
Progress = Callable[[str], None]

#: Ratios reported: ours / baseline, per round.
RATIOS = {
    "typed_publish_vs_redis_py_pipeline": ("typed_publish_awaited", "redis_py_pipeline"),
    "typed_publish_nowait_vs_redis_py_pipeline": ("typed_publish_nowait", "redis_py_pipeline"),
    "typed_publish_vs_hiredis_packed": ("typed_publish_awaited", "hiredis_packed"),
    "typed_publish_vs_faststream": ("typed_publish_awaited", "faststream_publish"),
}


def _landed_rate(url: str, count: int, write: Callable[[], float]) -> float:
    """Messages per second of `write`, after checking that all `count` entries are in Redis."""
    with redis.Redis.from_url(url) as client:
        client.unlink(BULK_STREAM)
        seconds = write()
        landed = int(client.xlen(BULK_STREAM))
        client.unlink(BULK_STREAM)
    if landed != count:
        raise RuntimeError(f"{count} messages sent but {landed} landed")
    return count / seconds


def _publish_round(url: str, settings: BenchSettings, index: int) -> dict[str, float]:
    messages = quotes()
    entries = wire_entries(messages)
    payloads = [entry[7] for entry in entries]
    n = settings.publish_count
    runs: list[tuple[str, int, Callable[[], float]]] = [
        (
            "redis_py_pipeline",
            n,
            lambda: baselines.redis_py_pipeline(url, BULK_STREAM, entries, n),
        ),
        ("hiredis_packed", n, lambda: baselines.hiredis_packed(url, BULK_STREAM, entries, n)),
        ("typed_publish_awaited", n, lambda: typed_publish(url, messages, n, "awaited")),
        ("typed_publish_nowait", n, lambda: typed_publish(url, messages, n, "nowait")),
    ]
    if settings.faststream and baselines.faststream_available():
        fs = settings.faststream_count
        runs.append(
            (
                "faststream_publish",
                fs,
                lambda: baselines.faststream_publish(url, BULK_STREAM, payloads, fs),
            )
        )
    shift = index % len(runs)
    rates: dict[str, float] = {}
    for name, count, write in runs[shift:] + runs[:shift]:
        rates[name] = _landed_rate(url, count, write)
    return rates


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _summaries_median(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    keys = summaries[0].keys()
    return {key: _median([s[key] for s in summaries]) for key in keys}


def run_bench(url: str, settings: BenchSettings, progress: Progress = print) -> BenchResults:
    """Run every scenario `settings.rounds` times; per-round figures and their medians."""
    started = time.monotonic()
    rounds: list[dict[str, Any]] = []
    merged = {rate: LatencyHistogram() for rate in settings.latency_rates}
    merged_critical = LatencyHistogram()
    workers = Workers.start()
    try:
        for index in range(settings.rounds):
            progress(f"round {index + 1}/{settings.rounds}: publish throughput")
            figures: dict[str, Any] = {"publish": _publish_round(url, settings, index)}
            publish = figures["publish"]
            figures["ratios"] = {
                name: publish[ours] / publish[base]
                for name, (ours, base) in RATIOS.items()
                if ours in publish and base in publish
            }
            progress(f"round {index + 1}/{settings.rounds}: end to end")
            e2e = end_to_end_throughput(url, workers, settings.end_to_end_count)
            figures["end_to_end"] = {
                "messages": e2e.messages,
                "seconds": e2e.seconds,
                "rate": e2e.rate,
                "publisher_landed_rate": e2e.messages / e2e.publisher_seconds,
            }
            figures["latency"] = {}
            for rate in settings.latency_rates:
                progress(f"round {index + 1}/{settings.rounds}: latency at {rate}/s")
                result = latency_at_rate(
                    url,
                    workers,
                    rate=rate,
                    duration_s=settings.latency_duration_s,
                    warmup_s=settings.warmup_s,
                    buffer_interval_ms=settings.latency_buffer_interval_ms,
                )
                merged[rate].add(result.histogram)
                figures["latency"][str(rate)] = {
                    "sent": result.sent,
                    "received": result.received,
                    **result.histogram.summary().as_dict(),
                }
            progress(f"round {index + 1}/{settings.rounds}: CRITICAL lane under bulk load")
            critical = critical_latency(
                url,
                workers,
                settings.critical_rate,
                settings.critical_duration_s,
                settings.warmup_s,
            )
            merged_critical.add(critical.histogram)
            figures["critical"] = {
                "rate": settings.critical_rate,
                "sent": critical.critical_sent,
                "received": critical.critical_received,
                "bulk_published_rate": critical.bulk_published_rate,
                "bulk_consumed_rate": critical.bulk_consumed_rate,
                **critical.histogram.summary().as_dict(),
            }
            rounds.append(figures)
    finally:
        workers.close()
        reset_streams(url)
    return {
        "rounds": rounds,
        "median": _medians(rounds),
        "histograms": {
            "latency": {str(rate): h.encode() for rate, h in merged.items()},
            "critical": merged_critical.encode(),
        },
        "curves": {
            "latency": {str(rate): h.percentile_curve() for rate, h in merged.items()},
            "critical": merged_critical.percentile_curve(),
        },
        "elapsed_s": round(time.monotonic() - started, 2),
    }


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    first = rounds[0]
    return {
        "publish": {
            name: _median([r["publish"][name] for r in rounds]) for name in first["publish"]
        },
        "ratios": {name: _median([r["ratios"][name] for r in rounds]) for name in first["ratios"]},
        "end_to_end": _summaries_median([r["end_to_end"] for r in rounds]),
        "latency": {
            rate: _summaries_median([r["latency"][rate] for r in rounds])
            for rate in first["latency"]
        },
        "critical": _summaries_median([r["critical"] for r in rounds]),
    }
