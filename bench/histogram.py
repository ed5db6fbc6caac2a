"""`LatencyHistogram`: an HDR histogram of latencies in nanoseconds, portable between processes.

Latency tails are what the targets are about (p99, p99.9), so samples go into an HdrHistogram
(3 significant digits from 1 ns to 60 s) rather than a list: recording is O(1), percentiles are
exact to the bucket, and the compressed encoding is small enough to send from a worker process
to the runner and to keep in the JSON report.
"""

from __future__ import annotations

from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

__all__ = ["LatencyHistogram", "LatencySummary"]

_LOWEST_NS = 1
_HIGHEST_NS = 60_000_000_000
_SIGNIFICANT_DIGITS = 3

#: Percentiles every summary reports, in percent.
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """The figures of one histogram, in microseconds (what the report tables show)."""

    count: int
    min_us: float
    p50_us: float
    p90_us: float
    p99_us: float
    p999_us: float
    max_us: float
    mean_us: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "min_us": self.min_us,
            "p50_us": self.p50_us,
            "p90_us": self.p90_us,
            "p99_us": self.p99_us,
            "p99_9_us": self.p999_us,
            "max_us": self.max_us,
            "mean_us": self.mean_us,
        }


class LatencyHistogram:
    """Records latencies in ns; negative samples (clock steps) are clamped to 0 and counted."""

    __slots__ = ("_histogram", "negative")

    def __init__(self) -> None:
        self._histogram = HdrHistogram(_LOWEST_NS, _HIGHEST_NS, _SIGNIFICANT_DIGITS)
        #: Samples that came out negative (the receiver's clock read earlier than the sender's).
        self.negative = 0

    def record_ns(self, latency_ns: int) -> None:
        if latency_ns < _LOWEST_NS:
            self.negative += latency_ns < 0
            latency_ns = _LOWEST_NS
        elif latency_ns > _HIGHEST_NS:
            latency_ns = _HIGHEST_NS
        self._histogram.record_value(latency_ns)

    @property
    def count(self) -> int:
        return int(self._histogram.get_total_count())

    def percentile_ns(self, percent: float) -> int:
        return int(self._histogram.get_value_at_percentile(percent))

    def add(self, other: LatencyHistogram) -> None:
        """Merge `other`'s samples into this histogram."""
        self._histogram.add(other._histogram)
        self.negative += other.negative

    def summary(self) -> LatencySummary:
        h = self._histogram
        if not self.count:
            return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        p50, p90, p99, p999 = (h.get_value_at_percentile(p) / 1000 for p in PERCENTILES)
        return LatencySummary(
            count=self.count,
            min_us=h.get_min_value() / 1000,
            p50_us=p50,
            p90_us=p90,
            p99_us=p99,
            p999_us=p999,
            max_us=h.get_max_value() / 1000,
            mean_us=round(h.get_mean_value() / 1000, 3),
        )

    def percentile_curve(self) -> list[tuple[float, float]]:
        """(percentile, latency µs) points from p0 to p100, for plotting the distribution."""
        points: list[tuple[float, float]] = []
        total = self.count
        if not total:
            return points
        seen = 0
        for item in self._histogram.get_recorded_iterator():
            seen += item.count_at_value_iterated_to
            points.append((100.0 * seen / total, item.value_iterated_to / 1000))
        return points

    def encode(self) -> str:
        """The compressed HdrHistogram encoding (base64 text; decodable by any HDR library)."""
        return str(self._histogram.encode().decode("ascii"))

    @classmethod
    def decode(cls, encoded: str, negative: int = 0) -> LatencyHistogram:
        histogram = cls()
        histogram._histogram = HdrHistogram.decode(encoded.encode("ascii"))
        histogram.negative = negative
        return histogram
