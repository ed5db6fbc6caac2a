"""Runtime fixtures: a bus on either transport, and realistic market and VPIN messages."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from nautilus.common.v1 import common_pb2
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime import (
    InMemoryTransport,
    MessageBusConfig,
    TestClock,
    Transport,
    UniversalMessageBusClient,
)
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

TS_OPEN = 1_764_077_400_000_000_000  # 2025-11-25 13:30:00 UTC, US cash open, ns


def quote(seq: int, instrument_id: str = "AAPL.XNAS") -> Quote:
    """A top-of-book quote; `seq` moves the prices and timestamps so every quote is distinct."""
    return Quote(
        instrument_id=instrument_id,
        bid_price_e9=229_150_000_000 + seq * 10_000_000,
        ask_price_e9=229_170_000_000 + seq * 10_000_000,
        bid_size_e9=300_000_000_000,
        ask_size_e9=200_000_000_000,
        ts_event=TS_OPEN + seq * 1_000_000,
        ts_init=TS_OPEN + seq * 1_000_000 + 45_000,
    )


def trade(seq: int, instrument_id: str = "AAPL.XNAS") -> Trade:
    """A trade print; `seq` numbers its trade id and moves its timestamps."""
    return Trade(
        instrument_id=instrument_id,
        price_e9=229_160_000_000,
        size_e9=100_000_000_000,
        aggressor_side=common_pb2.ORDER_SIDE_BUY,
        trade_id=f"T{seq:08d}",
        ts_event=TS_OPEN + seq * 1_000_000,
        ts_init=TS_OPEN + seq * 1_000_000 + 52_000,
    )


def toxicity_alert(bucket: int) -> ToxicityAlert:
    return ToxicityAlert(
        instrument_id="AAPL.XNAS",
        vpin=0.41,
        vpin_cdf=0.97,
        threshold=0.95,
        severity=common_pb2.SEVERITY_WARNING,
        bucket_index=bucket,
        bucket_volume_e9=50_000_000_000_000,
        window_buckets=50,
        price_change_bps=-38.5,
        ts_event=TS_OPEN + bucket * 1_000_000_000,
        ts_init=TS_OPEN + bucket * 1_000_000_000 + 80_000,
    )


def flash_crash_warning() -> FlashCrashWarning:
    return FlashCrashWarning(
        instrument_id="AAPL.XNAS",
        price_drop_bps=310.0,
        window_ns=60_000_000_000,
        reference_mid_price_e9=229_160_000_000,
        mid_price_e9=222_056_040_000,
        vpin=0.62,
        vpin_cdf=0.998,
        window_volume_e9=2_400_000_000_000_000,
        severity=common_pb2.SEVERITY_CRITICAL,
        ts_event=TS_OPEN + 3_600_000_000_000,
        ts_init=TS_OPEN + 3_600_000_000_000 + 90_000,
    )


class Bus:
    """Builds clients of one test on one transport kind, with test-friendly settings."""

    def __init__(self, kind: str, redis_url: str | None) -> None:
        self.kind = kind
        self.redis_url = redis_url
        self._memory: InMemoryTransport | None = None
        self._names = itertools.count(1)

    def config(self, engine: str, **overrides: Any) -> MessageBusConfig:
        settings: dict[str, Any] = {
            "engine": engine,
            "consumer_name": f"{engine}-{next(self._names)}",
            "redis_url": self.redis_url or "",
            "reclaim_idle_ms": 200,
            "read_block_ms": 20,
            "trim_interval_ms": 0,
            "clock": TestClock(TS_OPEN) if self.kind == "memory-test-clock" else None,
        }
        settings.update(overrides)
        if settings["clock"] is None:
            del settings["clock"]
        return MessageBusConfig(**settings)

    def transport_for(self, config: MessageBusConfig) -> Transport | None:
        if self.kind == "redis":
            return None  # the client makes and owns its RedisTransport
        if self._memory is None:
            self._memory = InMemoryTransport(config.clock)
        return self._memory

    def client(self, engine: str, **overrides: Any) -> UniversalMessageBusClient:
        config = self.config(engine, **overrides)
        return UniversalMessageBusClient(config, self.transport_for(config))


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
def bus(request: pytest.FixtureRequest) -> Bus:
    """Clients on the in-process transport, on a real server and on a real 3-master Redis
    Cluster: the same contract for all three."""
    if request.param == "redis":
        return Bus("redis", request.getfixturevalue("redis_url"))
    if request.param == "redis-cluster":
        return Bus("redis", request.getfixturevalue("cluster_url"))
    return Bus("memory", None)


@pytest.fixture
def redis_bus(redis_url: str) -> Bus:
    """Clients on the session's real server only."""
    return Bus("redis", redis_url)


@pytest.fixture
def any_redis_bus(server_url: str) -> Bus:
    """Clients on a real single server, then on a real 3-master Redis Cluster."""
    return Bus("redis", server_url)
