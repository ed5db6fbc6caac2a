"""URGENT/CRITICAL entries are read by a blocking read of their own, never behind bulk handling.

Specifications of `PriorityReader` on a real server: a CRITICAL entry is handled while a bulk
handler is still running (the consume loop alone could not: it reads the next entries only after
the current handler returns); the reader survives a server restart; and when it stops, the
consumer's own cycle reads the priority lanes again. Conditions are awaited with generous
deadlines; nothing here asserts a duration.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from nautilus.clients.marketdata import MarketDataClient
from nautilus.clients.risk import RiskClient
from nautilus.clients.vpin import VPINClient
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.priority_reader import PriorityReader
from nautilus.runtime.server import EmbeddedServer
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning

_DEADLINE_S = 30.0  # bounds a hang; asserts no timing


def _settings(redis_url: str, engine: str) -> dict[str, object]:
    return {
        "redis_url": redis_url,
        "consumer_name": f"{engine}-priority-test",
        "read_block_ms": 20,
        "trim_interval_ms": 0,
        "reconnect_max_ms": 200,
    }


def _warning(i: int = 0) -> FlashCrashWarning:
    return FlashCrashWarning(
        instrument_id="BTCUSDT.BINANCE", price_drop_bps=-120.0 - i, window_ns=5_000_000_000
    )


def _quote(i: int) -> Quote:
    return Quote(instrument_id="BTCUSDT.BINANCE", bid_price_e9=64_000_000_000_000 + i)


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.01)


async def _publish_warning(redis_url: str, i: int = 0) -> None:
    async with VPINClient.create(**_settings(redis_url, "vpin")) as vpin:
        await vpin.publish_flash_crash_warning(_warning(i))
        await vpin.flush()


async def test_a_critical_entry_is_handled_while_a_bulk_handler_is_still_running(
    redis_url: str,
) -> None:
    released = asyncio.Event()
    warnings: list[FlashCrashWarning] = []

    async def on_quote(quote: Quote, delivery: Delivery[Quote]) -> None:
        await released.wait()  # a bulk handler that holds the consume loop

    def on_warning(warning: FlashCrashWarning, delivery: Delivery[FlashCrashWarning]) -> None:
        warnings.append(warning)
        released.set()

    risk = RiskClient.create(**_settings(redis_url, "risk"))
    risk.on_quote(on_quote)
    risk.on_flash_crash_warning(on_warning)
    await risk.start(consume=True)
    try:
        async with MarketDataClient.create(**_settings(redis_url, "marketdata")) as marketdata:
            await marketdata.publish_quote(_quote(1))
            await marketdata.flush()
        await _until(lambda: risk.bus.consumer.priority_reader_active, "the reader runs")
        await _publish_warning(redis_url)

        await _until(released.is_set, "the CRITICAL warning handled")
    finally:
        released.set()
        await risk.close()

    assert warnings == [_warning()]


async def test_while_the_reader_runs_the_consume_cycle_reads_only_the_bulk_lanes(
    redis_url: str,
) -> None:
    quotes: list[Quote] = []
    warnings: list[FlashCrashWarning] = []
    risk = RiskClient.create(**_settings(redis_url, "risk"))
    risk.on_quote(lambda quote, delivery: quotes.append(quote))
    risk.on_flash_crash_warning(lambda warning, delivery: warnings.append(warning))
    await risk.start(consume=False)
    consumer = risk.bus.consumer
    await _publish_warning(redis_url)
    async with MarketDataClient.create(**_settings(redis_url, "marketdata")) as marketdata:
        await marketdata.publish_quote(_quote(1))
        await marketdata.flush()
    consumer.priority_reader_active = True

    await risk.bus.poll(block_ms=20)

    assert (quotes, warnings) == ([_quote(1)], [])
    consumer.priority_reader_active = False
    await risk.bus.poll(block_ms=20)
    assert warnings == [_warning()]
    await risk.close()


async def test_the_reader_hands_the_priority_lanes_back_when_it_stops(redis_url: str) -> None:
    risk = RiskClient.create(**_settings(redis_url, "risk"))
    risk.on_flash_crash_warning(lambda warning, delivery: None)
    await risk.start(consume=False)
    stop = asyncio.Event()
    reader = asyncio.create_task(PriorityReader(risk.bus.consumer).run(stop))
    await _until(lambda: risk.bus.consumer.priority_reader_active, "the reader runs")

    stop.set()
    await reader

    assert not risk.bus.consumer.priority_reader_active
    await risk.close()


async def test_the_reader_survives_a_server_restart_and_handles_what_comes_after(
    private_server: EmbeddedServer,
) -> None:
    url = private_server.url
    warnings: list[FlashCrashWarning] = []
    risk = RiskClient.create(**_settings(url, "risk"))
    risk.on_flash_crash_warning(lambda warning, delivery: warnings.append(warning))
    await risk.start(consume=True)
    try:
        await _publish_warning(url, 1)
        await _until(lambda: len(warnings) == 1, "the first warning handled")

        await _restart(private_server)
        await _publish_warning(url, 2)

        await _until(lambda: len(warnings) == 2, "the warning after the restart handled")
    finally:
        await risk.close()

    assert warnings == [_warning(1), _warning(2)]


async def _restart(server: EmbeddedServer) -> None:
    """kill -9, then start on the same port (the data is gone; the groups are recreated)."""
    server.kill()
    await asyncio.to_thread(server.start)


pytestmark = pytest.mark.slow
