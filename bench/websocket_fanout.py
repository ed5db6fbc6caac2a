"""Fan-out to many browsers, measured: N WebSocket clients on one WebSocket engine process.

`python -m nautilus.bench.websocket_fanout --clients 1000,5000,10000` (or `make bench-websocket`)
runs, for each N, on a private server:

1. the real WebSocket engine as its own process (`python -m nautilus.engines.process websocket`);
2. N clients on loopback, spread over `--client-processes` processes, each subscribed to quotes
   and flash-crash warnings (`?topics=marketdata.quote.*,vpin.flash_crash_warning`); the clients
   are minimal (handshake, frame parsing, pong) so that they, not the engine, cost little;
3. MarketData publishing `--rate` quotes a second on the bus for `--seconds`, each stamped with
   its publish time (`ts_init`, wall clock), and VPIN one FlashCrashWarning a second;
4. every client timing each frame on arrival against the `ts_init` of the message inside it:
   publish on the bus -> consumed by the engine -> encoded -> pushed -> parsed by the client.

Reported per N: frames delivered per second (all clients together, from the first publish to the
last frame), p50/p99 publish->client latency of quotes and of alerts, the engine's resident memory
per connection (RSS with N idle clients minus RSS with none, over N), alerts received against
alerts published (never dropped), and the quotes the engine dropped for clients that were behind.

The publishing rate is offered load: when N x rate frames a second are more than one process can
write, clients fall behind, their quote queues drop the oldest quotes (alerts are never dropped),
and latency grows; the report shows both. All processes share the machine: on a 2-core machine the
clients compete with the engine and the server, so the figures are a floor for the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.machine import machine_info
from nautilus.clients.marketdata import MarketDataClient
from nautilus.clients.vpin import VPINClient
from nautilus.common.v1 import common_pb2
from nautilus.engines.launcher import fetch_health
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.server import EmbeddedServer
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning

__all__ = ["FanoutPoint", "main", "measure", "raise_fd_limit"]

TOPICS = "marketdata.quote.*,vpin.flash_crash_warning"
INSTRUMENTS = ("BTCUSDT.BINANCE", "ETHUSDT.BINANCE", "SOLUSDT.BINANCE")
_TS_INIT = b'"tsInit":"'
_ALERT_TOPIC = b'"topic":"vpin.'
_CONNECT_BATCH = 100
_DEADLINE_S = 120.0


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit to at least `needed` (up to the hard limit); returns
    the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft


# -- the clients ------------------------------------------------------------------------------


class _Tally:
    """What one client process received."""

    def __init__(self) -> None:
        self.quotes = LatencyHistogram()
        self.alerts = LatencyHistogram()
        self.alert_counts: list[int] = []
        self.last_ns = 0


class _Browser(asyncio.Protocol):
    """A minimal WebSocket client: handshake, unmasked server frames, pongs; times each frame."""

    def __init__(self, tally: _Tally, opened: asyncio.Future[None]) -> None:
        self.tally = tally
        self.opened = opened
        self.buffer = bytearray()
        self.upgraded = False
        self.alerts = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET /?topics={TOPICS} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buffer[:80]).decode()))
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        now = time.time_ns()
        offset = 0
        size = len(buffer)
        while size - offset >= 2:
            length = buffer[offset + 1] & 0x7F
            header = 2
            if length == 126:
                header = 4
                if size - offset < header:
                    break
                length = int.from_bytes(buffer[offset + 2 : offset + 4], "big")
            elif length == 127:
                header = 10
                if size - offset < header:
                    break
                length = int.from_bytes(buffer[offset + 2 : offset + 10], "big")
            end = offset + header + length
            if end > size:
                break
            opcode = buffer[offset] & 0x0F
            if opcode == 0x1:
                self._frame(bytes(buffer[offset + header : end]), now)
            elif opcode == 0x9:
                self._pong(bytes(buffer[offset + header : end]))
            offset = end
        del buffer[:offset]

    def _frame(self, payload: bytes, now: int) -> None:
        at = payload.rfind(_TS_INIT)
        if at < 0:
            return
        start = at + len(_TS_INIT)
        published = int(payload[start : payload.index(b'"', start)])
        if _ALERT_TOPIC in payload[:40]:
            self.alerts += 1
            self.tally.alerts.record_ns(max(1, now - published))
        else:
            self.tally.quotes.record_ns(max(1, now - published))
        self.tally.last_ns = now

    def _pong(self, data: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        assert self.transport is not None
        self.transport.write(bytes([0x8A, 0x80 | len(data)]) + mask + masked)


async def _clients(port: int, count: int, pipe: Pipe) -> None:
    loop = asyncio.get_running_loop()
    tally = _Tally()
    browsers: list[_Browser] = []
    for start in range(0, count, _CONNECT_BATCH):
        opened = []
        for _ in range(min(_CONNECT_BATCH, count - start)):
            future: asyncio.Future[None] = loop.create_future()
            _, browser = await loop.create_connection(
                functools.partial(_Browser, tally, future), "127.0.0.1", port
            )
            browsers.append(browser)
            opened.append(future)
        await asyncio.gather(*opened)
    pipe.send("connected")
    stop = asyncio.Event()
    loop.add_reader(pipe.fileno(), stop.set)
    await stop.wait()
    loop.remove_reader(pipe.fileno())
    pipe.recv()
    pipe.send(
        {
            "quotes": tally.quotes.encode(),
            "alerts": tally.alerts.encode(),
            "alerts_per_client": [b.alerts for b in browsers],
            "last_ns": tally.last_ns,
        }
    )
    for browser in browsers:
        if browser.transport is not None:
            browser.transport.abort()


def _client_process(port: int, count: int, pipe: Pipe) -> None:
    raise_fd_limit(count + 100)
    asyncio.run(_clients(port, count, pipe))


# -- the engine and the publishers ------------------------------------------------------------


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class _Engine:
    """The WebSocket engine (or, with `edge`, an edge process) on a free port."""

    def __init__(self, redis_url: str, run_dir: Path, *, edge: bool = False) -> None:
        self.run_dir = run_dir
        name = "edge" if edge else "websocket"
        self.log = (run_dir / f"{name}.log").open("w")
        module = ["nautilus.engines.websocket.edge"] if edge else ["nautilus.engines.process", name]
        self.process = subprocess.Popen(
            [sys.executable, "-m", *module,
             "--redis-url", redis_url, "--port", "0", "--run-dir", str(run_dir)],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.ready_path = (
            run_dir / f"edge-{self.process.pid}.ready.json"
            if edge
            else run_dir / f"{name}.ready.json"
        )
        self.port = 0

    async def ready(self) -> None:
        deadline = time.monotonic() + _DEADLINE_S
        while not self.ready_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the process did not start; see {self.log.name}")
            await asyncio.sleep(0.05)
        self.port = int(json.loads(self.ready_path.read_text())["port"])

    async def facts(self) -> dict[str, Any]:
        health = await fetch_health(self.port, timeout_s=10.0)
        facts: dict[str, Any] = (health or {}).get("service", {})
        return facts

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _bus(engine: str, redis_url: str) -> UniversalMessageBusClient:
    return UniversalMessageBusClient(
        MessageBusConfig(engine=engine, redis_url=redis_url, trim_interval_ms=0)
    )


async def _publish(redis_url: str, rate: float, seconds: float) -> tuple[int, int, int]:
    """Quotes at `rate` a second and one FlashCrashWarning a second for `seconds`; returns
    (quotes, alerts, first publish ns)."""
    marketdata = MarketDataClient(_bus("marketdata", redis_url))
    vpin = VPINClient(_bus("vpin", redis_url))
    await marketdata.start(consume=False)
    await vpin.start(consume=False)
    quotes = alerts = 0
    started = time.monotonic()
    first_ns = time.time_ns()
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            while quotes < elapsed * rate:
                now = time.time_ns()
                instrument = INSTRUMENTS[quotes % len(INSTRUMENTS)]
                quote = Quote(
                    instrument_id=instrument,
                    bid_price_e9=64_000 * 10**9 + quotes,
                    ask_price_e9=64_001 * 10**9 + quotes,
                    ts_event=now,
                    ts_init=now,
                )
                await marketdata.publish_quote(quote, key=instrument)
                quotes += 1
            if alerts < elapsed:
                now = time.time_ns()
                warning = FlashCrashWarning(
                    instrument_id=INSTRUMENTS[0],
                    price_drop_bps=200.0,
                    severity=common_pb2.SEVERITY_CRITICAL,
                    ts_event=now,
                    ts_init=now,
                )
                await vpin.publish_flash_crash_warning(warning, key=INSTRUMENTS[0])
                alerts += 1
            await marketdata.flush()
            await asyncio.sleep(min(0.005, 1 / rate))
    finally:
        await marketdata.close()
        await vpin.close()
    return quotes, alerts, first_ns


# -- one measurement --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FanoutPoint:
    """The figures for N clients."""

    clients: int
    quotes_published: int
    alerts_published: int
    frames_delivered: int
    delivered_per_s: float
    quote_p50_ms: float
    quote_p99_ms: float
    alert_p50_ms: float
    alert_p99_ms: float
    alerts_received_min: int
    alerts_received_max: int
    quotes_dropped: int
    rss_idle_mib: float
    memory_per_connection_kib: float

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


async def measure(
    redis_url: str,
    clients: int,
    *,
    rate: float,
    seconds: float,
    client_processes: int,
    edge: bool = False,
) -> FanoutPoint:
    """Start an engine, connect `clients`, publish, and collect the figures. With `edge`, the
    clients connect to an edge process that reads the engine's stream, and the figures (memory,
    drops) are the edge's."""
    with tempfile.TemporaryDirectory(prefix="nautilus-fanout-") as tmp:
        upstream = _Engine(redis_url, Path(tmp)) if edge else None
        engine = _Engine(redis_url, Path(tmp), edge=edge)
        workers: list[tuple[Any, Pipe]] = []
        try:
            if upstream is not None:
                await upstream.ready()
            await engine.ready()
            await asyncio.sleep(1.0)
            rss_before = _rss_bytes(engine.process.pid)
            context = multiprocessing.get_context("spawn")
            share = [clients // client_processes] * client_processes
            share[0] += clients - sum(share)
            for count in share:
                ours, theirs = context.Pipe()
                worker = context.Process(target=_client_process, args=(engine.port, count, theirs))
                worker.start()
                workers.append((worker, ours))
            for _, pipe in workers:
                await _receive(pipe)
            while (await engine.facts()).get("browsers") != clients:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            rss_after = _rss_bytes(engine.process.pid)
            quotes, alerts, first_ns = await _publish(redis_url, rate, seconds)
            await _settle(engine, quotes + alerts)
            results = []
            for _, pipe in workers:
                pipe.send("stop")
                results.append(await _receive(pipe))
            facts = await engine.facts()
        finally:
            for worker, _ in workers:
                worker.join(30)
                if worker.is_alive():
                    worker.kill()
            engine.stop()
            if upstream is not None:
                upstream.stop()
    quote_latency = LatencyHistogram()
    alert_latency = LatencyHistogram()
    per_client: list[int] = []
    last_ns = first_ns
    for result in results:
        quote_latency.add(LatencyHistogram.decode(result["quotes"]))
        alert_latency.add(LatencyHistogram.decode(result["alerts"]))
        per_client.extend(result["alerts_per_client"])
        last_ns = max(last_ns, result["last_ns"])
    delivered = quote_latency.count + alert_latency.count
    return FanoutPoint(
        clients=clients,
        quotes_published=quotes,
        alerts_published=alerts,
        frames_delivered=delivered,
        delivered_per_s=delivered / max(1e-9, (last_ns - first_ns) / 1e9),
        quote_p50_ms=quote_latency.percentile_ns(50) / 1e6,
        quote_p99_ms=quote_latency.percentile_ns(99) / 1e6,
        alert_p50_ms=alert_latency.percentile_ns(50) / 1e6,
        alert_p99_ms=alert_latency.percentile_ns(99) / 1e6,
        alerts_received_min=min(per_client),
        alerts_received_max=max(per_client),
        quotes_dropped=int(facts.get("quotes_dropped", 0)),
        rss_idle_mib=rss_before / 2**20,
        memory_per_connection_kib=(rss_after - rss_before) / clients / 1024,
    )


async def _receive(pipe: Pipe) -> Any:
    deadline = time.monotonic() + _DEADLINE_S * 3
    while not pipe.poll():
        if time.monotonic() > deadline:
            raise RuntimeError("a client process did not answer")
        await asyncio.sleep(0.05)
    return pipe.recv()


async def _settle(engine: _Engine, published: int) -> None:
    """Wait (bounded) until the engine has turned every published message into an update and
    its count of frames written stays the same between two answers."""
    deadline = time.monotonic() + _DEADLINE_S
    previous = -1
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        facts = await engine.facts()
        if not facts:
            continue  # no answer in time: not known to be settled
        written = int(facts.get("frames_sent", 0))
        handled = int(facts.get("updates", facts.get("relayed", published)))
        if handled >= published and written == previous:
            return
        previous = written


def _table(points: Sequence[FanoutPoint], rate: float, edge: bool) -> str:
    process = "one edge process" if edge else "one engine process"
    lines = [
        f"WebSocket fan-out, {process}, {rate:g} quotes/s + 1 alert/s offered",
        f"{'clients':>8} {'frames/s':>10} {'quote p50':>10} {'quote p99':>10} "
        f"{'alert p50':>10} {'alert p99':>10} {'alerts':>9} {'dropped':>9} {'KiB/conn':>9}",
    ]
    for p in points:
        lines.append(
            f"{p.clients:>8,} {p.delivered_per_s:>10,.0f} {p.quote_p50_ms:>8.1f}ms "
            f"{p.quote_p99_ms:>8.1f}ms {p.alert_p50_ms:>8.1f}ms {p.alert_p99_ms:>8.1f}ms "
            f"{p.alerts_received_min:>4}/{p.alerts_published:<4} {p.quotes_dropped:>9,} "
            f"{p.memory_per_connection_kib:>9.1f}"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nautilus.bench.websocket_fanout",
        description="N WebSocket clients on one WebSocket engine: delivered frames/s, "
        "publish->client latency, memory per connection, alerts never dropped.",
    )
    parser.add_argument("--clients", default="1000,5000,10000", help="comma-separated N")
    parser.add_argument("--rate", type=float, default=10.0, help="quotes published per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="publishing time per N")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--edge",
        action="store_true",
        help="clients on an edge process reading the WebSocket engine's stream",
    )
    parser.add_argument("--redis-url", default="", help="default: a private embedded server")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        counts = [int(n) for n in args.clients.split(",")]
    except ValueError:
        print(f"--clients must be comma-separated integers, got {args.clients!r}", file=sys.stderr)
        return 2
    if not counts or min(counts) < 1 or args.rate <= 0 or args.seconds <= 0:
        print("--clients, --rate and --seconds must be positive", file=sys.stderr)
        return 2
    raise_fd_limit(max(counts) + 1000)
    server: EmbeddedServer | None = None
    url = args.redis_url
    if not url:
        server = EmbeddedServer()
        server.start()
        url = server.url
    points: list[FanoutPoint] = []
    try:
        for count in counts:
            point = asyncio.run(
                measure(
                    url,
                    count,
                    rate=args.rate,
                    seconds=args.seconds,
                    client_processes=args.client_processes,
                    edge=args.edge,
                )
            )
            points.append(point)
            print(_table(points, args.rate, args.edge), flush=True)
    finally:
        if server is not None:
            server.close()
    if args.json is not None:
        report = {
            "machine": machine_info(),
            "rate_quotes_per_s": args.rate,
            "edge": args.edge,
            "seconds": args.seconds,
            "points": [p.as_dict() for p in points],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"figures: {args.json}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
