"""The multi-process scenarios: end-to-end throughput, latency at fixed rates, CRITICAL latency.

Each scenario starts from empty lanes, has the consumer create its groups and say "ready", then
gives the publishers a common start time a little in the future (so every process starts
measuring at the same instant, on the same clock) and waits for all results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.os_priority import niceness
from nautilus.bench.topology import unlink_each
from nautilus.bench.workers import Worker
from nautilus.runtime.lanes import dead_letter_stream, lanes_in_read_order

__all__ = [
    "CriticalResult",
    "EndToEndResult",
    "LatencyResult",
    "Workers",
    "critical_latency",
    "end_to_end_throughput",
    "latency_at_rate",
    "reset_streams",
    "run_pair",
]

_STREAMS = ("nautilus-marketdata-streams", "nautilus-vpin-streams")
_START_MARGIN_NS = 200_000_000


def reset_streams(url: str) -> None:
    """Delete both lanes and the dead-letter stream of every stream the scenarios use.

    One key per command, each on the master owning its slot when the server is a cluster: the
    keys of different streams live in different slots, often on different masters."""
    unlink_each(
        url,
        [
            key
            for stream in _STREAMS
            for key in (*lanes_in_read_order(stream), dead_letter_stream(stream))
        ],
    )


@dataclass
class Workers:
    """The benchmark's processes: one consumer, one bulk publisher, one CRITICAL publisher, and a
    second consumer of the group for the priority lanes alone (one CRITICAL variant)."""

    consumer: Worker
    publisher: Worker
    critical: Worker
    priority: Worker

    @classmethod
    def start(cls) -> Workers:
        return cls(
            Worker("consumer"),
            Worker("publisher"),
            Worker("critical-publisher"),
            Worker("priority-consumer"),
        )

    def close(self) -> None:
        for worker in (self.consumer, self.publisher, self.critical, self.priority):
            worker.close()


@dataclass(frozen=True)
class EndToEndResult:
    messages: int
    seconds: float
    publisher_seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


@dataclass(frozen=True)
class LatencyResult:
    rate: float
    sent: int
    received: int
    histogram: LatencyHistogram


@dataclass(frozen=True)
class CriticalResult:
    critical_sent: int
    critical_received: int
    bulk_published_rate: float
    bulk_consumed_rate: float
    histogram: LatencyHistogram
    #: Share of the run the process handling CRITICAL entries spent runnable but waiting for a
    #: core (/proc/self/schedstat; 0 where the system does not say).
    handler_run_queue_wait_share: float = 0.0


def _start_consumer(workers: Workers, **arguments: Any) -> None:
    workers.consumer.submit("consume", **arguments)
    workers.consumer.wait_ready()


def run_pair(
    url: str,
    workers: Workers,
    *,
    consume: tuple[str, dict[str, Any]],
    publish: tuple[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """From empty lanes: start the consumer job, then the publisher job at a common start time
    (passed as `start_at_ns`); (publisher's result, consumer's result)."""
    reset_streams(url)
    workers.consumer.submit(consume[0], url=url, **consume[1])
    workers.consumer.wait_ready()
    start_at = time.time_ns() + _START_MARGIN_NS
    workers.publisher.submit(publish[0], url=url, start_at_ns=start_at, **publish[1])
    workers.publisher.wait_ready()
    published = workers.publisher.result()
    consumed = workers.consumer.result()
    return published, consumed


def end_to_end_throughput(url: str, workers: Workers, count: int) -> EndToEndResult:
    """`count` quotes published flat out by one process, handled and acked by another."""
    reset_streams(url)
    _start_consumer(workers, url=url, expected_quotes=count)
    start_at = time.time_ns() + _START_MARGIN_NS
    workers.publisher.submit("publish_quotes", url=url, start_at_ns=start_at, count=count)
    workers.publisher.wait_ready()
    published = workers.publisher.result()
    consumed = workers.consumer.result()
    if consumed["quotes"] < count:
        raise RuntimeError(f"consumer handled {consumed['quotes']} of {count} quotes")
    return EndToEndResult(
        messages=count,
        seconds=(consumed["finished_ns"] - published["started_ns"]) / 1e9,
        publisher_seconds=(published["landed_ns"] - published["started_ns"]) / 1e9,
    )


def latency_at_rate(
    url: str,
    workers: Workers,
    *,
    rate: float,
    duration_s: float,
    warmup_s: float,
    buffer_interval_ms: int | None,
) -> LatencyResult:
    """Quotes at `rate` per second for `warmup_s + duration_s`; latency after the warm-up."""
    reset_streams(url)
    total = int(rate * (warmup_s + duration_s))
    start_at = time.time_ns() + _START_MARGIN_NS
    _start_consumer(
        workers,
        url=url,
        expected_quotes=total,
        record_quotes=True,
        warmup_s=warmup_s,
        deadline_s=warmup_s + duration_s + 30,
    )
    workers.publisher.submit(
        "publish_quotes",
        url=url,
        start_at_ns=start_at,
        rate=rate,
        duration_s=warmup_s + duration_s,
        buffer_interval_ms=buffer_interval_ms,
    )
    workers.publisher.wait_ready()
    published = workers.publisher.result()
    consumed = workers.consumer.result()
    histogram = LatencyHistogram.decode(consumed["quote_latency"], consumed["quote_negative"])
    return LatencyResult(rate, published["sent"], consumed["quotes"], histogram)


def critical_latency(
    url: str,
    workers: Workers,
    rate: float,
    duration_s: float,
    warmup_s: float,
    *,
    priority_process: bool = False,
    os_priority_server_pid: int | None = None,
) -> CriticalResult:
    """CRITICAL warnings at `rate` per second while another process floods the bulk lane.

    The consumer reads its priority lanes with its in-loop priority reader (as engines do), or,
    with `priority_process`, leaves them to another process of the same group. With
    `os_priority_server_pid` (and `priority_process`), that process reads at SCHED_FIFO and the
    server of that pid runs at nice -10 meanwhile (bench/os_priority.py).
    """
    if os_priority_server_pid is not None and not priority_process:
        raise ValueError("OS priority is measured with the priority lanes read by a process")
    if os_priority_server_pid is None:
        return _critical_latency(
            url, workers, rate, duration_s, warmup_s, priority_process=priority_process
        )
    with niceness(os_priority_server_pid):
        return _critical_latency(
            url, workers, rate, duration_s, warmup_s, priority_process=True, realtime=True
        )


def _critical_latency(
    url: str,
    workers: Workers,
    rate: float,
    duration_s: float,
    warmup_s: float,
    *,
    priority_process: bool,
    realtime: bool = False,
) -> CriticalResult:
    reset_streams(url)
    total_s = warmup_s + duration_s
    start_at = time.time_ns() + _START_MARGIN_NS
    expected_critical = int(rate * total_s)
    if priority_process:
        workers.priority.submit(
            "consume_priority_lanes",
            url=url,
            expected_critical=expected_critical,
            warmup_s=warmup_s,
            deadline_s=total_s + 30,
            realtime=realtime,
        )
        workers.priority.wait_ready()
        _start_consumer(
            workers,
            url=url,
            expected_quotes=0,
            priority_elsewhere=True,
            until_ns=start_at + int(total_s * 1e9),
            deadline_s=total_s + 30,
        )
    else:
        _start_consumer(
            workers,
            url=url,
            expected_quotes=0,
            expected_critical=expected_critical,
            warmup_s=warmup_s,
            deadline_s=total_s + 30,
        )
    workers.publisher.submit("publish_quotes", url=url, start_at_ns=start_at, duration_s=total_s)
    workers.critical.submit(
        "publish_critical", url=url, start_at_ns=start_at, rate=rate, duration_s=total_s
    )
    workers.publisher.wait_ready()
    workers.critical.wait_ready()
    critical = workers.critical.result()
    handled = workers.priority.result() if priority_process else None
    consumed = workers.consumer.result()
    bulk = workers.publisher.result()
    handled = handled or consumed
    consumed_s = (consumed["finished_ns"] - start_at) / 1e9
    histogram = LatencyHistogram.decode(handled["critical_latency"], handled["critical_negative"])
    result = CriticalResult(
        critical_sent=critical["sent"],
        critical_received=handled["critical"],
        bulk_published_rate=bulk["sent"] / ((bulk["landed_ns"] - bulk["started_ns"]) / 1e9),
        bulk_consumed_rate=consumed["quotes"] / consumed_s,
        histogram=histogram,
        handler_run_queue_wait_share=handled["run_queue_wait_s"] / max(handled["wall_s"], 1e-9),
    )
    reset_streams(url)
    return result
