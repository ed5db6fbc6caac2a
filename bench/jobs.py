"""The jobs worker processes run: typed consumers and publishers of the bus, as engines use them.

Consumers are the Risk engine's generated client (it consumes quotes and flash-crash warnings),
running the client's own consume loop (`start(consume=True)`) as an engine does. The end of a
run is when the handler saw the last expected message (its acknowledgement follows with the
batch's XACK).
Publishers are the MarketData client (quotes, bulk lane) and the VPIN client (flash-crash
warnings, CRITICAL lane). Latency is the handler's `time.time_ns()` minus the entry's `ts` field,
which the publisher's LiveClock also took with `time.time_ns()`: one clock, one machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from nautilus.bench import fanout, floors, peer_faststream, peer_nautilustrader, scaleout
from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.os_priority import realtime_thread
from nautilus.bench.payloads import quotes
from nautilus.clients.marketdata import MarketDataClient
from nautilus.clients.risk import RiskClient
from nautilus.clients.vpin import VPINClient
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.priority_reader import PriorityReader
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning

__all__ = ["JOBS", "flash_crash_warning"]

Notify = Callable[[str], None]
#: Pacing tick of the fixed-rate publishers: the loop sleeps this long between bursts.
_TICK_S = 0.0005
#: Flat-out publishers yield to the event loop once per this many messages, as a feed handler
#: does between socket reads; without it nothing is written until the buffer bound is reached.
_YIELD_EVERY = 1000
#: How often the consumer job looks whether its handlers have seen everything expected.
_DONE_CHECK_S = 0.002


def flash_crash_warning(i: int = 0) -> FlashCrashWarning:
    """A realistic CRITICAL message (what VPIN sends when the market gaps)."""
    return FlashCrashWarning(
        instrument_id="BTCUSDT.BINANCE",
        price_drop_bps=-125.5 - i,
        window_ns=5_000_000_000,
        reference_mid_price_e9=64_250_125_000_000,
        mid_price_e9=63_450_000_000_000,
        vpin=0.93,
        vpin_cdf=0.99,
        window_volume_e9=1_500_000_000_000,
    )


class _Tally:
    """What a consumer saw: counts and, when asked, latency histograms.

    Latency is recorded only for messages published `warmup_ns` or more after the first message
    of their kind: the first moments (connections, caches, schema lookups) are not steady state.
    """

    def __init__(
        self, record_quotes: bool, warmup_ns: int, expected_quotes: int, expected_critical: int
    ) -> None:
        self.quotes = 0
        self.critical = 0
        self.expected_quotes = expected_quotes
        self.expected_critical = expected_critical
        #: When the last expected message was handled (0: not yet).
        self.finished_ns = 0
        self.record_quotes = record_quotes
        self.warmup_ns = warmup_ns
        self.record_quotes_from = 0
        self.record_critical_from = 0
        self.quote_latency = LatencyHistogram()
        self.critical_latency = LatencyHistogram()

    @property
    def done(self) -> bool:
        return self.quotes >= self.expected_quotes and self.critical >= self.expected_critical

    def _count(self) -> None:
        if not self.finished_ns and self.done:
            self.finished_ns = time.time_ns()

    def on_quote(self, message: Quote, delivery: Delivery[Quote]) -> None:
        self.quotes += 1
        if self.quotes == self.expected_quotes:
            self._count()
        if self.record_quotes:
            published = delivery.published_at_ns
            if not self.record_quotes_from:
                self.record_quotes_from = published + self.warmup_ns
            if published >= self.record_quotes_from:
                self.quote_latency.record_ns(time.time_ns() - published)

    def on_critical(self, message: FlashCrashWarning, delivery: Delivery[Any]) -> None:
        self.critical += 1
        if self.critical == self.expected_critical:
            self._count()
        published = delivery.published_at_ns
        if not self.record_critical_from:
            self.record_critical_from = published + self.warmup_ns
        if published >= self.record_critical_from:
            self.critical_latency.record_ns(time.time_ns() - published)


async def consume(
    *,
    notify: Notify,
    url: str,
    expected_quotes: int,
    expected_critical: int = 0,
    record_quotes: bool = False,
    warmup_s: float = 0.0,
    deadline_s: float = 60.0,
    priority_elsewhere: bool = False,
    until_ns: int = 0,
) -> dict[str, Any]:
    """The Risk client's consume loop (as an engine runs it) until the expected counts are
    handled (and `until_ns` is past) or the deadline; counts, histograms, the consumer's CPU time.

    With `priority_elsewhere`, the loop runs without its priority reader and reads only the bulk
    lanes: another process of the group (`consume_priority_lanes`) reads the priority lanes.
    """
    tally = _Tally(record_quotes, int(warmup_s * 1e9), expected_quotes, expected_critical)
    client = RiskClient.create(redis_url=url, trim_interval_ms=0)
    client.on_quote(tally.on_quote)
    client.on_flash_crash_warning(tally.on_critical)
    stop = asyncio.Event()
    bulk_only: asyncio.Task[None] | None = None
    if priority_elsewhere:
        await client.start(consume=False)
        client.bus.consumer.priority_reader_active = True
        bulk_only = asyncio.create_task(client.bus.consumer.run(stop))
    else:
        await client.start(consume=True)
    _freeze_start_up_objects()
    notify("ready")
    cpu_started = time.process_time()
    waited_before = _run_queue_wait_s()
    wall_started = time.monotonic()
    deadline = wall_started + deadline_s
    try:
        while (not tally.done or time.time_ns() < until_ns) and time.monotonic() < deadline:
            await asyncio.sleep(_DONE_CHECK_S)
        cpu_s = time.process_time() - cpu_started
        run_queue_wait_s = _run_queue_wait_s() - waited_before
        wall_s = time.monotonic() - wall_started
        finished_ns = time.time_ns() if until_ns else tally.finished_ns or time.time_ns()
    finally:
        stop.set()
        if bulk_only is not None:
            await bulk_only
        await client.close()
    return {
        "cpu_s": cpu_s,
        "wall_s": wall_s,
        "run_queue_wait_s": run_queue_wait_s,
        "quotes": tally.quotes,
        "critical": tally.critical,
        "finished_ns": finished_ns,
        "quote_latency": tally.quote_latency.encode(),
        "quote_negative": tally.quote_latency.negative,
        "critical_latency": tally.critical_latency.encode(),
        "critical_negative": tally.critical_latency.negative,
    }


def _run_queue_wait_s() -> float:
    """How long this process's main thread (the event loop's) has been runnable but waiting for
    a core, in seconds: the second field of /proc/self/schedstat (Linux); 0.0 where absent."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _freeze_start_up_objects() -> None:
    """As an engine does once started: its long-lived objects leave the cyclic collector's view."""
    gc.collect()
    gc.freeze()


async def consume_priority_lanes(
    *,
    notify: Notify,
    url: str,
    expected_critical: int,
    warmup_s: float = 0.0,
    deadline_s: float = 60.0,
    realtime: bool = False,
) -> dict[str, Any]:
    """A second process of the Risk group that only reads its priority lanes (a `PriorityReader`
    on a client that does not run the consume loop), until `expected_critical` are handled.

    With `realtime`, its event loop's thread runs at SCHED_FIFO meanwhile (bench/os_priority.py)."""
    tally = _Tally(False, int(warmup_s * 1e9), 0, expected_critical)
    client = RiskClient.create(
        redis_url=url, trim_interval_ms=0, consumer_name="risk-bench-priority"
    )
    client.on_quote(tally.on_quote)
    client.on_flash_crash_warning(tally.on_critical)
    await client.start(consume=False)
    stop = asyncio.Event()
    reader = asyncio.create_task(PriorityReader(client.bus.consumer).run(stop))
    _freeze_start_up_objects()
    scheduling = realtime_thread() if realtime else contextlib.nullcontext()
    try:
        with scheduling:
            notify("ready")
            waited_before = _run_queue_wait_s()
            wall_started = time.monotonic()
            deadline = wall_started + deadline_s
            while not tally.done and time.monotonic() < deadline:
                await asyncio.sleep(_DONE_CHECK_S)
            run_queue_wait_s = _run_queue_wait_s() - waited_before
            wall_s = time.monotonic() - wall_started
    finally:
        stop.set()
        await reader
        await client.close()
    return {
        "wall_s": wall_s,
        "run_queue_wait_s": run_queue_wait_s,
        "critical": tally.critical,
        "critical_latency": tally.critical_latency.encode(),
        "critical_negative": tally.critical_latency.negative,
    }


async def _sleep_until(start_at_ns: int) -> None:
    delay_s = (start_at_ns - time.time_ns()) / 1e9
    if delay_s > 0:
        await asyncio.sleep(delay_s)


async def _paced(publish: Callable[[int], Awaitable[None]], rate: float, total: int) -> None:
    """Publish `total` messages at `rate` per second, in bursts of what is due each tick."""
    started = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        while sent < due:
            await publish(sent)
            sent += 1
        await asyncio.sleep(_TICK_S)


async def publish_quotes(
    *,
    notify: Notify,
    url: str,
    start_at_ns: int,
    count: int = 0,
    rate: float = 0.0,
    duration_s: float = 0.0,
    buffer_interval_ms: int | None = None,
) -> dict[str, Any]:
    """Quotes from the MarketData client: `count` flat out, `rate`/s for `duration_s`, or flat
    out for `duration_s` (`count` 0, `rate` 0). Returns when every quote has landed."""
    options: dict[str, Any] = {"redis_url": url, "trim_interval_ms": 0}
    if buffer_interval_ms is not None:
        options["buffer_interval_ms"] = buffer_interval_ms
    client = MarketDataClient.create(**options)
    await client.start(consume=False)
    pool = quotes()
    size = len(pool)
    publish = client.publish_quote
    notify("ready")
    await _sleep_until(start_at_ns)
    started_ns = time.time_ns()
    sent = 0
    try:
        if rate:
            sent = int(rate * duration_s)
            await _paced(lambda i: publish(pool[i % size]), rate, sent)
        elif count:
            for first in range(0, count, _YIELD_EVERY):
                for i in range(first, min(first + _YIELD_EVERY, count)):
                    await publish(pool[i % size])
                await asyncio.sleep(0)
            sent = count
        else:
            stop = time.perf_counter() + duration_s
            while time.perf_counter() < stop:
                for i in range(sent, sent + _YIELD_EVERY):
                    await publish(pool[i % size])
                sent += _YIELD_EVERY
                await asyncio.sleep(0)
        await client.flush()
        landed_ns = time.time_ns()
    finally:
        await client.close()
    return {"sent": sent, "started_ns": started_ns, "landed_ns": landed_ns}


async def publish_critical(
    *, notify: Notify, url: str, start_at_ns: int, rate: float, duration_s: float
) -> dict[str, Any]:
    """Flash-crash warnings (CRITICAL) from the VPIN client at `rate` per second."""
    client = VPINClient.create(redis_url=url, trim_interval_ms=0)
    await client.start(consume=False)
    warnings = [flash_crash_warning(i) for i in range(64)]
    publish = client.publish_flash_crash_warning
    notify("ready")
    await _sleep_until(start_at_ns)
    total = int(rate * duration_s)
    started_ns = time.time_ns()
    try:
        await _paced(lambda i: publish(warnings[i % len(warnings)]), rate, total)
        await client.flush()
    finally:
        await client.close()
    return {"sent": total, "started_ns": started_ns, "landed_ns": time.time_ns()}


#: Job name -> coroutine function, as `Worker.submit` names them.
JOBS: dict[str, Callable[..., Coroutine[Any, Any, Any]]] = {
    "consume": consume,
    "consume_priority_lanes": consume_priority_lanes,
    "publish_quotes": publish_quotes,
    "publish_critical": publish_critical,
    "floor_consume": floors.floor_consume,
    "floor_publish": floors.floor_publish,
    "fanout_consume": fanout.fanout_consume,
    "scaleout_publish": scaleout.scaleout_publish,
    "scaleout_consume": scaleout.scaleout_consume,
    "nautilustrader_consume": peer_nautilustrader.nautilustrader_consume,
    "nautilustrader_publish_quotes": peer_nautilustrader.nautilustrader_publish_quotes,
    "faststream_consume": peer_faststream.faststream_consume,
    "faststream_publish_quotes": peer_faststream.faststream_publish_quotes,
}
