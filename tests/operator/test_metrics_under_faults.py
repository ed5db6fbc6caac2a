"""/metrics and /health when things go wrong (docs/operations.md, "Metrics and health"): the
server down (health 503 `unreachable`, failed batch writes, refused publishes), entries of a
type the engine does not handle (ignored, yet acknowledged) and a consume cycle ended by an error
no cycle expects (a restart)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from google.protobuf.message import Message

from nautilus.runtime import BackpressureError, MessagePriority
from nautilus.runtime.http_endpoints import serve_http
from nautilus.runtime.resolver import LocalTypeResolver
from nautilus.runtime.server import EmbeddedServer
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import flash_crash_warning, quote, toxicity_alert

from .conftest import make_client
from .test_metrics import get, labels, scrape

PUBLISH_FAILURES = "nautilus_bus_publish_failures_total"
RESTARTS = "nautilus_bus_consumer_restarts_total"


async def test_health_is_503_unreachable_with_the_error_when_the_server_is_down(
    private_server: EmbeddedServer,
) -> None:
    risk = make_client(private_server.url, "risk", reconnect_max_ms=50)
    risk.subscribe(ToxicityAlert, lambda delivery: None)
    await risk.start(consume=False)
    endpoints = await serve_http(0, [risk])
    healthy, _ = await get(endpoints, "/health")
    private_server.kill()

    status, body = await get(endpoints, "/health")
    await endpoints.close()
    private_server.start()
    await risk.close()

    report = json.loads(body)
    assert (healthy, status) == (200, 503)
    assert (report["engine"], report["status"]) == ("risk", "unreachable")
    assert report["error"]


async def test_failed_batch_writes_are_counted_and_retried(
    private_server: EmbeddedServer,
) -> None:
    marketdata = make_client(private_server.url, "marketdata", publishes=(), reconnect_max_ms=50)
    await marketdata.start()
    endpoints = await serve_http(0, [marketdata])
    private_server.kill()
    marketdata.publish_nowait(quote(1))  # buffered; the writer keeps trying
    deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
    while (await scrape(endpoints))[(PUBLISH_FAILURES, labels(engine="marketdata"))] == 0:
        assert time.monotonic() < deadline, "no failed write was counted"
        await asyncio.sleep(0.02)

    private_server.start()
    await marketdata.flush(timeout_s=30)
    samples = await scrape(endpoints)
    await endpoints.close()
    await marketdata.close()

    assert samples[(PUBLISH_FAILURES, labels(engine="marketdata"))] >= 1
    assert samples[("nautilus_bus_published_total", labels(engine="marketdata"))] == 1


async def test_refused_publishes_are_counted_as_backpressure(
    private_server: EmbeddedServer,
) -> None:
    marketdata = make_client(
        private_server.url,
        "marketdata",
        publishes=(),
        max_unsent_messages=3,
        backpressure="raise",
        reconnect_max_ms=50,
    )
    await marketdata.start()
    endpoints = await serve_http(0, [marketdata])
    private_server.kill()
    for seq in range(3):
        marketdata.publish_nowait(quote(seq))
    for seq in range(3, 5):
        with pytest.raises(BackpressureError):
            await marketdata.publish(quote(seq))

    samples = await scrape(endpoints)
    private_server.start()
    await marketdata.flush(timeout_s=30)
    await endpoints.close()
    await marketdata.close()

    assert samples[("nautilus_bus_backpressure_events_total", labels(engine="marketdata"))] == 2
    assert samples[("nautilus_bus_buffer_depth", labels(engine="marketdata"))] == 3


async def test_entries_of_types_not_handled_are_counted_as_ignored_and_acked(
    redis_url: str,
) -> None:
    vpin = make_client(redis_url, "vpin", publishes=())
    risk = make_client(redis_url, "risk")
    risk.subscribe(ToxicityAlert, lambda delivery: None)  # not FlashCrashWarning
    await vpin.start()
    await risk.start(consume=False)
    endpoints = await serve_http(0, [risk])
    await vpin.publish(toxicity_alert(1))
    await vpin.publish(flash_crash_warning())
    await vpin.flush()
    await risk.poll()

    samples: dict[Any, float] = await scrape(endpoints)
    await endpoints.close()
    await vpin.close()
    await risk.close()

    risk_labels = labels(engine="risk")
    assert samples[("nautilus_bus_ignored_total", risk_labels)] == 1
    assert samples[("nautilus_bus_consumed_total", risk_labels)] == 1
    assert samples[("nautilus_bus_acked_total", risk_labels)] == 2


class SchemaServiceResolver:
    """A type resolver of the application's own, in front of a schema service that drops the
    first lookup with a connection error of its own: an error outside the resolver's contract
    (UndeliverableEntryError), which no consume cycle expects. Later lookups are answered from
    the types compiled into the process."""

    def __init__(self) -> None:
        self._local = LocalTypeResolver()
        self.dropped = 0

    async def resolve(self, message_type: str, writer_fingerprint: str) -> type[Message]:
        if not self.dropped:
            self.dropped += 1
            raise ConnectionResetError("schema service closed the connection")
        return await self._local.resolve(message_type, writer_fingerprint)


async def test_a_consume_cycle_ended_by_an_unexpected_error_is_counted_and_started_again(
    redis_url: str,
) -> None:
    """Risk's resolver fails on the first alert with an error no cycle expects: the cycle is
    logged and counted as a restart, and the loop goes on consuming. (The alerts are NORMAL: the
    loop reads the bulk lane, the priority reader not. The first alert stays pending, reclaimed
    only long after the test.)"""
    handled: list[int] = []
    vpin = make_client(redis_url, "vpin", publishes=())
    resolver = SchemaServiceResolver()
    risk = make_client(
        redis_url, "risk", resolver=resolver, reclaim_idle_ms=600_000, reconnect_max_ms=50
    )
    risk.subscribe(ToxicityAlert, lambda delivery: handled.append(delivery.message.bucket_index))
    await vpin.start()
    await risk.start()
    endpoints = await serve_http(0, [risk])
    await vpin.publish(toxicity_alert(1), priority=MessagePriority.NORMAL)
    deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
    while (await scrape(endpoints)).get((RESTARTS, labels(engine="risk")), 0) == 0:
        assert time.monotonic() < deadline, "no restart of the consume loop was counted"
        await asyncio.sleep(0.02)

    await vpin.publish(toxicity_alert(7), priority=MessagePriority.NORMAL)
    while not handled:
        assert time.monotonic() < deadline + 30, "the restarted loop handled nothing"
        await asyncio.sleep(0.02)
    samples = await scrape(endpoints)
    await endpoints.close()
    await vpin.close()
    await risk.close()

    assert (resolver.dropped, handled) == (1, [7])
    assert samples[(RESTARTS, labels(engine="risk"))] == 1
