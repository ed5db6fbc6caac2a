"""The in-process transport is deterministic: same inputs and clock, same ids and order."""

from __future__ import annotations

from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime import (
    Delivery,
    InMemoryTransport,
    MessageBusConfig,
    MessagePriority,
    TestClock,
    UniversalMessageBusClient,
)
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

from .conftest import TS_OPEN, flash_crash_warning, quote, toxicity_alert, trade


async def _backtest_session() -> list[tuple[str, str, str, int]]:
    clock = TestClock(TS_OPEN)
    transport = InMemoryTransport(clock)

    def client(engine: str) -> UniversalMessageBusClient:
        config = MessageBusConfig(
            engine=engine, consumer_name=f"{engine}-backtest", clock=clock, trim_interval_ms=0
        )
        return UniversalMessageBusClient(config, transport)

    marketdata, vpin, risk = client("marketdata"), client("vpin"), client("risk")
    log: list[tuple[str, str, str, int]] = []

    def record(delivery: Delivery[Quote] | Delivery[Trade] | Delivery[ToxicityAlert]) -> None:
        log.append(
            (delivery.message_type, delivery.entry_id, delivery.lane, delivery.published_at_ns)
        )

    for message_class in (Quote, Trade, ToxicityAlert, FlashCrashWarning):
        risk.subscribe(message_class, record)
    for c in (marketdata, vpin):
        await c.start()
    await risk.start(consume=False)

    for step in range(200):
        clock.advance(250_000)  # 0.25 ms of simulated time per step
        await marketdata.publish(quote(step) if step % 3 else trade(step))
        if step % 40 == 7:
            await vpin.publish(toxicity_alert(step))
        if step == 150:
            await vpin.publish(flash_crash_warning(), priority=MessagePriority.CRITICAL)
        if step % 25 == 0:
            await marketdata.flush()
            await vpin.flush()
            await risk.drain()
    for c in (marketdata, vpin):
        await c.flush()
    await risk.drain()
    for c in (marketdata, vpin, risk):
        await c.close()
    return log


async def test_two_runs_give_identical_delivery_order() -> None:
    first = await _backtest_session()
    second = await _backtest_session()

    assert len(first) == 200 + 5 + 1
    assert first == second


async def test_ids_come_from_the_clock() -> None:
    clock = TestClock(TS_OPEN)
    transport = InMemoryTransport(clock)
    fields = (b"v", b"1")

    ids = [await transport.add_one("s", fields) for _ in range(2)]
    clock.advance(1_000_000)
    ids.append(await transport.add_one("s", fields))

    ms = TS_OPEN // 1_000_000
    assert ids == [f"{ms}-0", f"{ms}-1", f"{ms + 1}-0"]
