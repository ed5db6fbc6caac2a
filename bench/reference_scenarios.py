"""The references our figures are divided by, run as our scenarios are: the floor and the peers.

Each has the same shape as ours (a consumer process ready first, a publisher process from a
common start time, throughput = messages / (last handled - first publish) on one clock), so
`ours / reference` compares like with like within one round.

- floor (`floors.py`): bare hiredis publisher and consumer, no bus;
- peers: NautilusTrader's Redis-backed message bus and FastStream, when installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.payloads import BULK_STREAM
from nautilus.bench.peer_nautilustrader import nautilustrader_available
from nautilus.bench.scenarios import (
    EndToEndResult,
    LatencyResult,
    Workers,
    reset_streams,
    run_pair,
)

__all__ = [
    "PEERS",
    "Peer",
    "available_peers",
    "consumer_cpu_per_message",
    "reference_end_to_end",
    "reference_latency",
]


@dataclass(frozen=True)
class Peer:
    """A reference: its publisher and consumer jobs, and whether it can run here."""

    name: str
    publish_job: str
    consume_job: str
    available: Callable[[], bool]
    #: Extra arguments of both jobs (the peers take the stream key).
    arguments: dict[str, Any]
    #: Why it is skipped when it is not available.
    missing: str = ""


def _faststream_available() -> bool:
    from nautilus.bench.baselines import faststream_available

    return faststream_available()


FLOOR = Peer("floor", "floor_publish", "floor_consume", lambda: True, {})
PEERS = (
    Peer(
        "nautilustrader",
        "nautilustrader_publish_quotes",
        "nautilustrader_consume",
        nautilustrader_available,
        {"key": BULK_STREAM},
        "nautilus_trader is not installed (pip install -e '.[bench]')",
    ),
    Peer(
        "faststream",
        "faststream_publish_quotes",
        "faststream_consume",
        _faststream_available,
        {"key": BULK_STREAM},
        "faststream is not installed (pip install -e '.[bench]')",
    ),
)


def available_peers(enabled: dict[str, bool]) -> tuple[list[Peer], list[str]]:
    """The peers to run (enabled and installed) and a line for each one skipped, saying why."""
    run: list[Peer] = []
    skipped: list[str] = []
    for peer in PEERS:
        if not enabled.get(peer.name, True):
            skipped.append(f"{peer.name} baseline skipped: disabled by option")
        elif not peer.available():
            skipped.append(f"{peer.name} baseline skipped: {peer.missing}")
        else:
            run.append(peer)
    return run, skipped


def reference_end_to_end(url: str, workers: Workers, peer: Peer, count: int) -> EndToEndResult:
    """`count` messages flat out from `peer`'s publisher, all handled by its consumer."""
    published, consumed = run_pair(
        url,
        workers,
        consume=(peer.consume_job, {"expected": count, **peer.arguments}),
        publish=(peer.publish_job, {"count": count, **peer.arguments}),
    )
    if consumed["received"] < count:
        raise RuntimeError(f"{peer.name}: consumer handled {consumed['received']} of {count}")
    return EndToEndResult(
        messages=count,
        seconds=(consumed["finished_ns"] - published["started_ns"]) / 1e9,
        publisher_seconds=(published["landed_ns"] - published["started_ns"]) / 1e9,
    )


def reference_latency(
    url: str, workers: Workers, peer: Peer, *, rate: float, duration_s: float, warmup_s: float
) -> LatencyResult:
    """`peer` at `rate` messages per second; publish → handler latency after the warm-up."""
    total_s = warmup_s + duration_s
    published, consumed = run_pair(
        url,
        workers,
        consume=(
            peer.consume_job,
            {
                "expected": int(rate * total_s),
                "record_latency": True,
                "warmup_s": warmup_s,
                "deadline_s": total_s + 30,
                **peer.arguments,
            },
        ),
        publish=(peer.publish_job, {"rate": rate, "duration_s": total_s, **peer.arguments}),
    )
    histogram = LatencyHistogram.decode(consumed["latency"], consumed["negative"])
    return LatencyResult(rate, published["sent"], consumed["received"], histogram)


def consumer_cpu_per_message(
    url: str, workers: Workers, count: int, *, floor_url: str | None = None
) -> dict[str, float]:
    """The consumer's own CPU per message (µs), ours and the floor's, each draining `count`
    quotes published beforehand by our MarketData client: no publisher competes, and process
    CPU time does not count the moments the process waited for a core. The floor's consumer
    reads from `floor_url` (on a cluster, the master holding the stream), ours from `url`."""
    figures: dict[str, float] = {}
    for name, job, consumer_url, arguments in (
        ("ours", "consume", url, {"expected_quotes": count}),
        ("floor", "floor_consume", floor_url or url, {"expected": count}),
    ):
        reset_streams(url)
        workers.publisher.submit("publish_quotes", url=url, start_at_ns=0, count=count)
        workers.publisher.wait_ready()
        workers.publisher.result()
        workers.consumer.submit(job, url=consumer_url, **arguments)
        workers.consumer.wait_ready()
        figures[name] = workers.consumer.result()["cpu_s"] / count * 1e6
    reset_streams(url)
    return figures
