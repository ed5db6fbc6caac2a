"""/metrics and /health when things go wrong (docs/operations.md, "Metrics and health"): the
server down (health 503 `unreachable`, failed batch writes, refused publishes) and entries of a
type the engine does not handle (ignored, yet acknowledged)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import redis

from nautilus.runtime import BackpressureError, MessagePriority
from nautilus.runtime.http_endpoints import serve_http
from nautilus.runtime.lanes import priority_lane
from nautilus.runtime.server import EmbeddedServer
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import flash_crash_warning, quote, toxicity_alert

from .conftest import VPIN, make_client
from .test_metrics import get, labels, scrape

PUBLISH_FAILURES = "nautilus_bus_publish_failures_total"
RESTARTS = "nautilus_bus_consumer_restarts_total"
URGENT = priority_lane(VPIN)


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


async def test_a_consume_cycle_ended_by_an_unexpected_error_is_counted_and_started_again(
    redis_url: str,
) -> None:
    """Another program joined Risk's group on the urgent lane under a consumer name that is not
    UTF-8. The consume loop's sweep of stale consumers cannot read that name, an error no cycle
    expects: each such cycle is logged and counted as a restart, and the loop goes on consuming
    (the alert sent afterwards is NORMAL: the loop reads the bulk lane, the priority reader not)."""
    handled: list[int] = []
    vpin = make_client(redis_url, "vpin", publishes=())
    risk = make_client(redis_url, "risk", stale_consumer_idle_ms=1, reconnect_max_ms=50)
    risk.subscribe(ToxicityAlert, lambda delivery: handled.append(delivery.message.bucket_index))
    server = redis.Redis.from_url(redis_url)
    server.xgroup_create(URGENT, "risk", id="0", mkstream=True)
    server.xgroup_createconsumer(URGENT, "risk", b"\xffforeign")
    await vpin.start()
    await risk.start()
    endpoints = await serve_http(0, [risk])
    deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
    while (await scrape(endpoints)).get((RESTARTS, labels(engine="risk")), 0) == 0:
        assert time.monotonic() < deadline, "no restart of the consume loop was counted"
        await asyncio.sleep(0.02)

    server.xgroup_delconsumer(URGENT, "risk", b"\xffforeign")
    await vpin.publish(toxicity_alert(7), priority=MessagePriority.NORMAL)
    await vpin.flush()
    while not handled:
        assert time.monotonic() < deadline + 30, "the restarted loop handled nothing"
        await asyncio.sleep(0.02)
    samples = await scrape(endpoints)
    await endpoints.close()
    await vpin.close()
    await risk.close()
    server.close()

    assert handled == [7]
    assert samples[(RESTARTS, labels(engine="risk"))] >= 1
