"""`ServiceTally`: what one engine service consumed, published and failed on, for reports.

Counts are kept per message type (full protobuf name) in plain dicts, so keeping them costs a dict
update per message. The summary is plain JSON data with sorted keys: two runs that did the same
work summarise identically, which the byte-identical backtest report relies on.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["ServiceTally"]

#: Alert latencies kept per service; far more than a run's alerts, a bound against a flood.
_MAX_LATENCY_SAMPLES = 100_000


class ServiceTally:
    """Counters of one engine service."""

    __slots__ = ("alert_latency_ns", "consumed", "handler_errors", "published")

    def __init__(self) -> None:
        #: Messages handled successfully, by type.
        self.consumed: Counter[str] = Counter()
        #: Messages published (accepted by the bus client), by type.
        self.published: Counter[str] = Counter()
        #: Handler calls that raised, by exception class (the runtime retries, then dead-letters).
        self.handler_errors: Counter[str] = Counter()
        #: Alert propagation latencies: the alert's publish time to the end of its handling here.
        self.alert_latency_ns: list[int] = []

    def record_alert_latency(self, published_at_ns: int, handled_at_ns: int) -> None:
        if len(self.alert_latency_ns) < _MAX_LATENCY_SAMPLES:
            self.alert_latency_ns.append(max(0, handled_at_ns - published_at_ns))

    def summary(self) -> dict[str, Any]:
        """Counts (sorted by type) and the raw alert latencies, as JSON data."""
        return {
            "consumed": dict(sorted(self.consumed.items())),
            "published": dict(sorted(self.published.items())),
            "handler_errors": dict(sorted(self.handler_errors.items())),
            "alert_latency_ns": list(self.alert_latency_ns),
        }
