"""`/metrics` and `/health` on an engine's port: a tiny HTTP/1.1 server on the engine's event loop.

It runs on the same asyncio loop as the bus clients, so a scrape reads their counters without
locks, and a loop stalled by a handler shows up as a scrape timeout, which is what an operator
should see. Each request gets one response and the connection is closed; nothing else is served.

- `GET /metrics`: every metric of `BusMetrics` in the Prometheus text format.
- `GET /health`: JSON `{"engine", "status", "lanes": {lane: {"pending", "lag"}}}` for the lanes
  the clients consume, from the server's own bookkeeping, merged with what the engine's `health`
  callable adds. Status 200 when `status` is "ok", 503 otherwise: an unreachable server is
  reported as status "unreachable", a consume loop that has ended as "consumer-stopped", each
  with the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.errors import TransportError
from nautilus.runtime.metrics import BusMetrics
from nautilus.runtime.stream_info import lane_info
from nautilus.runtime.transport.redis import RedisTransport

__all__ = ["HealthCheck", "HttpEndpoints", "health_report", "serve_http"]

#: Extra health fields of an engine (e.g. {"status": "degraded", "reason": "..."}); sync or async.
HealthCheck = Callable[[], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]

_MAX_REQUEST_BYTES = 16_384
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


async def _lane_summary(client: UniversalMessageBusClient) -> dict[str, dict[str, int | None]]:
    group = client.config.consumer_group
    summary: dict[str, dict[str, int | None]] = {}
    transport = client.transport
    for lane in client.consumer.lanes:
        if isinstance(transport, RedisTransport):
            info = await lane_info(transport.client, lane, with_consumers=False)
            mine = [g for g in info.groups if g.name == group]
            summary[lane] = {
                "pending": mine[0].pending if mine else 0,
                "lag": mine[0].lag if mine else info.length,
            }
        else:
            states = [s for s in await transport.group_states(lane) if s.name == group]
            summary[lane] = {"pending": states[0].pending if states else 0, "lag": None}
    return summary


async def health_report(
    clients: Sequence[UniversalMessageBusClient], health: HealthCheck | None = None
) -> dict[str, Any]:
    """What `/health` answers: engine, status, the consumed lanes' pending and lag, extras."""
    engines = sorted({client.config.engine for client in clients})
    report: dict[str, Any] = {"engine": ",".join(engines), "status": "ok", "lanes": {}}
    try:
        for client in clients:
            report["lanes"].update(await _lane_summary(client))
    except TransportError as exc:
        report["status"] = "unreachable"
        report["error"] = str(exc)
    for client in clients:
        if not client.consuming:
            report["status"] = "consumer-stopped"
            report["error"] = (
                f"{client.config.engine} consume loop ended: {client.consume_failure!r}"
            )
    if health is not None:
        extra = health()
        if inspect.isawaitable(extra):
            extra = await extra
        report.update(extra)
    return report


class HttpEndpoints:
    """A running `/metrics` + `/health` server; `close()` stops it."""

    def __init__(
        self,
        clients: Sequence[UniversalMessageBusClient],
        metrics: BusMetrics,
        health: HealthCheck | None,
    ) -> None:
        self.clients = tuple(clients)
        self.metrics = metrics
        self._health = health
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on (the chosen one when started with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the HTTP endpoints are not running")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path = self._request_line(head)
            status, content_type, body = await self._respond(method, path)
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + (b"" if method == "HEAD" else body)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @staticmethod
    def _request_line(head: bytes) -> tuple[str, str]:
        parts = head[:_MAX_REQUEST_BYTES].split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) < 2:
            return "", ""
        return parts[0].upper(), parts[1].split("?", 1)[0]

    async def _respond(self, method: str, path: str) -> tuple[int, str, bytes]:
        if path not in ("/metrics", "/health"):
            return 404, "text/plain; charset=utf-8", b"not found: try /metrics or /health\n"
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", b"only GET\n"
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, self.metrics.exposition()
        report = await health_report(self.clients, self._health)
        status = 200 if report.get("status") == "ok" else 503
        return status, "application/json", json.dumps(report, sort_keys=True).encode() + b"\n"


async def serve_http(
    port: int,
    clients: Sequence[UniversalMessageBusClient],
    *,
    health: HealthCheck | None = None,
    host: str = "127.0.0.1",
    metrics: BusMetrics | None = None,
) -> HttpEndpoints:
    """Serve `/metrics` and `/health` for `clients` on `host:port` (0: any free port).

    Attaches the clients to `metrics` (a new `BusMetrics` when None), so handler and end-to-end
    latency are observed from now on. Must be called on the clients' event loop.
    """
    metrics = metrics or BusMetrics()
    for client in clients:
        metrics.attach(client)
    endpoints = HttpEndpoints(clients, metrics, health)
    await endpoints.start(host, port)
    return endpoints
