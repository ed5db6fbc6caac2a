"""`BenchSettings`: how much work each scenario does; `--quick` and the full run are two presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["BenchSettings"]


@dataclass(frozen=True)
class BenchSettings:
    """Sizes and durations of one benchmark run (defaults: the full run)."""

    #: Rounds; every round runs every scenario, baselines and ours interleaved.
    rounds: int = 5
    #: Messages per publish-throughput measurement (baselines and ours alike).
    publish_count: int = 300_000
    #: Messages for FastStream's baseline (it is about 30x slower).
    faststream_count: int = 10_000
    #: Messages in the end-to-end throughput scenario.
    end_to_end_count: int = 300_000
    #: Offered rates of the latency scenario, messages per second.
    latency_rates: tuple[int, ...] = (1_000, 10_000, 50_000)
    #: Measured seconds per latency run, after `warmup_s`.
    latency_duration_s: float = 4.0
    warmup_s: float = 0.5
    #: Bulk-lane flush interval of the latency publisher (0: write as soon as the flusher runs).
    latency_buffer_interval_ms: int = 0
    #: CRITICAL warnings per second while the bulk lane is saturated, and for how long.
    critical_rate: int = 200
    critical_duration_s: float = 5.0
    #: Also measure CRITICAL with the priority lanes read by another process of the group.
    critical_priority_process: bool = True
    #: And once more with that process at SCHED_FIFO and the server at nice -10, where the
    #: bench started the server and may (bench/os_priority.py).
    critical_os_priority: bool = True
    #: Offered rate of the floor's latency run (the rate of the latency-vs-floor target).
    floor_latency_rate: int = 10_000
    #: Quotes per second and seconds of the 11-group fan-out (server CPU per delivery).
    fanout_rate: int = 5_000
    fanout_duration_s: float = 4.0
    #: Entries each of the 11 bare consumers drains for the server's floor per delivery.
    fanout_floor_count: int = 20_000
    #: Messages for NautilusTrader's publish and end-to-end figures (it is about 5x slower).
    nautilustrader_count: int = 100_000
    #: Offered rate of the peers' latency runs (FastStream cannot publish 10K msg/s).
    peer_latency_rate: int = 1_000
    #: Whether to include FastStream's and NautilusTrader's baselines when installed.
    faststream: bool = True
    nautilustrader: bool = True
    #: The scale-out section: one server against a private cluster of `scaleout_masters`
    #: masters, the quote route as shipped and cut into `scaleout_partitions`, each layout
    #: `scaleout_runs` times at `scaleout_rate` quotes/s for `scaleout_duration_s`.
    scale_out: bool = True
    scaleout_masters: int = 3
    scaleout_partitions: int = 6
    scaleout_rate: int = 5_000
    scaleout_duration_s: float = 3.0
    scaleout_runs: int = 3

    @classmethod
    def quick(cls) -> BenchSettings:
        """Under a minute on a 2-core machine: three rounds of smaller runs."""
        return cls(
            rounds=3,
            publish_count=100_000,
            faststream_count=3_000,
            end_to_end_count=100_000,
            latency_duration_s=1.0,
            critical_duration_s=2.0,
            fanout_duration_s=2.0,
            nautilustrader_count=30_000,
            scaleout_duration_s=1.0,
            scaleout_runs=1,
        )

    @classmethod
    def tiny(cls) -> BenchSettings:
        """A few seconds: proves the harness works (tests), measures nothing worth quoting."""
        return replace(
            cls.quick(),
            rounds=1,
            publish_count=2_000,
            faststream_count=200,
            end_to_end_count=2_000,
            latency_rates=(1_000, 10_000),
            latency_duration_s=0.3,
            warmup_s=0.1,
            critical_duration_s=0.5,
            fanout_rate=1_000,
            fanout_floor_count=1_000,
            fanout_duration_s=0.5,
            nautilustrader_count=1_000,
            scale_out=False,
            scaleout_rate=2_000,
            scaleout_duration_s=0.5,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
