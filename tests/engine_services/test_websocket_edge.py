"""WebSocket edges share the WebSocket engine's stream: each edge reads every FrontendUpdate the
engine publishes (no consumer group) and writes it to its own browsers, on a real server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from websockets.asyncio.client import connect

from nautilus.clients.websocket import WebSocketClient
from nautilus.engines.websocket.browser_server import BrowserServer
from nautilus.engines.websocket.edge import EdgeRelay
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.metrics import BusMetrics
from nautilus.websocket.v1.websocket_pb2 import FrontendUpdate

QUOTE = "marketdata.quote.BTCUSDT.BINANCE"


async def _wait_for(condition: object) -> None:
    deadline = time.monotonic() + 30.0  # bounds a hang; asserts no timing
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


@asynccontextmanager
async def _edge(redis_url: str) -> AsyncIterator[tuple[EdgeRelay, int]]:
    relay = EdgeRelay(redis_url)
    server = BrowserServer(relay, BusMetrics(), tail=relay.feed)
    await server.start("127.0.0.1", 0)
    try:
        yield relay, server.port
    finally:
        await server.close()


async def test_every_edge_gets_every_update_and_serves_its_own_browsers(redis_url: str) -> None:
    config = MessageBusConfig(engine="websocket", redis_url=redis_url, trim_interval_ms=0)
    websocket = WebSocketClient(UniversalMessageBusClient(config))
    await websocket.start(consume=False)
    updates = [
        FrontendUpdate(topic=QUOTE, sequence=n, instrument_id="BTCUSDT.BINANCE", ts_init=n)
        for n in range(1, 51)
    ]
    async with AsyncExitStack() as stack:
        edges = [await stack.enter_async_context(_edge(redis_url)) for _ in range(2)]
        browsers = [
            await stack.enter_async_context(connect(f"ws://127.0.0.1:{port}/")) for _, port in edges
        ]
        await _wait_for(lambda: all(len(relay.fanout) == 1 for relay, _ in edges))
        for update in updates:
            await websocket.publish_frontend_update(update)
        await websocket.flush()
        received = [
            [json.loads(await asyncio.wait_for(b.recv(), 30.0)) for _ in updates] for b in browsers
        ]
    await websocket.close()

    for frames in received:
        assert [int(f["sequence"]) for f in frames] == list(range(1, 51))
        assert {f["topic"] for f in frames} == {QUOTE}
    assert [relay.relayed for relay, _ in edges] == [50, 50]
