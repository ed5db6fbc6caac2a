"""A replica process for lease tests: one `vpin` replica reading Trade (at least once) under
leases until SIGTERM.

Each handled trade appends `<seq> <delivery_count>` to `<out>/<name>.log` with one unbuffered
write before the entry is acknowledged, so a kill -9 loses no record of work done. The message
number is the trade's `ts_event`.

    python replica_worker.py URL NAME OUT_DIR LEASE_MS
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from nautilus.marketdata.v1.marketdata_pb2 import Trade
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient


async def main(url: str, name: str, out: Path, lease_ms: int) -> None:
    fd = os.open(out / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def handle(delivery: Delivery[Trade]) -> None:
        os.write(fd, b"%d %d\n" % (delivery.message.ts_event, delivery.delivery_count))

    config = MessageBusConfig(
        engine="vpin",
        consumer_name=name,
        redis_url=url,
        trim_interval_ms=0,
        max_deliveries=50,
        reclaim_idle_ms=lease_ms,
        replica_lease_ms=lease_ms,
        schema_registry=False,
        declare_consumer_groups=False,
    )
    client = UniversalMessageBusClient(config)
    client.subscribe(Trade, handle)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await client.start()
    await stop.wait()
    await client.close()
    os.close(fd)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])))
