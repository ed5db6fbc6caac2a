"""Our typed publish throughput: generated MarketData client, messages landed in Redis.

Two ways an engine publishes, both through the generated typed client with its default
configuration (10 ms / 5000-message bulk buffer, schema registry on):

- `awaited`: `await client.publish_quote(q)` per message, the ordinary API;
- `nowait`: `client.publish_quote_nowait(q)`, the bulk fast path.

Both loops yield to the event loop once every 1000 messages, as a feed handler does between
socket reads (an awaited publish only suspends when the buffer is full).

The clock stops when `flush()` returns, that is when the reply to the last XADD has been read.
"""

from __future__ import annotations

import asyncio
import time

from nautilus.clients.marketdata import MarketDataClient
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.errors import BackpressureError

__all__ = ["PUBLISH_MODES", "typed_publish"]

#: The publish paths measured, by name.
PUBLISH_MODES = ("awaited", "nowait")
_YIELD_EVERY = 1000


async def _awaited(client: MarketDataClient, messages: list[Quote], count: int) -> None:
    publish = client.publish_quote
    size = len(messages)
    for first in range(0, count, _YIELD_EVERY):
        for i in range(first, min(first + _YIELD_EVERY, count)):
            await publish(messages[i % size])
        await asyncio.sleep(0)


async def _nowait(client: MarketDataClient, messages: list[Quote], count: int) -> None:
    publish = client.publish_quote_nowait
    size = len(messages)
    for first in range(0, count, _YIELD_EVERY):
        for i in range(first, min(first + _YIELD_EVERY, count)):
            try:
                publish(messages[i % size])
            except BackpressureError:
                await client.flush()
                publish(messages[i % size])
        await asyncio.sleep(0)


async def _run(url: str, messages: list[Quote], count: int, mode: str) -> float:
    client = MarketDataClient.create(redis_url=url, trim_interval_ms=0)
    await client.start(consume=False)
    try:
        started = time.perf_counter()
        await (_awaited if mode == "awaited" else _nowait)(client, messages, count)
        await client.flush()
        return time.perf_counter() - started
    finally:
        await client.close()


def typed_publish(url: str, messages: list[Quote], count: int, mode: str = "awaited") -> float:
    """Seconds until `count` quotes published with the typed client have landed in Redis."""
    if mode not in PUBLISH_MODES:
        raise ValueError(f"mode must be one of {PUBLISH_MODES}, got {mode!r}")
    return asyncio.run(_run(url, messages, count, mode))
