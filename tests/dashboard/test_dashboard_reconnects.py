"""The dashboard page reconnects by itself: when the WebSocket engine goes away the page says so,
and when an engine serves on the port again the page is live again with the alerts it missed
(reloaded from `/api/desk`). Debian's Chromium, headless, driven by Playwright."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright

from nautilus.clients.vpin import VPINClient
from nautilus.clients.websocket import WebSocketClient
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.websocket.browser_server import BrowserServer
from nautilus.engines.websocket.service import WebSocketService
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.metrics import BusMetrics
from nautilus.runtime.transport.memory import InMemoryTransport
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

pytestmark = pytest.mark.slow

_WAIT_MS = 60_000  # bounds a hang; asserts no timing


async def test_the_page_reconnects_and_reloads_what_it_missed() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("no chromium on PATH: run `make chromium` (Debian's chromium package)")
    transport = InMemoryTransport()

    def bus(engine: str) -> UniversalMessageBusClient:
        config = MessageBusConfig(engine=engine, read_block_ms=20, trim_interval_ms=0)
        return UniversalMessageBusClient(config, transport)

    service = WebSocketService(WebSocketClient(bus("websocket")), RunSettings())
    await service.start()
    vpin = VPINClient(bus("vpin"))
    await vpin.start(consume=False)
    server = BrowserServer(service, BusMetrics())
    await server.start("127.0.0.1", 0)
    port = server.port
    warning = FlashCrashWarning(instrument_id="BTCUSDT.BINANCE", price_drop_bps=250)
    await vpin.publish_flash_crash_warning(warning)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page()
            await page.goto(f"http://127.0.0.1:{port}/")
            await page.wait_for_selector("#connection[data-state=live]", timeout=_WAIT_MS)
            await page.wait_for_selector("#flash-crash:not([hidden])", timeout=_WAIT_MS)

            await server.close()
            await page.wait_for_selector("#connection[data-state=reconnecting]", timeout=_WAIT_MS)
            alert = ToxicityAlert(instrument_id="ETHUSDT.BINANCE", vpin=0.9)
            await vpin.publish_toxicity_alert(alert)
            server = BrowserServer(service, BusMetrics())
            await server.start("127.0.0.1", port)
            await page.wait_for_selector("#connection[data-state=live]", timeout=_WAIT_MS)
            await page.wait_for_function(
                "document.getElementById('alerts').textContent.includes('ETHUSDT.BINANCE')",
                timeout=_WAIT_MS,
            )
            alerts = await page.inner_text("#alerts")
        finally:
            await browser.close()
            await server.close()
            await vpin.close()
            await service.close()

    assert alerts.count("Flash-crash warning") == 1  # reloaded history is not shown twice
    assert "Toxicity ETHUSDT.BINANCE" in alerts
