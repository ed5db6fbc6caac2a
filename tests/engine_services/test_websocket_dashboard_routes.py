"""The dashboard's routes on the WebSocket engine's port: the page and its files as shipped in
the package, the desk's recent frames, and the engines' rows with rates from two answers."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

from nautilus.clients.vpin import VPINClient
from nautilus.clients.websocket import WebSocketClient
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.websocket.browser_server import STATIC_FILES, BrowserServer, static_file
from nautilus.engines.websocket.peers import engine_state
from nautilus.engines.websocket.service import WebSocketService
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.metrics import BusMetrics
from nautilus.runtime.transport.memory import InMemoryTransport
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning


async def _wait_for(condition: object) -> None:
    deadline = time.monotonic() + 10.0  # bounds a hang; asserts no timing
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as answer:
        return answer.status, answer.headers["Content-Type"], answer.read()


async def test_the_page_its_files_and_the_recent_desk_frames_are_served_over_http() -> None:
    transport = InMemoryTransport()

    def bus(engine: str) -> UniversalMessageBusClient:
        config = MessageBusConfig(engine=engine, read_block_ms=20, trim_interval_ms=0)
        return UniversalMessageBusClient(config, transport)

    service = WebSocketService(WebSocketClient(bus("websocket")), RunSettings())
    server = BrowserServer(service, BusMetrics())
    await service.start()
    await server.start("127.0.0.1", 0)
    vpin = VPINClient(bus("vpin"))
    await vpin.start(consume=False)
    try:
        warning = FlashCrashWarning(instrument_id="BTCUSDT.BINANCE", price_drop_bps=201)
        await vpin.publish_flash_crash_warning(warning)
        await _wait_for(lambda: service.desk_history)
        answers = {
            path: await asyncio.to_thread(_get, server.port, path)
            for path in [*STATIC_FILES, "/api/desk"]
        }
    finally:
        await vpin.close()
        await server.close()
        await service.close()

    for path, (name, content_type) in STATIC_FILES.items():
        assert answers[path] == (200, content_type, static_file(name))
    assert b'<script src="dashboard.js">' in answers["/"][2]
    frames = json.loads(answers["/api/desk"][2])["frames"]
    assert [f["topic"] for f in frames] == ["vpin.flash_crash_warning"]
    assert frames[0]["payload"]["priceDropBps"] == 201
    assert service.tally.published == {"nautilus.websocket.v1.FrontendUpdate": 1}


def test_an_engine_row_has_its_rates_from_two_answers() -> None:
    health: dict[str, Any] = {
        "status": "ok",
        "lanes": {"a": {"lag": 3}, "b": {"lag": 4}},
        "service": {"consumed": 300, "published": 50, "handler_errors": 1},
    }
    previous = {"consumed": 100, "published": 30}

    row = engine_state("risk", 8200, health, previous, elapsed_s=2.0)

    assert row == {
        "engine": "risk", "port": 8200, "status": "ok", "consumed": 300, "published": 50,
        "lag": 7, "errors": 1, "consumed_per_s": 100.0, "published_per_s": 10.0,
    }  # fmt: skip


def test_an_engine_that_does_not_answer_or_has_not_started_says_so() -> None:
    assert engine_state("risk", 8200, None, None, 1.0)["status"] == "not answering"
    assert engine_state("risk", None, None, None, 1.0)["status"] == "not started"
