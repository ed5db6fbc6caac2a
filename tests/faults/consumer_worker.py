"""A consumer process for fault runs: one `vpin` consumer of Trade (at least once) until
SIGTERM (clean close).

Each handled trade appends `<seq> <delivery_count>` to `<out>/<name>.log` with one unbuffered
write before the entry is acknowledged, so a kill -9 loses no record of work done: a message
handled but not acknowledged shows up again with a higher delivery count. The message number is
the trade's `ts_event`.

    python consumer_worker.py URL NAME OUT_DIR HANDLER_MS
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from nautilus.marketdata.v1.marketdata_pb2 import Trade
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient


async def main(url: str, name: str, out: Path, handler_ms: float) -> None:
    fd = os.open(out / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    pause_s = handler_ms / 1000

    def handle(delivery: Delivery[Trade]) -> None:
        if pause_s:
            time.sleep(pause_s)  # a handler that blocks, the harder case for renewals
        os.write(fd, b"%d %d\n" % (delivery.message.ts_event, delivery.delivery_count))

    config = MessageBusConfig(
        engine="vpin",
        consumer_name=name,
        redis_url=url,
        trim_interval_ms=0,
        max_deliveries=50,
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
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])))
