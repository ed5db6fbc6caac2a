"""The server's cost of the quote fan-out: Redis CPU per delivered message per consumer group.

Every engine consumes quotes, so each quote is read and acknowledged by eleven groups; on one
Redis that fan-out, not the publishing, is what saturates the server thread first. The figure is
the server process's CPU time (`INFO cpu`: user + system, what /proc/<pid>/stat counts, so it
works on a server the bench did not start) spent delivering, divided by quotes x groups:

    (CPU while publishing at `rate` with every group consuming
     - CPU while publishing the same quotes at the same rate with nobody consuming)
    / (quotes x groups)

The consumers are the bus's own (`UniversalMessageBusClient` of each consuming engine, its
consume loop, a counting handler), split over two processes. `INFO commandstats` gives the
XREADGROUP, XACK, XCLAIM and XAUTOCLAIM calls per delivery.

`python -m nautilus.bench.fanout` runs this scenario alone (with the server's floors, every
command's calls and time per delivery), on a private server or `--redis-url`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from nautilus.bench.scenarios import Workers, reset_streams
from nautilus.bench.topology import inspect_server
from nautilus.contract import bus_message_classes
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.routing import message_spec

__all__ = [
    "FanoutResult",
    "ServerUsage",
    "count_deliveries",
    "fanout_consume",
    "fanout_server_cost",
    "quote_consumers",
    "server_usage",
]

#: Commands whose calls per delivery the fan-out breakdown reports.
_BREAKDOWN = ("xreadgroup", "xack", "xclaim", "xautoclaim")


def quote_consumers() -> list[str]:
    """The engines whose consumer groups receive every quote (the route's consumers)."""
    return sorted(message_spec(Quote).route.consumers)


def best_effort_quote_consumers() -> list[str]:
    """The quote consumers whose group reads the quotes' lane with NOACK: every type routed to
    them on that stream is best effort for them (as the consumer decides, runtime/consumer.py)."""
    stream = message_spec(Quote).route.stream
    routes = [message_spec(cls).route for cls in bus_message_classes().values()]
    routes = [route for route in routes if route.stream == stream]
    return [
        engine
        for engine in quote_consumers()
        if all(
            engine in route.best_effort_consumers for route in routes if engine in route.consumers
        )
    ]


class ServerUsage:
    """The server's CPU seconds and per-command counters at one instant."""

    def __init__(self, cpu_s: float, commands: dict[str, tuple[int, int]]) -> None:
        self.cpu_s = cpu_s
        #: command -> (calls, µs spent inside it)
        self.commands = commands

    def __sub__(self, other: ServerUsage) -> ServerUsage:
        commands = {}
        for name, (calls, usec) in self.commands.items():
            before_calls, before_usec = other.commands.get(name, (0, 0))
            commands[name] = (calls - before_calls, usec - before_usec)
        return ServerUsage(self.cpu_s - other.cpu_s, commands)


def server_usage(url: str) -> ServerUsage:
    """`INFO cpu` (process user + system seconds) and `INFO commandstats` of the server (every
    command, by the name commandstats gives it: `xreadgroup`, `client|unblock`, ...); on a
    cluster, summed over every master (the streams and groups may live on several)."""
    cpu_s = 0.0
    commands: dict[str, tuple[int, int]] = {}
    for node in inspect_server(url).masters:
        with redis.Redis.from_url(node) as client:
            cpu: Any = client.info("cpu")
            stats: Any = client.info("commandstats")
        cpu_s += float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
        for name, entry in stats.items():
            calls, usec = commands.get(name.removeprefix("cmdstat_"), (0, 0))
            commands[name.removeprefix("cmdstat_")] = (
                calls + int(entry["calls"]),
                usec + int(entry["usec"]),
            )
    return ServerUsage(cpu_s, commands)


async def fanout_consume(
    *, notify: Any, url: str, engines: list[str], expected: int, deadline_s: float = 60.0
) -> dict[str, Any]:
    """Run the consume loops of `engines` (quotes only) until each has handled `expected`."""
    return await count_deliveries(
        lambda client, count: client.subscribe(Quote, count),
        notify=notify,
        url=url,
        engines=engines,
        expected=expected,
        deadline_s=deadline_s,
    )


async def count_deliveries(
    subscribe: Callable[[UniversalMessageBusClient, Callable[[Delivery[Quote]], None]], None],
    *,
    notify: Any,
    url: str,
    engines: list[str],
    expected: int,
    deadline_s: float,
) -> dict[str, Any]:
    """Each engine's consume loop with a counting handler (`subscribe` attaches it), until every
    engine has handled `expected` quotes or the deadline passed: the counts and when it ended."""
    counts = dict.fromkeys(engines, 0)
    clients = []
    for engine in engines:
        config = MessageBusConfig(engine=engine, redis_url=url, trim_interval_ms=0)
        client = UniversalMessageBusClient(config, publishes=())

        def count(delivery: Delivery[Quote], engine: str = engine) -> None:
            counts[engine] += 1

        subscribe(client, count)
        clients.append(client)
    try:
        for client in clients:
            await client.start(consume=True)
        notify("ready")
        deadline = time.monotonic() + deadline_s
        while min(counts.values()) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        finished_ns = time.time_ns()
    finally:
        for client in clients:
            await client.close()
    return {"counts": counts, "finished_ns": finished_ns}


@dataclass(frozen=True)
class FanoutResult:
    """Server CPU of the same quotes published with and without the groups consuming them."""

    groups: int
    quotes: int
    delivered: int
    consuming: ServerUsage
    publish_only: ServerUsage

    @property
    def server_us_per_group_delivery(self) -> float:
        """Server CPU µs spent per quote delivered to one group (read + acknowledge)."""
        return (self.consuming.cpu_s - self.publish_only.cpu_s) / self.delivered * 1e6

    def breakdown(self) -> dict[str, float]:
        """XREADGROUP, XACK, XCLAIM and XAUTOCLAIM calls per delivery (commandstats). Their
        `usec` is not in the report: it is wall-clock time inside the command, which a server
        preempted on a loaded machine overstates, and for a blocking XREADGROUP some servers
        count the time it was blocked."""
        return {
            f"{name}_calls_per_delivery": self.consuming.commands.get(name, (0, 0))[0]
            / self.delivered
            for name in _BREAKDOWN
        }

    def commands_per_delivery(self) -> dict[str, dict[str, float]]:
        """Every command the consuming run sent, less the publishing-only run's: calls and
        commandstats µs per delivery (`python -m nautilus.bench.fanout`)."""
        table = {}
        for name, (calls, usec) in sorted(self.consuming.commands.items()):
            base_calls, base_usec = self.publish_only.commands.get(name, (0, 0))
            if calls - base_calls > 0:
                table[name] = {
                    "calls": (calls - base_calls) / self.delivered,
                    "usec": (usec - base_usec) / self.delivered,
                }
        return table


def _publish_at_rate(url: str, workers: Workers, rate: float, duration_s: float) -> None:
    """Start the MarketData client publishing at `rate` (default buffering) a moment from now."""
    start_at = time.time_ns() + 200_000_000
    workers.publisher.submit(
        "publish_quotes", url=url, start_at_ns=start_at, rate=rate, duration_s=duration_s
    )
    workers.publisher.wait_ready()


def fanout_server_cost(url: str, workers: Workers, rate: float, duration_s: float) -> FanoutResult:
    """Quotes at `rate` for `duration_s`, once with nobody reading, once with every group's
    consumer (split over the consumer and CRITICAL-publisher processes) handling them all."""
    engines = quote_consumers()
    half = (len(engines) + 1) // 2
    reset_streams(url)
    _publish_at_rate(url, workers, rate, duration_s)
    before = server_usage(url)
    sent = int(workers.publisher.result()["sent"])
    publish_only = server_usage(url) - before

    reset_streams(url)
    consumers = ((workers.consumer, engines[:half]), (workers.critical, engines[half:]))
    for worker, names in consumers:
        worker.submit("fanout_consume", url=url, engines=names, expected=sent)
    for worker, _ in consumers:
        worker.wait_ready()
    _publish_at_rate(url, workers, rate, duration_s)
    before = server_usage(url)
    workers.publisher.result()
    counts: dict[str, int] = {}
    for worker, _ in consumers:
        counts.update(worker.result()["counts"])
    consuming = server_usage(url) - before
    reset_streams(url)
    missing = {engine: sent - count for engine, count in counts.items() if count < sent}
    if missing:
        raise RuntimeError(f"fan-out: groups short of {sent} quotes: {missing}")
    return FanoutResult(len(engines), sent, sent * len(engines), consuming, publish_only)


def _run_alone(arguments: argparse.Namespace) -> list[dict[str, Any]]:
    engines = quote_consumers()
    noack = len(best_effort_quote_consumers())
    rounds = []
    workers = Workers.start()
    try:
        for index in range(arguments.rounds):
            load = os.getloadavg()[0]
            result = fanout_server_cost(arguments.url, workers, arguments.rate, arguments.seconds)
            floors = _route_floors(arguments, len(engines), noack)
            mixed = floors["mixed"]
            commands = result.commands_per_delivery()
            figures: dict[str, Any] = {
                "round": index + 1,
                "load_average_1m": load,
                "server_us_per_group_delivery": result.server_us_per_group_delivery,
                "floor_server_us_per_group_delivery": floors["ack"],
                "floor_noack_server_us_per_group_delivery": floors["noack"],
                "floor_mixed_server_us_per_group_delivery": mixed,
                "groups": len(engines),
                "noack_groups": noack,
                "commands_per_delivery": commands,
            }
            rounds.append(figures)
            print(
                f"round {index + 1} (load {load:.1f}): {result.server_us_per_group_delivery:.2f} "
                f"µs per delivery; floors {floors['ack']:.2f} (XACK) / {floors['noack']:.2f} "
                f"(NOACK) / {mixed:.2f} ({noack} of {len(engines)} groups NOACK)",
                flush=True,
            )
            for name, row in commands.items():
                print(f"    {name:20} {row['calls']:.5f} calls  {row['usec']:.3f} µs per delivery")
            if arguments.layouts:
                figures["floor_layouts"] = _layout_floors(arguments, len(engines), noack)
    finally:
        workers.close()
    return rounds


def _route_floors(
    arguments: argparse.Namespace,
    groups: int,
    noack_groups: int,
    entries: list[list[bytes]] | None = None,
) -> dict[str, float]:
    """The server floors per delivery of `entries` (default: as the MarketData client writes
    them) with XACK and with NOACK, and their mix for a route with `noack_groups` of `groups`
    reading NOACK; drained on the stream's master when the server is a cluster."""
    from nautilus.bench.floors import server_floor_per_delivery

    stream_url = inspect_server(arguments.url).stream_url
    floors = {
        kind: server_floor_per_delivery(
            stream_url, arguments.floor_count, groups, noack=kind == "noack", entries=entries
        )["server_us_per_group_delivery"]
        for kind in ("ack", "noack")
    }
    floors["mixed"] = (
        floors["ack"] * (groups - noack_groups) + floors["noack"] * noack_groups
    ) / groups
    return floors


def _layout_floors(
    arguments: argparse.Namespace, groups: int, noack_groups: int
) -> dict[str, dict[str, float]]:
    """The server floors (with XACK, NOACK, the route's mix) for each of `entry_layouts`."""
    from nautilus.bench.floors import entry_layouts

    figures = {}
    for name, entries in entry_layouts().items():
        floors = figures[name] = _route_floors(arguments, groups, noack_groups, entries)
        print(
            f"    floor, {name:38} {floors['ack']:.2f} (XACK) / {floors['noack']:.2f} (NOACK) / "
            f"{floors['mixed']:.2f} (the route's mix) µs per delivery",
            flush=True,
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the fan-out scenario alone: `python -m nautilus.bench.fanout --rounds 3`."""
    parser = argparse.ArgumentParser(
        prog="python -m nautilus.bench.fanout", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=int, default=5_000, help="quotes per second")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of publishing")
    parser.add_argument("--floor-count", type=int, default=20_000, help="entries of the floors")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--json", metavar="FILE", help="write the rounds as JSON to FILE")
    parser.add_argument(
        "--layouts",
        action="store_true",
        help="also drain the floors with the envelope in fewer fields (bench/floors.py "
        "entry_layouts): what the server's per-field work costs a delivery",
    )
    arguments = parser.parse_args(argv)
    if arguments.redis_url:
        arguments.url = arguments.redis_url
        rounds = _run_alone(arguments)
    else:
        from nautilus.runtime.server import EmbeddedServer

        with EmbeddedServer() as server:
            arguments.url = server.url
            rounds = _run_alone(arguments)
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(rounds, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
