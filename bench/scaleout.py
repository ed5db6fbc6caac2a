"""Scale-out of the quote fan-out: one server against a cluster of masters, server CPU per master.

A Redis server executes commands on one thread, so the 11-group quote fan-out has a ceiling: the
quotes per second at which that thread is never idle. A cluster multiplies the threads, but each
master only takes the keys of its slots: unpartitioned, the marketdata stream is one key on one
master, and only a route cut into partitions spreads it. This scenario sends the same quotes at
the same rate through each layout, on private servers it starts from one binary:

- one server, the shipped route (one stream), and the route cut into `partitions`;
- a cluster of `masters` masters, the shipped route, and the route cut into `partitions`;
- the same cluster and partitions with the quotes grouped by instrument (runs of one
  instrument's quotes instead of one instrument after another): a publisher's batch then holds
  writes for one master, which is what the cluster's write path sends in one round trip.

Each layout runs twice, as bench/fanout.py does on one server: once with nobody consuming, once
with every group's consumer handling every quote; each master's `INFO cpu` (user + system) and
`INFO commandstats` are read before and after. Reported per layout:

- server CPU per delivery per group, summed over the masters: (consuming - publishing only) per
  master, over quotes x groups;
- each master's share of the server CPU of the consuming run, and the streams it held;
- the busiest master's CPU per quote (publishing and delivering), whose inverse is the layout's
  ceiling: the quotes per second at which that master's thread would be busy all the time. It is
  what the layout reaches on a machine with a free core per master (and for the clients); on a
  machine with fewer cores the masters share them, so it is a projection, not a measured rate.
  The balanced ceiling is the same with the work of a partitioned route spread evenly over the
  masters (partitions fall on masters by the hash slots of their names, not evenly).

The partitioned route is the shipped Quote route with `partitions` set, handed to the publisher
and the consumers as a `MessageSpec` (the runtime's publisher and consumer take the spec they are
given), so the shipped contract stays unpartitioned. The quotes' instrument ids are chosen to
fall evenly on the partitions; every layout sends the same quotes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from nautilus.bench.fanout import count_deliveries
from nautilus.bench.payloads import BULK_STREAM, quotes
from nautilus.bench.scenarios import Workers
from nautilus.bench.settings import BenchSettings
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.partitions import partition_of
from nautilus.runtime.routing import MessageSpec, message_spec, require_consumer
from nautilus.runtime.server import (
    EmbeddedCluster,
    EmbeddedServer,
    find_server_binary,
    server_version,
)

__all__ = [
    "Layout",
    "LayoutRun",
    "NodeUsage",
    "layouts",
    "node_usage",
    "quote_spec",
    "run_scale_out",
    "scaleout_consume",
    "scaleout_instruments",
    "scaleout_publish",
    "scaleout_quotes",
]

Notify = Callable[[str], None]
Progress = Callable[[str], None]

#: Commands whose calls per delivery the section reports (`client|unblock`: a consumer's
#: blocking reads of its other streams ended once one of them returned).
COMMANDS = ("xadd", "xreadgroup", "xack", "xclaim", "client|unblock")
#: Instruments per partition in the quotes (the same set in every layout).
_INSTRUMENTS_PER_PARTITION = 2
#: Quotes of one instrument in a row in the grouped order.
_GROUPED_RUN = 42
#: Pacing tick of the publisher: it sleeps this long between bursts of what is due.
_TICK_S = 0.0005
#: Time between the publisher saying ready and its first quote.
_START_MARGIN_NS = 200_000_000


def quote_spec(partitions: int) -> MessageSpec:
    """The shipped Quote spec, its route cut into `partitions` (0: the shipped route)."""
    spec = message_spec(Quote)
    if partitions <= 1:
        return spec
    return dataclasses.replace(spec, route=dataclasses.replace(spec.route, partitions=partitions))


def scaleout_instruments(partitions: int) -> list[str]:
    """Instrument ids, the same number on each of `partitions` partitions (CRC-32 of the id)."""
    wanted = max(partitions, 1)
    by_partition: dict[int, list[str]] = {index: [] for index in range(wanted)}
    number = 0
    while any(len(ids) < _INSTRUMENTS_PER_PARTITION for ids in by_partition.values()):
        instrument = f"SYM{number:03d}USDT.BENCH"
        ids = by_partition[partition_of(instrument, wanted)]
        if len(ids) < _INSTRUMENTS_PER_PARTITION:
            ids.append(instrument)
        number += 1
    return [instrument for ids in zip(*by_partition.values(), strict=True) for instrument in ids]


def scaleout_quotes(partitions: int, *, grouped: bool = False) -> list[Quote]:
    """The bench's quotes, their instruments spread evenly over `partitions`: one instrument
    after another, as a market feed interleaves them, or, `grouped`, `_GROUPED_RUN` quotes of
    one instrument in a row, so that a publisher's batch mostly holds one partition's writes.
    Every instrument has the same share of the pool, in both orders."""
    instruments = scaleout_instruments(partitions)
    pool = quotes(len(instruments) * 2 * _GROUPED_RUN)
    run = _GROUPED_RUN if grouped else 1
    for index, quote in enumerate(pool):
        quote.instrument_id = instruments[index // run % len(instruments)]
    return pool


async def _sleep_until(start_at_ns: int) -> None:
    delay_s = (start_at_ns - time.time_ns()) / 1e9
    if delay_s > 0:
        await asyncio.sleep(delay_s)


async def scaleout_publish(
    *,
    notify: Notify,
    url: str,
    start_at_ns: int,
    rate: float,
    duration_s: float,
    partitions: int,
    pool_partitions: int,
    grouped: bool = False,
) -> dict[str, Any]:
    """The MarketData engine's publishing (keyed by instrument, default buffering) of
    `rate` x `duration_s` quotes on the route cut into `partitions`, in the instrument order
    `grouped` says; returns once all landed."""
    config = MessageBusConfig(
        engine="marketdata", redis_url=url, trim_interval_ms=0, declare_consumer_groups=False
    )
    client = UniversalMessageBusClient(config, publishes=(Quote,))
    spec = quote_spec(partitions)
    priority = spec.route.priority
    pool = scaleout_quotes(pool_partitions, grouped=grouped)
    total = int(rate * duration_s)
    await client.start(consume=False)
    publisher = client.publisher
    notify("ready")
    await _sleep_until(start_at_ns)
    try:
        started = time.perf_counter()
        sent = 0
        while sent < total:
            due = min(total, int((time.perf_counter() - started) * rate) + 1)
            while sent < due:
                quote = pool[sent % len(pool)]
                key = quote.instrument_id
                if not publisher.try_enqueue(spec, quote, priority, key, None):
                    await publisher.enqueue(spec, quote, priority, key, None)
                sent += 1
            await asyncio.sleep(_TICK_S)
        await client.flush()
    finally:
        await client.close()
    return {"sent": total}


async def scaleout_consume(
    *,
    notify: Notify,
    url: str,
    engines: list[str],
    expected: int,
    partitions: int,
    deadline_s: float = 120.0,
) -> dict[str, Any]:
    """Each engine's consume loop on the route cut into `partitions`, a counting handler, until
    every engine has handled `expected` quotes (or the deadline); the counts."""
    spec = quote_spec(partitions)
    for engine in engines:
        require_consumer(spec, engine)
    result = await count_deliveries(
        lambda client, count: client.consumer.subscribe(spec, count),
        notify=notify,
        url=url,
        engines=engines,
        expected=expected,
        deadline_s=deadline_s,
    )
    return {"counts": result["counts"]}


@dataclass(frozen=True)
class NodeUsage:
    """One server's CPU seconds (user + system) and calls per command at one instant."""

    cpu_s: float
    calls: dict[str, int]

    def __sub__(self, other: NodeUsage) -> NodeUsage:
        calls = {name: n - other.calls.get(name, 0) for name, n in self.calls.items()}
        return NodeUsage(self.cpu_s - other.cpu_s, calls)


def node_usage(url: str) -> NodeUsage:
    """`INFO cpu` and `INFO commandstats` of the one server at `url` (a cluster node: that node
    alone)."""
    with redis.Redis.from_url(url) as client:
        cpu: Any = client.info("cpu")
        stats: Any = client.info("commandstats")
    calls = {}
    for name in COMMANDS:
        entry = stats.get(f"cmdstat_{name}")
        calls[name] = int(entry["calls"]) if entry else 0
    return NodeUsage(float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]), calls)


def _stream_keys(url: str) -> list[bytes]:
    """Every key of the marketdata stream and its partitions this one server holds."""
    with redis.Redis.from_url(url) as client:
        return [
            key
            for pattern in (f"{BULK_STREAM}*", f"{{{BULK_STREAM}*")
            for key in client.scan_iter(match=pattern, count=1000)
        ]


def _streams_held(url: str) -> int:
    """How many of the marketdata streams (the route stream or its partitions) the server holds:
    their bulk lanes are named after them."""
    return sum(1 for key in _stream_keys(url) if not key.startswith(b"{"))


def _reset(urls: list[str]) -> None:
    """Delete the marketdata keys on every master, one key per command (on a cluster, each
    master is asked for its own keys)."""
    for url in urls:
        keys = _stream_keys(url)
        with redis.Redis.from_url(url) as client:
            for key in keys:
                client.unlink(key)


def _usage(urls: list[str]) -> list[NodeUsage]:
    return [node_usage(url) for url in urls]


def _spent(after: list[NodeUsage], before: list[NodeUsage]) -> list[NodeUsage]:
    return [a - b for a, b in zip(after, before, strict=True)]


@dataclass(frozen=True)
class Layout:
    """Where the route's entries live: `masters` servers, the route cut into `partitions`; and
    whether the quotes come `grouped` by instrument (`scaleout_quotes`)."""

    masters: int
    partitions: int
    grouped: bool = False

    @property
    def key(self) -> str:
        """The layout's name in the JSON: `1_master`, `3_masters_6_partitions`, ..."""
        name = f"{self.masters}_master" + ("s" if self.masters > 1 else "")
        name += f"_{self.partitions}_partitions" if self.partitions else ""
        return name + ("_grouped" if self.grouped else "")

    @property
    def label(self) -> str:
        name = "1 server" if self.masters == 1 else f"{self.masters} masters"
        name += f", {self.partitions} partitions" if self.partitions else ""
        return name + (", grouped" if self.grouped else "")


def layouts(masters: int, partitions: int) -> list[Layout]:
    """One server and the cluster, each with the shipped route and the partitioned one; and
    the cluster's partitioned route once more with the quotes grouped by instrument, which
    shows what the cluster does when a publisher's batch holds writes for one master."""
    every = [Layout(m, p) for m in (1, masters) for p in (0, partitions)]
    return [*every, Layout(masters, partitions, grouped=True)]


@dataclass(frozen=True)
class LayoutRun:
    """One layout's two runs: per master, what publishing alone and consuming too cost."""

    layout: Layout
    quotes: int
    #: Quotes handled, per consuming engine (group).
    counts: dict[str, int]
    publishing: list[NodeUsage]
    consuming: list[NodeUsage]
    #: Streams (route stream or partitions) each master held.
    streams: list[int]

    @property
    def deliveries(self) -> int:
        return sum(self.counts.values())

    def _balanced_ceiling(self, total_cpu_s: float, busiest_us_per_quote: float) -> float:
        """The ceiling were the server CPU spread evenly over the masters: only a partitioned
        route can be spread (one stream is one key, on one master)."""
        if not self.layout.partitions:
            return 1e6 / busiest_us_per_quote
        return len(self.consuming) * self.quotes / total_cpu_s

    def figures(self) -> dict[str, Any]:
        """The layout's figures (numbers only: the bench takes medians over runs)."""
        deliveries = self.deliveries
        consuming = [node.cpu_s for node in self.consuming]
        delivering = [
            c.cpu_s - p.cpu_s for c, p in zip(self.consuming, self.publishing, strict=True)
        ]
        total = sum(consuming)
        busiest = max(range(len(consuming)), key=consuming.__getitem__)
        busiest_us_per_quote = consuming[busiest] / self.quotes * 1e6
        masters = {
            f"master_{index + 1}": {
                "share": consuming[index] / total if total > 0 else 0.0,
                "streams": self.streams[index],
                "server_us_per_quote": consuming[index] / self.quotes * 1e6,
                "server_us_per_group_delivery": delivering[index] / deliveries * 1e6,
            }
            for index in range(len(consuming))
        }
        calls = {name: sum(node.calls.get(name, 0) for node in self.consuming) for name in COMMANDS}
        return {
            "masters": len(consuming),
            "partitions": self.layout.partitions,
            "quotes": self.quotes,
            "groups": len(self.counts),
            "deliveries": deliveries,
            "server_us_per_group_delivery": sum(delivering) / deliveries * 1e6,
            "server_us_per_quote": total / self.quotes * 1e6,
            "publish_only_server_us_per_quote": sum(n.cpu_s for n in self.publishing)
            / self.quotes
            * 1e6,
            "busiest_master_us_per_quote": busiest_us_per_quote,
            "busiest_master_us_per_group_delivery": masters[f"master_{busiest + 1}"][
                "server_us_per_group_delivery"
            ],
            "busiest_master_share": masters[f"master_{busiest + 1}"]["share"],
            "ceiling_quotes_per_s": 1e6 / busiest_us_per_quote,
            "balanced_ceiling_quotes_per_s": self._balanced_ceiling(total, busiest_us_per_quote),
            "xadd_calls_per_quote": calls["xadd"] / self.quotes,
            **{
                f"{name.replace('|', '_')}_calls_per_delivery": calls[name] / deliveries
                for name in COMMANDS
                if name != "xadd"
            },
            "per_master": masters,
        }


class _Scenario:
    """The worker processes and the rate: runs one layout on the servers at `urls`."""

    def __init__(self, workers: Workers, rate: float, duration_s: float, pool_partitions: int):
        self.workers = workers
        self.rate = rate
        self.duration_s = duration_s
        self.pool_partitions = pool_partitions
        self.engines = sorted(message_spec(Quote).route.consumers)

    def _publish(self, url: str, layout: Layout) -> None:
        """Start the publisher a moment from now and wait until it is about to send."""
        self.workers.publisher.submit(
            "scaleout_publish",
            url=url,
            start_at_ns=time.time_ns() + _START_MARGIN_NS,
            rate=self.rate,
            duration_s=self.duration_s,
            partitions=layout.partitions,
            pool_partitions=self.pool_partitions,
            grouped=layout.grouped,
        )
        self.workers.publisher.wait_ready()

    def run(self, layout: Layout, urls: list[str]) -> LayoutRun:
        """Publishing alone, then with every group consuming (split over two processes)."""
        url = urls[0]
        _reset(urls)
        self._publish(url, layout)
        before = _usage(urls)
        sent = int(self.workers.publisher.result()["sent"])
        publishing = _spent(_usage(urls), before)

        _reset(urls)
        half = (len(self.engines) + 1) // 2
        consumers = (
            (self.workers.consumer, self.engines[:half]),
            (self.workers.critical, self.engines[half:]),
        )
        for worker, names in consumers:
            worker.submit(
                "scaleout_consume",
                url=url,
                engines=names,
                expected=sent,
                partitions=layout.partitions,
            )
        for worker, _ in consumers:
            worker.wait_ready(timeout_s=60.0)
        self._publish(url, layout)
        before = _usage(urls)
        self.workers.publisher.result()
        counts: dict[str, int] = {}
        for worker, _ in consumers:
            counts.update(worker.result(timeout_s=180.0)["counts"])
        consuming = _spent(_usage(urls), before)
        streams = [_streams_held(node) for node in urls]
        _reset(urls)
        missing = {engine: sent - n for engine, n in counts.items() if n < sent}
        if missing:
            raise RuntimeError(
                f"scale-out {layout.label}: groups short of {sent} quotes: {missing}"
            )
        return LayoutRun(layout, sent, counts, publishing, consuming, streams)


@contextlib.contextmanager
def _servers(binary: str, masters: int) -> Iterator[dict[int, list[str]]]:
    """A private server and a private cluster of `masters` masters, from the same binary: the
    URLs of the masters, by the number of masters."""
    with (
        EmbeddedServer(binary=binary) as single,
        EmbeddedCluster(masters, binary=binary) as cluster,
    ):
        yield {1: [single.url], masters: cluster.urls}


def run_scale_out(
    workers: Workers, settings: BenchSettings, progress: Progress = print
) -> dict[str, Any]:
    """Every layout `settings.scaleout_runs` times (the order rotated per run): the settings and
    each run's figures by layout, with each ceiling over the one server's of the same run."""
    masters, partitions = settings.scaleout_masters, settings.scaleout_partitions
    if masters < 2 or partitions < 2:
        raise ValueError("the scale-out compares one server with 2+ masters, 2+ partitions")
    every = layouts(masters, partitions)
    scenario = _Scenario(
        workers, settings.scaleout_rate, settings.scaleout_duration_s, pool_partitions=partitions
    )
    runs: list[dict[str, Any]] = []
    binary = find_server_binary()
    with _servers(binary, masters) as urls:
        for index in range(settings.scaleout_runs):
            shift = index % len(every)
            figures: dict[str, Any] = {}
            for layout in every[shift:] + every[:shift]:
                progress(f"scale-out run {index + 1}/{settings.scaleout_runs}: {layout.label}")
                figures[layout.key] = scenario.run(layout, urls[layout.masters]).figures()
            single = figures[every[0].key]["ceiling_quotes_per_s"]
            for layout in every:
                ceiling = figures[layout.key]["ceiling_quotes_per_s"]
                figures[layout.key]["ceiling_vs_one_server"] = ceiling / single
            runs.append({layout.key: figures[layout.key] for layout in every})
    return {
        "masters": masters,
        "partitions": partitions,
        "rate": settings.scaleout_rate,
        "duration_s": settings.scaleout_duration_s,
        "server": {"binary": Path(binary).name, "version": server_version(binary)},
        "layouts": {layout.key: layout.label for layout in every},
        "runs": runs,
    }
