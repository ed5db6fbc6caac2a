"""The WebSocket engine's port: a WebSocket server for browsers, with `/health` and `/metrics`
answered over plain HTTP on the same port.

- `ws://HOST:PORT/` (any path but the two below) opens a WebSocket. The query parameter
  `topics` narrows what the browser gets to comma-separated topic patterns, for example
  `ws://127.0.0.1:8600/?topics=marketdata.quote.BTCUSDT.BINANCE,toraniko.*`; without it the
  browser gets every topic the engine selects. Each frame is one `FrontendUpdate` as JSON (see
  `browser_frame`). Messages from the browser are ignored.
- `GET /health` and `GET /metrics` answer exactly as on every other engine's port
  (`nautilus.runtime.http_endpoints`): the websockets library hands such requests to
  `process_request`, which answers them instead of upgrading.
- `GET /` (a request that does not ask to upgrade) is the desk's dashboard: static files shipped
  in the package (`static/`), no build step and nothing fetched from elsewhere. The page reads
  `GET /api/engines` (the engines' states, `peers.py`), `GET /api/desk` (the recent alerts,
  orders and PnL, for a page that connects late or reconnects) and the WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
from collections import deque
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from nautilus.engines.websocket.fanout import Fanout
from nautilus.engines.websocket.peers import PeerWatch
from nautilus.engines.websocket.service import WebSocketService
from nautilus.engines.websocket.stream_tail import StreamTail
from nautilus.engines.websocket.topics import TopicFilter
from nautilus.runtime.http_endpoints import HealthCheck, health_report
from nautilus.runtime.metrics import BusMetrics

__all__ = ["STATIC_FILES", "BrowserServer", "BrowserSource", "static_file", "topics_of"]


class BrowserSource(Protocol):
    """What feeds the browsers: the WebSocket engine itself, or an edge reading its stream."""

    @property
    def fanout(self) -> Fanout: ...

    @property
    def desk_history(self) -> deque[str]: ...

    def health(self) -> dict[str, Any]: ...


#: The dashboard's files by URL path, with their content types.
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}


#: Pending connections the listening socket holds: browsers arrive in bursts (a reconnect wave).
_BACKLOG = 2048


def static_file(name: str) -> bytes:
    """One of the dashboard's files, as shipped in the package."""
    return (resources.files("nautilus.engines.websocket") / "static" / name).read_bytes()


def topics_of(path: str) -> TopicFilter | None:
    """The topic filter a browser asked for in its URL's `topics` parameter (None: all)."""
    query = parse_qs(urlsplit(path).query)
    patterns = tuple(
        pattern.strip()
        for value in query.get("topics", [])
        for pattern in value.split(",")
        if pattern.strip()
    )
    return TopicFilter(include=patterns) if patterns else None


class BrowserServer:
    """The running server of one WebSocket engine; `close()` stops it."""

    def __init__(
        self,
        service: BrowserSource,
        metrics: BusMetrics,
        health: HealthCheck | None = None,
        *,
        peers: PeerWatch | None = None,
        tail: StreamTail | None = None,
    ) -> None:
        self.service = service
        self.metrics = metrics
        self.peers = peers
        self.tail = tail
        self._health = health
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def port(self) -> int:
        """The port listened on (the chosen one when started with port 0)."""
        if self._server is None:
            raise RuntimeError("the browser server is not running")
        return int(next(iter(self._server.sockets)).getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await serve(
            self._browser,
            host,
            port,
            process_request=self._http,
            compression=None,
            backlog=_BACKLOG,
        )
        if self.tail is not None:
            started = asyncio.Event()
            self._tasks.append(asyncio.create_task(self.tail.run(started)))
            await started.wait()
        if self.peers is not None:
            self._tasks.append(asyncio.create_task(self.peers.run()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _browser(self, connection: ServerConnection) -> None:
        request = connection.request
        await self.service.fanout.serve(connection, topics_of(request.path if request else "/"))

    async def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if "upgrade" not in request.headers.get("Connection", "").lower():
            page = self._page(connection, path)
            if page is not None:
                return page
        if path == "/metrics":
            return _response(connection, 200, CONTENT_TYPE_LATEST, self.metrics.exposition())
        if path == "/health":
            service = self.service
            report: dict[str, Any] = (
                await health_report([service.client.bus], self._health or service.health)
                if isinstance(service, WebSocketService)
                else service.health()
            )
            status = 200 if report.get("status") == "ok" else 503
            body = json.dumps(report, sort_keys=True).encode() + b"\n"
            return _response(connection, status, "application/json", body)
        return None

    def _page(self, connection: ServerConnection, path: str) -> Response | None:
        """The dashboard's files and JSON, for plain HTTP requests."""
        if path in STATIC_FILES:
            name, content_type = STATIC_FILES[path]
            return _response(connection, 200, content_type, static_file(name))
        if path == "/api/engines":
            snapshot = self.peers.snapshot() if self.peers is not None else {"engines": []}
            return _json(connection, snapshot)
        if path == "/api/desk":
            return _json(connection, {"frames": [json.loads(f) for f in self.service.desk_history]})
        return None


def _json(connection: ServerConnection, data: Any) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    response = _response(connection, 200, "application/json", body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _response(
    connection: ServerConnection, status: int, content_type: str, body: bytes
) -> Response:
    response = connection.respond(http.HTTPStatus(status), "")
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = content_type
    del response.headers["Content-Length"]
    response.headers["Content-Length"] = str(len(body))
    response.body = body
    return response
