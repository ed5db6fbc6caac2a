"""FastStream's Redis Streams subscriber end to end, as a peer baseline (the `bench` extra).

The publisher process awaits `RedisBroker.publish(payload, stream=key)` per message (FastStream's
way to publish); the consumer process runs a `StreamSub` subscriber in a consumer group (XREADGROUP,
acknowledged after the handler), whose handler parses the protobuf `Quote`, as ours does. The
payloads are our `Quote` bytes; for latency runs each is built when published, with `ts_init`
set to the publish time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis

from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.payloads import quotes
from nautilus.marketdata.v1.marketdata_pb2 import Quote

__all__ = ["faststream_consume", "faststream_publish_quotes"]

_GROUP = "bench-faststream"
#: FastStream logs every message at INFO by default; `logger=None` is its way to turn that off.
_NO_LOGGER: Any = None
_TICK_S = 0.0005


async def faststream_publish_quotes(
    *,
    notify: Any,
    url: str,
    key: str,
    start_at_ns: int,
    count: int = 0,
    rate: float = 0.0,
    duration_s: float = 0.0,
) -> dict[str, Any]:
    """`count` quotes flat out, or `rate`/s for `duration_s` (each stamped when published)."""
    from faststream.redis import RedisBroker

    payloads = [quote.SerializeToString() for quote in quotes()]
    size = len(payloads)
    broker = RedisBroker(url, logger=_NO_LOGGER)
    await broker.connect()
    try:
        notify("ready")
        delay_s = (start_at_ns - time.time_ns()) / 1e9
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        started_ns = time.time_ns()
        if rate:
            sent = int(rate * duration_s)
            template = quotes(1)[0]
            started = time.perf_counter()
            done = 0
            while done < sent:
                due = min(sent, int((time.perf_counter() - started) * rate) + 1)
                while done < due:
                    template.ts_init = time.time_ns()
                    await broker.publish(template.SerializeToString(), stream=key)
                    done += 1
                await asyncio.sleep(_TICK_S)
        else:
            sent = count
            for i in range(count):
                await broker.publish(payloads[i % size], stream=key)
        landed_ns = time.time_ns()
    finally:
        await broker.stop()
    return {"sent": sent, "started_ns": started_ns, "landed_ns": landed_ns}


async def faststream_consume(
    *,
    notify: Any,
    url: str,
    key: str,
    expected: int,
    record_latency: bool = False,
    warmup_s: float = 0.0,
    deadline_s: float = 60.0,
) -> dict[str, Any]:
    """A FastStream subscriber in a consumer group on `key`, until `expected` are handled."""
    from faststream.redis import RedisBroker, StreamSub

    histogram = LatencyHistogram()
    warmup_ns = int(warmup_s * 1e9)
    state = {"handled": 0, "record_from": 0, "finished_ns": 0}
    with redis.Redis.from_url(url) as client:
        try:
            client.xgroup_create(key, _GROUP, id="$", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
    broker = RedisBroker(url, logger=_NO_LOGGER)

    @broker.subscriber(stream=StreamSub(key, group=_GROUP, consumer="bench-1"))
    async def on_quote(body: bytes) -> None:
        quote = Quote.FromString(body)
        state["handled"] += 1
        if record_latency:
            published = quote.ts_init
            if not state["record_from"]:
                state["record_from"] = published + warmup_ns
            if published >= state["record_from"]:
                histogram.record_ns(time.time_ns() - published)
        if state["handled"] == expected:
            state["finished_ns"] = time.time_ns()

    await broker.start()
    try:
        notify("ready")
        deadline = time.monotonic() + deadline_s
        while state["handled"] < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
    finally:
        await broker.stop()
    return {
        "received": state["handled"],
        "finished_ns": state["finished_ns"] or time.time_ns(),
        "latency": histogram.encode(),
        "negative": histogram.negative,
    }
