"""A consumer process for fault runs: one `vpin` consumer of Trade (at least once) until
SIGTERM (clean close).

Each handled trade appends `<seq> <delivery_count> <monotonic_ns>` to `<out>/<name>.log` with one
unbuffered write before the entry is acknowledged, so a kill -9 loses no record of work done: a
message handled but not acknowledged shows up again with a higher delivery count. The message
number is the trade's `ts_event`; the time is CLOCK_MONOTONIC, which every process on the machine
shares, so handlings of different consumers can be compared in time.

A loaded machine can leave a live process without CPU for a while. A consumer that gets no CPU
for about `reclaim_idle_ms` cannot renew its claims, and its peers rightly take its entries over
as if it were stuck. So that every such takeover is seen rather than guessed, a watchdog thread
wakes every few milliseconds and records each gap of at least `STALL_RECORD_MS` in which it could
not run (the whole process was starved: no thread ran) as `<start_ns> <end_ns>` in
`<out>/<name>.stalls`.

    python consumer_worker.py URL NAME OUT_DIR HANDLER_MS RECLAIM_IDLE_MS
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

from nautilus.marketdata.v1.marketdata_pb2 import Trade
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient

#: Gaps in the watchdog's wake-ups shorter than this are ordinary scheduling and not recorded.
STALL_RECORD_MS = 100
_WATCHDOG_TICK_S = 0.005


def watch_for_stalls(path: Path, stop: threading.Event) -> None:
    """Record every stretch of at least STALL_RECORD_MS in which this process did not run."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    threshold_ns = STALL_RECORD_MS * 1_000_000
    tick_ns = int(_WATCHDOG_TICK_S * 1e9)
    before = time.monotonic_ns()
    while not stop.wait(_WATCHDOG_TICK_S):
        now = time.monotonic_ns()
        if now - before - tick_ns >= threshold_ns:
            os.write(fd, b"%d %d\n" % (before + tick_ns, now))
        before = now
    os.close(fd)


async def main(url: str, name: str, out: Path, handler_ms: float, reclaim_idle_ms: int) -> None:
    fd = os.open(out / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    pause_s = handler_ms / 1000
    watchdog_stop = threading.Event()
    watchdog = threading.Thread(
        target=watch_for_stalls, args=(out / f"{name}.stalls", watchdog_stop), daemon=True
    )
    watchdog.start()

    def handle(delivery: Delivery[Trade]) -> None:
        if pause_s:
            time.sleep(pause_s)  # a handler that blocks, the harder case for renewals
        os.write(
            fd,
            b"%d %d %d\n"
            % (delivery.message.ts_event, delivery.delivery_count, time.monotonic_ns()),
        )

    config = MessageBusConfig(
        engine="vpin",
        consumer_name=name,
        redis_url=url,
        trim_interval_ms=0,
        reclaim_idle_ms=reclaim_idle_ms,
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
    watchdog_stop.set()
    watchdog.join()


if __name__ == "__main__":
    asyncio.run(
        main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    )
