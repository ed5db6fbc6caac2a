"""Prometheus metrics of the bus clients in one process, kept off the publish/consume hot path.

Counters are not incremented per message by this module: the runtime already counts in plain ints
(`PublisherStats`, `ConsumerStats`), and a custom collector reads them when Prometheus scrapes.
Only the two latency histograms need a per-message observation; they get it through the
consumer's optional `observer` (one `is not None` check when metrics are off), with the labelled
histogram children cached per stream and type. Every metric lives on a private
`CollectorRegistry`, so several clients or tests in one process never collide.

Metrics (engine = the consuming or publishing engine; docs/operations.md lists them too):

    nautilus_bus_published_total{engine}             entries written to the server
    nautilus_bus_publish_failures_total{engine}      batch writes that failed and were retried
    nautilus_bus_publish_rejected_total{engine}      messages the server refused for good
    nautilus_bus_backpressure_events_total{engine}   publishes refused for lack of buffer room
    nautilus_bus_buffer_depth{engine}                messages accepted but not yet written
    nautilus_bus_consumed_total{engine}              entries handled successfully by a handler
    nautilus_bus_handler_failures_total{engine}      handler calls that raised (entry retried)
    nautilus_bus_ignored_total{engine}               entries of types the engine does not handle
    nautilus_bus_acked_total{engine}                 entries acknowledged (consumed + ignored +
                                                     dead-lettered)
    nautilus_bus_reclaimed_total{engine}             entries taken over from idle consumers
    nautilus_bus_trim_failures_total{engine}         periodic trims that failed (retried)
    nautilus_bus_consumer_restarts_total{engine}     consume cycles restarted after an error
    nautilus_bus_dead_lettered_total{engine,stream,reason}
    nautilus_bus_handler_seconds{engine,stream,type}        histogram: handler run time
    nautilus_bus_end_to_end_seconds{engine,stream,type}     histogram: receive time - publish time
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from nautilus.runtime.clock import Clock
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.errors import DeadLetterReason
from nautilus.runtime.lanes import stream_of_lane

if TYPE_CHECKING:
    from nautilus.runtime.client import UniversalMessageBusClient

__all__ = ["END_TO_END_BUCKETS_S", "HANDLER_BUCKETS_S", "BusMetrics"]

#: Handler run time: from 10 µs (a dict update) to 10 s (a model refit).
HANDLER_BUCKETS_S = (
    0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
)  # fmt: skip
#: Publish to receive: priority lanes are sub-millisecond, bulk lanes add the flush interval,
#: and a lagging consumer shows up in the top buckets.
END_TO_END_BUCKETS_S = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip

_NS_PER_S = 1_000_000_000

#: (name without _total, help, how to compute it from `client.stats()`)
_COUNTERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("nautilus_bus_published", "Entries written to the server.", ("published",)),
    (
        "nautilus_bus_publish_failures",
        "Batch writes that failed and were retried.",
        ("failed_writes",),
    ),
    (
        "nautilus_bus_publish_rejected",
        "Messages the server refused for good (WRONGTYPE, OOM, NOPERM, ...): not written.",
        ("publish_rejected",),
    ),
    (
        "nautilus_bus_backpressure_events",
        "Publishes refused because the bounded buffer was full.",
        ("backpressure_events",),
    ),
    ("nautilus_bus_consumed", "Entries handled successfully by a handler.", ("handled",)),
    (
        "nautilus_bus_handler_failures",
        "Handler calls that raised; the entry is delivered again.",
        ("failed",),
    ),
    ("nautilus_bus_ignored", "Entries of types the engine does not handle.", ("ignored",)),
    (
        "nautilus_bus_acked",
        "Entries acknowledged: handled, ignored or dead-lettered.",
        ("handled", "ignored", "dead_lettered"),
    ),
    (
        "nautilus_bus_reclaimed",
        "Entries taken over from idle consumers (XAUTOCLAIM).",
        ("reclaimed",),
    ),
    (
        "nautilus_bus_consumer_restarts",
        "Consume cycles that ended in an unexpected error and were started again.",
        ("consumer_restarts",),
    ),
    (
        "nautilus_bus_trim_failures",
        "Periodic trims that failed and were retried with backoff.",
        ("trim_failures",),
    ),
)


class _ClientStatsCollector(Collector):
    """Reads the clients' plain-int counters at scrape time; summed per engine."""

    def __init__(self, clients: Sequence[UniversalMessageBusClient]) -> None:
        self._clients = clients

    def collect(self) -> Iterable[Metric]:
        totals: dict[str, dict[str, int]] = {}
        for client in self._clients:
            engine_totals = totals.setdefault(client.config.engine, {})
            for name, value in client.stats().items():
                engine_totals[name] = engine_totals.get(name, 0) + int(value)
        for name, help_text, parts in _COUNTERS:
            family = CounterMetricFamily(name, help_text, labels=["engine"])
            for engine, stats in sorted(totals.items()):
                family.add_metric([engine], sum(stats.get(part, 0) for part in parts))
            yield family
        depth = GaugeMetricFamily(
            "nautilus_bus_buffer_depth",
            "Messages accepted by the publisher and not yet written.",
            labels=["engine"],
        )
        for engine, stats in sorted(totals.items()):
            depth.add_metric([engine], stats.get("unsent", 0))
        yield depth


class _EngineObserver:
    """The consumer's `DeliveryObserver` for one engine: the histograms and dead-letter counts."""

    def __init__(self, metrics: BusMetrics, engine: str, clock: Clock) -> None:
        self._metrics = metrics
        self._engine = engine
        self._clock = clock
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def observe(self, delivery: Delivery[Any], handler_seconds: float) -> None:
        key = (delivery.stream, delivery.message_type)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = self._metrics.histogram_children(self._engine, *key)
        handler, end_to_end = children
        handler.observe(handler_seconds)
        received_ns = self._clock.timestamp_ns() - int(handler_seconds * _NS_PER_S)
        end_to_end.observe(max(received_ns - delivery.published_at_ns, 0) / _NS_PER_S)

    def dead_lettered(self, lane: str, reason: DeadLetterReason) -> None:
        self._metrics.dead_lettered.labels(self._engine, stream_of_lane(lane), reason.value).inc()


class BusMetrics:
    """The metrics of the bus clients of one process, on a private registry.

    `attach` each client (before or after it starts); `exposition()` is the Prometheus text that
    `/metrics` serves (see `nautilus.runtime.http_endpoints.serve_http`).
    """

    def __init__(
        self,
        *,
        handler_buckets_s: Sequence[float] = HANDLER_BUCKETS_S,
        end_to_end_buckets_s: Sequence[float] = END_TO_END_BUCKETS_S,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clients: list[UniversalMessageBusClient] = []
        labels = ["engine", "stream", "type"]
        self.handler_seconds = Histogram(
            "nautilus_bus_handler_seconds",
            "Time a handler took for one message.",
            labels,
            registry=self.registry,
            buckets=handler_buckets_s,
        )
        self.end_to_end_seconds = Histogram(
            "nautilus_bus_end_to_end_seconds",
            "From the entry's publish time to its receipt by the consumer.",
            labels,
            registry=self.registry,
            buckets=end_to_end_buckets_s,
        )
        self.dead_lettered = Counter(
            "nautilus_bus_dead_lettered",
            "Entries moved to the dead-letter stream, by reason.",
            ["engine", "stream", "reason"],
            registry=self.registry,
        )
        self.registry.register(_ClientStatsCollector(self._clients))

    @property
    def clients(self) -> tuple[UniversalMessageBusClient, ...]:
        return tuple(self._clients)

    def attach(self, client: UniversalMessageBusClient) -> None:
        """Count `client`'s traffic from now on (its plain counters are read since its start)."""
        if client in self._clients:
            return
        self._clients.append(client)
        client.consumer.observer = _EngineObserver(self, client.config.engine, client.config.clock)

    def histogram_children(self, engine: str, stream: str, message_type: str) -> tuple[Any, Any]:
        """The labelled (handler, end-to-end) histograms of one engine, stream and type."""
        return (
            self.handler_seconds.labels(engine, stream, message_type),
            self.end_to_end_seconds.labels(engine, stream, message_type),
        )

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)
