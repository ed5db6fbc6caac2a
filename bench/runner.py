"""`run_bench`: every scenario, several rounds, baselines and ours interleaved, on one server.

The machine is shared and noisy, so a single figure means little: each round runs the baselines
and our publisher back to back (in an order rotated per round, so none always runs first), ratios
are taken within a round, and the report gives the median over rounds.

On a cluster (the URL of any node), our clients get the URL as given and the references the
master owning the bench stream (bench/topology.py): every ratio is then per master.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import redis

from nautilus.bench import baselines
from nautilus.bench.fanout import fanout_server_cost
from nautilus.bench.floors import server_floor_per_delivery
from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.os_priority import realtime_refusal
from nautilus.bench.payloads import BULK_STREAM, quotes, wire_entries
from nautilus.bench.peer_nautilustrader import nautilustrader_publish
from nautilus.bench.publish import typed_publish
from nautilus.bench.reference_scenarios import (
    FLOOR,
    Peer,
    available_peers,
    consumer_cpu_per_message,
    reference_end_to_end,
    reference_latency,
)
from nautilus.bench.scaleout import run_scale_out
from nautilus.bench.scenarios import (
    Workers,
    critical_latency,
    end_to_end_throughput,
    latency_at_rate,
    reset_streams,
)
from nautilus.bench.settings import BenchSettings
from nautilus.bench.topology import BenchServer, inspect_server

__all__ = ["BenchResults", "run_bench", "run_scale_out_only"]

BenchResults = dict[str, Any]
Progress = Callable[[str], None]

#: Ratios reported: ours / baseline, per round.
RATIOS = {
    "typed_publish_vs_redis_py_pipeline": ("typed_publish_awaited", "redis_py_pipeline"),
    "typed_publish_nowait_vs_redis_py_pipeline": ("typed_publish_nowait", "redis_py_pipeline"),
    "typed_publish_vs_hiredis_packed": ("typed_publish_awaited", "hiredis_packed"),
    "typed_publish_vs_faststream": ("typed_publish_awaited", "faststream_publish"),
    "typed_publish_vs_nautilustrader": ("typed_publish_awaited", "nautilustrader_publish"),
}


def _landed_rate(stream_url: str, count: int, write: Callable[[], float]) -> tuple[float, int]:
    """Messages per second of `write`, after checking that all `count` entries are in Redis
    (XLEN on the server, or the master, holding the bench stream); (rate, entries landed)."""
    with redis.Redis.from_url(stream_url) as client:
        client.unlink(BULK_STREAM)
        seconds = write()
        landed = int(client.xlen(BULK_STREAM))
        client.unlink(BULK_STREAM)
    if landed != count:
        raise RuntimeError(f"{count} messages sent but {landed} landed")
    return count / seconds, landed


def _publish_round(
    server: BenchServer, settings: BenchSettings, index: int, peers: list[str]
) -> tuple[dict[str, float], dict[str, int]]:
    """Each publisher's rate, and how many entries XLEN found after each (the count sent)."""
    url, stream_url = server.url, server.stream_url
    messages = quotes()
    entries = wire_entries(messages)
    payloads = [entry[7] for entry in entries]
    n = settings.publish_count
    runs: list[tuple[str, int, Callable[[], float]]] = [
        (
            "redis_py_pipeline",
            n,
            lambda: baselines.redis_py_pipeline(stream_url, BULK_STREAM, entries, n),
        ),
        (
            "hiredis_packed",
            n,
            lambda: baselines.hiredis_packed(stream_url, BULK_STREAM, entries, n),
        ),
        ("typed_publish_awaited", n, lambda: typed_publish(url, messages, n, "awaited")),
        ("typed_publish_nowait", n, lambda: typed_publish(url, messages, n, "nowait")),
    ]
    if "nautilustrader" in peers:
        nt = settings.nautilustrader_count
        runs.append(
            (
                "nautilustrader_publish",
                nt,
                lambda: nautilustrader_publish(stream_url, BULK_STREAM, nt),
            )
        )
    if "faststream" in peers:
        fs = settings.faststream_count
        runs.append(
            (
                "faststream_publish",
                fs,
                lambda: baselines.faststream_publish(stream_url, BULK_STREAM, payloads, fs),
            )
        )
    shift = index % len(runs)
    rates: dict[str, float] = {}
    landed: dict[str, int] = {}
    for name, count, write in runs[shift:] + runs[:shift]:
        rates[name], landed[name] = _landed_rate(stream_url, count, write)
    return rates, landed


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _end_to_end_figures(messages: int, seconds: float, publisher_seconds: float) -> dict[str, Any]:
    return {
        "messages": messages,
        "seconds": seconds,
        "rate": messages / seconds,
        "publisher_landed_rate": messages / publisher_seconds,
    }


def _latency_figures(sent: int, received: int, histogram: LatencyHistogram) -> dict[str, Any]:
    return {"sent": sent, "received": received, **histogram.summary().as_dict()}


class _Merged:
    """Latency histograms merged over the rounds, per curve (for the plot and the JSON)."""

    def __init__(self) -> None:
        self.curves: dict[str, LatencyHistogram] = {}

    def add(self, name: str, histogram: LatencyHistogram) -> None:
        self.curves.setdefault(name, LatencyHistogram()).add(histogram)


class _Round:
    """One round: every scenario once, ours and the references back to back."""

    def __init__(
        self,
        *,
        server: BenchServer,
        workers: Workers,
        settings: BenchSettings,
        peers: list[Peer],
        merged: _Merged,
        progress: Progress,
        os_priority_server_pid: int | None = None,
    ) -> None:
        self.server = server
        #: The private server's pid when the OS-priority CRITICAL variant is measured, else None.
        self.os_priority_server_pid = os_priority_server_pid
        self.url = server.url
        #: The references' address: the master holding the bench stream on a cluster.
        self.stream_url = server.stream_url
        self.workers = workers
        self.settings = settings
        self.peers = peers
        self.merged = merged
        self.progress = progress

    def run(self, index: int) -> dict[str, Any]:
        label = f"round {index + 1}/{self.settings.rounds}"
        self.progress(f"{label}: publish throughput")
        publish, landed = _publish_round(
            self.server, self.settings, index, [p.name for p in self.peers]
        )
        figures: dict[str, Any] = {"publish": publish, "publish_landed": landed}
        self.progress(f"{label}: end to end (ours, floor, peers)")
        figures["end_to_end"] = self._end_to_end()
        figures["floor"] = {"end_to_end": self._reference_end_to_end(FLOOR, None)}
        figures["peers"] = {
            peer.name: {"end_to_end": self._reference_end_to_end(peer, self._peer_count(peer))}
            for peer in self.peers
        }
        self.progress(f"{label}: consumer CPU per message (ours, floor)")
        figures["consumer_cpu_us_per_message"] = consumer_cpu_per_message(
            self.url, self.workers, self.settings.end_to_end_count, floor_url=self.stream_url
        )
        figures["latency"] = {}
        for rate in self.settings.latency_rates:
            self.progress(f"{label}: latency at {rate}/s")
            figures["latency"][str(rate)] = self._latency(rate)
        self.progress(f"{label}: latency floor and peers")
        figures["floor"]["latency"] = {
            str(self.settings.floor_latency_rate): self._reference_latency(
                FLOOR, self.settings.floor_latency_rate
            )
        }
        for peer in self.peers:
            rate = self.settings.peer_latency_rate
            figures["peers"][peer.name]["latency"] = {
                str(rate): self._reference_latency(peer, rate)
            }
        self.progress(f"{label}: CRITICAL lane under bulk load")
        figures["critical"] = self._critical()
        if self.settings.critical_priority_process:
            self.progress(f"{label}: CRITICAL lane under bulk load, priority reader in a process")
            figures["critical_priority_process"] = self._critical(priority_process=True)
        if self.os_priority_server_pid is not None:
            self.progress(
                f"{label}: CRITICAL lane under bulk load, reader process at SCHED_FIFO, "
                "server at nice -10"
            )
            figures["critical_os_priority"] = self._critical(
                priority_process=True, os_priority_server_pid=self.os_priority_server_pid
            )
        self.progress(f"{label}: quote fan-out, server CPU")
        figures["fanout"] = self._fanout()
        figures["ratios"] = _ratios(figures, self.settings)
        return figures

    def _peer_count(self, peer: Peer) -> int:
        if peer.name == "faststream":
            return self.settings.faststream_count
        return self.settings.nautilustrader_count

    def _end_to_end(self) -> dict[str, Any]:
        e2e = end_to_end_throughput(self.url, self.workers, self.settings.end_to_end_count)
        return _end_to_end_figures(e2e.messages, e2e.seconds, e2e.publisher_seconds)

    def _reference_end_to_end(self, peer: Peer, count: int | None) -> dict[str, Any]:
        count = count or self.settings.end_to_end_count
        e2e = reference_end_to_end(self.stream_url, self.workers, peer, count)
        return _end_to_end_figures(e2e.messages, e2e.seconds, e2e.publisher_seconds)

    def _latency(self, rate: int) -> dict[str, Any]:
        result = latency_at_rate(
            self.url,
            self.workers,
            rate=rate,
            duration_s=self.settings.latency_duration_s,
            warmup_s=self.settings.warmup_s,
            buffer_interval_ms=self.settings.latency_buffer_interval_ms,
        )
        self.merged.add(f"ours {rate}", result.histogram)
        return _latency_figures(result.sent, result.received, result.histogram)

    def _reference_latency(self, peer: Peer, rate: int) -> dict[str, Any]:
        result = reference_latency(
            self.stream_url,
            self.workers,
            peer,
            rate=rate,
            duration_s=self.settings.latency_duration_s,
            warmup_s=self.settings.warmup_s,
        )
        self.merged.add(f"{peer.name} {rate}", result.histogram)
        return _latency_figures(result.sent, result.received, result.histogram)

    def _critical(
        self, *, priority_process: bool = False, os_priority_server_pid: int | None = None
    ) -> dict[str, Any]:
        settings = self.settings
        critical = critical_latency(
            self.url,
            self.workers,
            settings.critical_rate,
            settings.critical_duration_s,
            settings.warmup_s,
            priority_process=priority_process,
            os_priority_server_pid=os_priority_server_pid,
        )
        curve = "critical"
        if os_priority_server_pid is not None:
            curve = "critical-os-priority"
        elif priority_process:
            curve = "critical-process"
        self.merged.add(curve, critical.histogram)
        return {
            "rate": settings.critical_rate,
            "sent": critical.critical_sent,
            "received": critical.critical_received,
            "bulk_published_rate": critical.bulk_published_rate,
            "bulk_consumed_rate": critical.bulk_consumed_rate,
            "handler_run_queue_wait_share": critical.handler_run_queue_wait_share,
            **critical.histogram.summary().as_dict(),
        }

    def _fanout(self) -> dict[str, Any]:
        settings = self.settings
        result = fanout_server_cost(
            self.url, self.workers, settings.fanout_rate, settings.fanout_duration_s
        )
        floor = {
            ("floor_noack" if noack else "floor"): server_floor_per_delivery(
                self.stream_url, settings.fanout_floor_count, result.groups, noack=noack
            )["server_us_per_group_delivery"]
            for noack in (False, True)
        }
        return {
            "groups": result.groups,
            "quotes": result.quotes,
            "floor_server_us_per_group_delivery": floor["floor"],
            "floor_noack_server_us_per_group_delivery": floor["floor_noack"],
            "rate": settings.fanout_rate,
            "server_us_per_group_delivery": result.server_us_per_group_delivery,
            "server_us_per_quote": result.server_us_per_group_delivery * result.groups,
            "publish_only_server_us_per_quote": result.publish_only.cpu_s / result.quotes * 1e6,
            **result.breakdown(),
        }


def _ratios(figures: dict[str, Any], settings: BenchSettings) -> dict[str, float]:
    """Ours / reference within the round (for latency: ours / floor, lower is better)."""
    publish = figures["publish"]
    ratios = {
        name: publish[ours] / publish[base]
        for name, (ours, base) in RATIOS.items()
        if ours in publish and base in publish
    }
    cpu = figures["consumer_cpu_us_per_message"]
    ratios["consumer_cpu_per_message_vs_floor"] = cpu["ours"] / cpu["floor"]
    ours_rate = figures["end_to_end"]["rate"]
    ratios["end_to_end_vs_floor"] = ours_rate / figures["floor"]["end_to_end"]["rate"]
    for name, peer in figures["peers"].items():
        ratios[f"end_to_end_vs_{name}"] = ours_rate / peer["end_to_end"]["rate"]
    rate = str(settings.floor_latency_rate)
    if rate in figures["latency"]:
        floor_p99 = figures["floor"]["latency"][rate]["p99_us"]
        ratios[f"latency_p99_at_{int(rate) // 1000}k_vs_floor"] = (
            figures["latency"][rate]["p99_us"] / floor_p99
        )
    return ratios


def run_bench(
    url: str,
    settings: BenchSettings,
    progress: Progress = print,
    *,
    server_pid: int | None = None,
) -> BenchResults:
    """Run every scenario `settings.rounds` times; per-round figures and their medians.

    `server_pid` is the pid of the server at `url` when the bench started it for the run: only
    then may the OS-priority CRITICAL variant change the server's niceness."""
    started = time.monotonic()
    server = inspect_server(url)
    progress(f"server: {server.describe()}")
    peers, skipped = available_peers(
        {"faststream": settings.faststream, "nautilustrader": settings.nautilustrader}
    )
    os_priority_pid = _os_priority_server_pid(settings, server, server_pid, skipped)
    for line in skipped:
        progress(line)
    rounds: list[dict[str, Any]] = []
    merged = _Merged()
    workers = Workers.start()
    try:
        one_round = _Round(
            server=server,
            workers=workers,
            settings=settings,
            peers=peers,
            merged=merged,
            progress=progress,
            os_priority_server_pid=os_priority_pid,
        )
        for index in range(settings.rounds):
            rounds.append(one_round.run(index))
        scale_out = _scale_out(workers, settings, progress, skipped)
    finally:
        workers.close()
        reset_streams(url)
    results: BenchResults = {
        "rounds": rounds,
        "median": _medians(rounds),
        "histograms": {name: h.encode() for name, h in merged.curves.items()},
        "curves": {name: h.percentile_curve() for name, h in merged.curves.items()},
        "skipped": skipped,
        "elapsed_s": round(time.monotonic() - started, 2),
        "server": server.as_dict(),
    }
    if scale_out is not None:
        results["scale_out"] = scale_out
    return results


def _os_priority_server_pid(
    settings: BenchSettings, server: BenchServer, server_pid: int | None, skipped: list[str]
) -> int | None:
    """The pid whose niceness the OS-priority CRITICAL variant may change, or None (and a line
    in `skipped` saying why) when the variant is not measured."""
    if not settings.critical_priority_process or not settings.critical_os_priority:
        return None
    if server_pid is None or server.cluster:
        why: str | None = "the server is not one the bench started (--redis-url)"
    else:
        why = realtime_refusal()
    if why is not None:
        skipped.append(f"CRITICAL with OS priority not measured: {why}")
        return None
    return server_pid


def _scale_out(
    workers: Workers, settings: BenchSettings, progress: Progress, skipped: list[str]
) -> dict[str, Any] | None:
    """The scale-out section on private servers, with its medians over runs; None when it is
    turned off, or noted in `skipped` when no server binary is installed to start them from."""
    if not settings.scale_out:
        return None
    try:
        section = run_scale_out(workers, settings, progress)
    except FileNotFoundError as exc:
        skipped.append(f"scale-out not measured: {exc}")
        return None
    section["median"] = _nested_median(section["runs"])
    return section


def run_scale_out_only(settings: BenchSettings, progress: Progress = print) -> BenchResults:
    """The scale-out section alone (`nautilus bench --only scale-out`)."""
    started = time.monotonic()
    skipped: list[str] = []
    workers = Workers.start()
    try:
        scale_out = _scale_out(workers, settings, progress, skipped)
    finally:
        workers.close()
    results: BenchResults = {"skipped": skipped, "elapsed_s": round(time.monotonic() - started, 2)}
    if scale_out is not None:
        results["scale_out"] = scale_out
    return results


def _nested_median(items: list[Any]) -> Any:
    """The median of each number over the rounds, recursively through dicts of the same shape."""
    first = items[0]
    if isinstance(first, dict):
        return {key: _nested_median([item[key] for item in items]) for key in first}
    return _median([float(item) for item in items])


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: _nested_median([r[key] for r in rounds]) for key in rounds[0]}
