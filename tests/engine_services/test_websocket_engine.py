"""The WebSocket engine's port: browsers get the routed messages they asked for as JSON frames,
and the same port answers /health and /metrics over plain HTTP."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect

from nautilus.clients.marketdata import MarketDataClient
from nautilus.clients.websocket import WebSocketClient
from nautilus.common.v1 import common_pb2
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.websocket.browser_server import BrowserServer
from nautilus.engines.websocket.service import WebSocketService
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.metrics import BusMetrics
from nautilus.runtime.transport.memory import InMemoryTransport

BTC = "BTCUSDT.BINANCE"


@pytest.fixture(params=["memory", "redis"])
def server_url(request: pytest.FixtureRequest) -> str | None:
    """None for the in-process transport, else the session server's URL (emptied for the test)."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        return url
    return None


TS = 1_767_225_600_000_000_000


@asynccontextmanager
async def _websocket_engine(
    redis_url: str | None,
) -> AsyncIterator[tuple[BrowserServer, MarketDataClient]]:
    """A consuming WebSocket engine serving on a free port, and a MarketData client beside it,
    on one in-memory transport or, given `redis_url`, each on its own connection to that server."""
    transport = None if redis_url else InMemoryTransport()

    def bus(engine: str) -> UniversalMessageBusClient:
        config = MessageBusConfig(
            engine=engine, read_block_ms=20, trim_interval_ms=0, redis_url=redis_url or ""
        )
        return UniversalMessageBusClient(config, transport)

    service = WebSocketService(WebSocketClient(bus("websocket")), RunSettings())
    metrics = BusMetrics()
    metrics.attach(service.client.bus)
    server = BrowserServer(service, metrics)
    await service.start()
    await server.start("127.0.0.1", 0)
    marketdata = MarketDataClient(bus("marketdata"))
    await marketdata.start()
    try:
        yield server, marketdata
    finally:
        await marketdata.close()
        await server.close()
        await service.close()


async def _wait_for(condition: object) -> None:
    deadline = time.monotonic() + 10.0  # bounds a hang; asserts no timing
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


async def test_a_browser_gets_the_quotes_it_asked_for_as_json_frames(
    server_url: str | None,
) -> None:
    async with _websocket_engine(server_url) as (server, marketdata):
        url = f"ws://127.0.0.1:{server.port}/?topics=marketdata.quote.*"
        async with connect(url) as browser:
            await _wait_for(lambda: server.service.fanout.browsers)
            trade = Trade(instrument_id=BTC, price_e9=64_250 * 10**9, size_e9=10**8, ts_event=TS)
            trade.aggressor_side = common_pb2.ORDER_SIDE_BUY
            await marketdata.publish_trade(trade)  # not a topic this browser asked for
            quote = Quote(
                instrument_id=BTC,
                bid_price_e9=64_250 * 10**9,
                ask_price_e9=64_251 * 10**9,
                ts_event=TS + 1,
            )
            await marketdata.publish_quote(quote)
            frame = json.loads(await asyncio.wait_for(browser.recv(), 10.0))

    assert frame["topic"] == f"marketdata.quote.{BTC}"
    assert frame["sourceType"] == "nautilus.marketdata.v1.Quote"
    assert frame["sequence"] == "1"
    assert frame["payload"]["bidPriceE9"] == str(64_250 * 10**9)
    assert frame["payload"]["tsEvent"] == str(TS + 1)
    assert server.service.tally.published == {"nautilus.websocket.v1.FrontendUpdate": 1}


async def test_the_websocket_port_answers_health_and_metrics_over_http(
    server_url: str | None,
) -> None:
    async with _websocket_engine(server_url) as (server, _):

        def get(path: str) -> tuple[int, str, bytes]:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}") as answer:
                return answer.status, answer.headers["Content-Type"], answer.read()

        health = await asyncio.to_thread(get, "/health")
        metrics = await asyncio.to_thread(get, "/metrics")

    status, content_type, body = health
    assert (status, content_type) == (200, "application/json")
    report = json.loads(body)
    assert (report["engine"], report["status"]) == ("websocket", "ok")
    assert "nautilus-marketdata-streams" in report["lanes"]
    assert metrics[0] == 200
    assert metrics[1].startswith("text/plain")
    assert b"nautilus_bus_consumed_total" in metrics[2]
