"""An engine's consumer process for the crash tests: handles trades and quotes, hangs on one,
gets killed.

Usage: python slow_consumer.py REDIS_URL ENGINE CONSUMER_NAME HANDLED_FILE HANG_ON
Appends each handled trade's id, and each handled quote's `ts_event`, to HANDLED_FILE (flushed per
line), and never finishes handling the message whose id or `ts_event` is HANG_ON, so the test can
SIGKILL it in the middle of a read batch.
"""

from __future__ import annotations

import asyncio
import sys

from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient


async def main(url: str, engine: str, consumer_name: str, handled_path: str, hang_on: str) -> None:
    config = MessageBusConfig(
        engine=engine,
        consumer_name=consumer_name,
        redis_url=url,
        read_count=50,
        read_block_ms=20,
        trim_interval_ms=0,
    )
    client = UniversalMessageBusClient(config)
    with open(handled_path, "a", buffering=1) as handled:

        async def handle(label: str) -> None:
            if label == hang_on:
                await asyncio.sleep(3600)
            await asyncio.sleep(0.001)
            handled.write(label + "\n")

        async def handle_trade(delivery: Delivery[Trade]) -> None:
            await handle(delivery.message.trade_id)

        async def handle_quote(delivery: Delivery[Quote]) -> None:
            await handle(str(delivery.message.ts_event))

        client.subscribe(Trade, handle_trade)
        client.subscribe(Quote, handle_quote)
        await client.start()
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
