"""NautilusTrader's Redis-backed `MessageBus` as a peer baseline (the `bench` extra).

NautilusTrader (1.221) backs its in-process `MessageBus` with Redis Streams: `publish(topic, msg)`
serializes the message (msgpack, its `MsgSpecSerializer`) and hands the bytes to the Rust
`RedisMessageBusDatabase`, which buffers them for `buffer_interval_ms` and XADDs them to the
stream named by `MessageBusConfig` (here `streams_prefix`, one stream for all topics, no trader
or instance prefix). Another node receives them through the same database's stream reader
(`external_streams`, plain XREAD without a consumer group or acknowledgement), deserializes them
and hands them to its handlers: what `TradingNode.publish_bus_message` does.

The messages are NautilusTrader `QuoteTick`s carrying the same figures as our `Quote`. Publish is
measured landed (the clock stops when XLEN reaches the count), as for every other publisher.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from typing import Any
from urllib.parse import urlsplit

import redis

from nautilus.bench.histogram import LatencyHistogram

__all__ = [
    "nautilustrader_available",
    "nautilustrader_consume",
    "nautilustrader_publish",
    "nautilustrader_publish_quotes",
]

_TOPIC = "data.quotes.BINANCE.BTCUSDT"
_PROBE_TOPIC = "bench.probe"
_POOL_SIZE = 1024
_YIELD_EVERY = 1000
_TICK_S = 0.0005
#: The publisher's buffer for throughput runs (our bus's default bulk interval is also 10 ms).
THROUGHPUT_BUFFER_MS = 10


def nautilustrader_available() -> bool:
    """True when NautilusTrader is installed (the `bench` extra)."""
    return importlib.util.find_spec("nautilus_trader") is not None


def _database(url: str, *, prefix: str, buffer_interval_ms: int | None, reads: str | None) -> Any:
    import msgspec
    from nautilus_trader.common.config import (
        DatabaseConfig,
        MessageBusConfig,
        msgspec_encoding_hook,
    )
    from nautilus_trader.core import nautilus_pyo3

    parts = urlsplit(url)
    if (parts.path or "/0").strip("/") not in ("", "0"):
        raise ValueError(f"NautilusTrader's message bus uses database 0 only, got {url!r}")
    config = MessageBusConfig(
        database=DatabaseConfig(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            username=parts.username,
            password=parts.password,
        ),
        encoding="msgpack",
        buffer_interval_ms=buffer_interval_ms,
        use_trader_prefix=False,
        use_trader_id=False,
        use_instance_id=False,
        streams_prefix=prefix,
        stream_per_topic=False,
        external_streams=[reads] if reads else None,
    )
    database = nautilus_pyo3.RedisMessageBusDatabase(
        trader_id=nautilus_pyo3.TraderId("BENCH-001"),
        instance_id=nautilus_pyo3.UUID4(),
        config_json=msgspec.json.encode(config, enc_hook=msgspec_encoding_hook),
    )
    return database, config


def _serializer() -> Any:
    import msgspec
    from nautilus_trader.serialization.serializer import MsgSpecSerializer

    return MsgSpecSerializer(encoding=msgspec.msgpack, timestamps_as_str=True)


def _message_bus(url: str, key: str, buffer_interval_ms: int | None) -> tuple[Any, Any]:
    """A `MessageBus` whose external publishing writes to stream `key`; (bus, database)."""
    from nautilus_trader.common.component import LiveClock, MessageBus
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.model.identifiers import TraderId

    database, config = _database(url, prefix=key, buffer_interval_ms=buffer_interval_ms, reads=None)
    bus = MessageBus(
        TraderId("BENCH-001"),
        LiveClock(),
        UUID4(),
        serializer=_serializer(),
        database=database,
        config=config,
    )
    return bus, database


def quote_tick(i: int, ts_ns: int) -> Any:
    """A NautilusTrader `QuoteTick` with the figures of `payloads.quotes()[i]`."""
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    bid = 64_250_125_000_000 + 1_000_000 * (i % 977)
    return QuoteTick(
        instrument_id=InstrumentId.from_str("BTCUSDT.BINANCE"),
        bid_price=Price(bid / 1e9, 6),
        ask_price=Price((bid + 125_000_000) / 1e9, 6),
        bid_size=Quantity((1_500_000_000 + i) / 1e9, 9),
        ask_size=Quantity((2_000_000_000 + i) / 1e9, 9),
        ts_event=ts_ns,
        ts_init=ts_ns,
    )


async def _until_landed(url: str, key: str, total: int) -> None:
    with redis.Redis.from_url(url) as client:
        while int(client.xlen(key)) < total:
            await asyncio.sleep(0.0005)


def nautilustrader_publish(url: str, key: str, count: int) -> float:
    """Seconds until `count` quotes published with `MessageBus.publish` have landed in `key`."""

    async def run() -> float:
        bus, database = _message_bus(url, key, THROUGHPUT_BUFFER_MS)
        pool = [quote_tick(i, time.time_ns()) for i in range(_POOL_SIZE)]
        publish = bus.publish
        try:
            started = time.perf_counter()
            for first in range(0, count, _YIELD_EVERY):
                for i in range(first, min(first + _YIELD_EVERY, count)):
                    publish(_TOPIC, pool[i % _POOL_SIZE])
                await asyncio.sleep(0)
            await _until_landed(url, key, count)
            return time.perf_counter() - started
        finally:
            database.close()

    return asyncio.run(run())


async def nautilustrader_publish_quotes(
    *,
    notify: Any,
    url: str,
    key: str,
    start_at_ns: int,
    count: int = 0,
    rate: float = 0.0,
    duration_s: float = 0.0,
) -> dict[str, Any]:
    """The peer's publisher process: `count` quotes flat out (buffered 10 ms, as for the
    throughput figure), or `rate`/s for `duration_s` unbuffered, each stamped when published."""
    buffer_ms = None if rate else THROUGHPUT_BUFFER_MS
    bus, database = _message_bus(url, key, buffer_ms)
    pool = [quote_tick(i, time.time_ns()) for i in range(_POOL_SIZE)]
    publish = bus.publish
    with redis.Redis.from_url(url) as client:
        already = int(client.xlen(key))
    try:
        notify("ready")
        delay_s = (start_at_ns - time.time_ns()) / 1e9
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        started_ns = time.time_ns()
        if rate:
            sent = int(rate * duration_s)
            started = time.perf_counter()
            done = 0
            while done < sent:
                due = min(sent, int((time.perf_counter() - started) * rate) + 1)
                while done < due:
                    publish(_TOPIC, quote_tick(done, time.time_ns()))
                    done += 1
                await asyncio.sleep(_TICK_S)
        else:
            sent = count
            for first in range(0, count, _YIELD_EVERY):
                for i in range(first, min(first + _YIELD_EVERY, count)):
                    publish(_TOPIC, pool[i % _POOL_SIZE])
                await asyncio.sleep(0)
        await _until_landed(url, key, already + sent)
        landed_ns = time.time_ns()
    finally:
        database.close()
    return {"sent": sent, "started_ns": started_ns, "landed_ns": landed_ns}


async def nautilustrader_consume(
    *,
    notify: Any,
    url: str,
    key: str,
    expected: int,
    record_latency: bool = False,
    warmup_s: float = 0.0,
    deadline_s: float = 60.0,
) -> dict[str, Any]:
    """The peer's consumer process: its stream reader, deserialize, a handler; until `expected`.

    The reader starts at the end of the stream, so before saying "ready" this job writes probe
    entries until the reader has returned one: whatever is published afterwards is read.
    """
    database, _ = _database(url, prefix=f"{key}:consumer", buffer_interval_ms=None, reads=key)
    serializer = _serializer()
    histogram = LatencyHistogram()
    warmup_ns = int(warmup_s * 1e9)
    state = {"handled": 0, "probed": 0, "record_from": 0, "finished_ns": 0}

    def on_message(bus_message: Any) -> None:
        quote = serializer.deserialize(bus_message.payload)
        if bus_message.topic == _PROBE_TOPIC:
            state["probed"] += 1
            return
        state["handled"] += 1
        if record_latency:
            now_ns = time.time_ns()
            published = int(quote.ts_init)
            if not state["record_from"]:
                state["record_from"] = published + warmup_ns
            if published >= state["record_from"]:
                histogram.record_ns(now_ns - published)
        if state["handled"] == expected:
            state["finished_ns"] = time.time_ns()

    reader = asyncio.ensure_future(database.stream(on_message))
    try:
        probe = serializer.serialize(quote_tick(0, time.time_ns()))
        with redis.Redis.from_url(url) as client:
            for _ in range(200):
                client.xadd(key, {"topic": _PROBE_TOPIC, "payload": probe})
                await asyncio.sleep(0.05)
                if state["probed"]:
                    break
        if not state["probed"]:
            raise RuntimeError("NautilusTrader's stream reader never returned a probe entry")
        notify("ready")
        deadline = time.monotonic() + deadline_s
        while state["handled"] < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
    finally:
        database.close()
        reader.cancel()
    return {
        "received": state["handled"],
        "finished_ns": state["finished_ns"] or time.time_ns(),
        "latency": histogram.encode(),
        "negative": histogram.negative,
    }
