"""A Risk-engine consumer process for the crash test: handles trades, hangs on one, gets killed.

Usage: python slow_consumer.py REDIS_URL CONSUMER_NAME HANDLED_FILE HANG_ON_TRADE_ID
Appends each handled trade id to HANDLED_FILE (flushed per line), and never finishes handling
HANG_ON_TRADE_ID, so the test can SIGKILL it with entries pending.
"""

from __future__ import annotations

import asyncio
import sys

from nautilus.marketdata.v1.marketdata_pb2 import Trade
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient


async def main(url: str, consumer_name: str, handled_path: str, hang_on: str) -> None:
    config = MessageBusConfig(
        engine="risk",
        consumer_name=consumer_name,
        redis_url=url,
        read_count=50,
        read_block_ms=20,
        trim_interval_ms=0,
    )
    client = UniversalMessageBusClient(config)
    with open(handled_path, "a", buffering=1) as handled:

        async def handle(delivery: Delivery[Trade]) -> None:
            if delivery.message.trade_id == hang_on:
                await asyncio.sleep(3600)
            await asyncio.sleep(0.001)
            handled.write(delivery.message.trade_id + "\n")

        client.subscribe(Trade, handle)
        await client.start()
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
