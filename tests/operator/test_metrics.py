"""/metrics and /health served over HTTP: the counts match the traffic that went through."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from nautilus.runtime import MessagePriority, UniversalMessageBusClient
from nautilus.runtime.http_endpoints import HttpEndpoints, serve_http
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import toxicity_alert

from .conftest import VPIN, make_client

ALERT = "nautilus.vpin.v1.ToxicityAlert"
URGENT = "{" + VPIN + "}:urgent"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def get(endpoints: HttpEndpoints, path: str) -> tuple[int, str]:
    return await asyncio.to_thread(fetch, f"http://127.0.0.1:{endpoints.port}{path}")


async def scrape(endpoints: HttpEndpoints) -> dict[tuple[str, frozenset[Any]], float]:
    """Every sample of /metrics by (name, labels)."""
    status, text = await get(endpoints, "/metrics")
    assert status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[Any]:
    return frozenset(values.items())


async def publish(vpin: UniversalMessageBusClient, count: int) -> None:
    for bucket in range(1, count + 1):
        await vpin.publish(toxicity_alert(bucket))
    await vpin.flush()


class Traffic:
    """A VPIN producer and a Risk consumer on the session server, served on a free port."""

    def __init__(self, redis_url: str, handler: Any = None, **risk_config: Any) -> None:
        self.vpin = make_client(redis_url, "vpin", publishes=())
        self.risk = make_client(redis_url, "risk", **risk_config)
        self.risk.subscribe(ToxicityAlert, handler or (lambda delivery: None))
        self.endpoints: HttpEndpoints

    async def __aenter__(self) -> Traffic:
        await self.vpin.start()
        await self.risk.start(consume=False)
        self.endpoints = await serve_http(0, [self.vpin, self.risk])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.endpoints.close()
        await self.vpin.close()
        await self.risk.close()


def fail(delivery: object) -> None:
    raise RuntimeError("handler bug")


async def test_published_and_consumed_counts_match_the_traffic(redis_url: str) -> None:
    async with Traffic(redis_url) as traffic:
        await publish(traffic.vpin, 7)
        await traffic.risk.drain()

        samples = await scrape(traffic.endpoints)

    assert samples[("nautilus_bus_published_total", labels(engine="vpin"))] == 7
    assert samples[("nautilus_bus_consumed_total", labels(engine="risk"))] == 7
    assert samples[("nautilus_bus_acked_total", labels(engine="risk"))] == 7


async def test_latency_histograms_count_every_handled_message(redis_url: str) -> None:
    async with Traffic(redis_url) as traffic:
        await publish(traffic.vpin, 4)
        await traffic.risk.drain()

        samples = await scrape(traffic.endpoints)

    series = labels(engine="risk", stream=VPIN, type=ALERT)
    assert samples[("nautilus_bus_handler_seconds_count", series)] == 4
    assert samples[("nautilus_bus_end_to_end_seconds_count", series)] == 4
    assert samples[("nautilus_bus_end_to_end_seconds_sum", series)] >= 0


async def test_dead_letters_are_counted_by_reason(redis_url: str) -> None:
    async with Traffic(redis_url, fail, max_deliveries=1) as traffic:
        await publish(traffic.vpin, 3)
        await traffic.risk.drain()

        samples = await scrape(traffic.endpoints)

    key = labels(engine="risk", stream=VPIN, reason="max-deliveries")
    assert samples[("nautilus_bus_dead_lettered_total", key)] == 3
    assert samples[("nautilus_bus_handler_failures_total", labels(engine="risk"))] == 3


async def test_reclaimed_entries_are_counted(redis_url: str) -> None:
    attempts: list[int] = []

    def fail_first(delivery: Any) -> None:
        attempts.append(delivery.delivery_count)
        if delivery.delivery_count == 1:
            raise RuntimeError("transient")

    async with Traffic(redis_url, fail_first, reclaim_idle_ms=1) as traffic:
        await publish(traffic.vpin, 2)
        await traffic.risk.poll()
        deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
        while len(attempts) < 4:  # the next polls reclaim both once they are idle
            assert time.monotonic() < deadline, f"reclaimed attempts so far: {attempts}"
            await asyncio.sleep(0.01)
            await traffic.risk.poll()

        samples = await scrape(traffic.endpoints)

    assert samples[("nautilus_bus_reclaimed_total", labels(engine="risk"))] == 2
    assert samples[("nautilus_bus_consumed_total", labels(engine="risk"))] == 2


async def test_buffer_depth_shows_unsent_messages(redis_url: str) -> None:
    vpin = make_client(redis_url, "vpin", publishes=(), buffer_interval_ms=60_000)
    await vpin.start()
    endpoints = await serve_http(0, [vpin])
    for bucket in range(5):
        vpin.publish_nowait(toxicity_alert(bucket + 1), priority=MessagePriority.NORMAL)

    buffered = await scrape(endpoints)
    await vpin.flush()
    flushed = await scrape(endpoints)
    await endpoints.close()
    await vpin.close()

    depth = ("nautilus_bus_buffer_depth", labels(engine="vpin"))
    assert (buffered[depth], flushed[depth]) == (5, 0)


async def test_health_reports_pending_and_lag_of_consumed_lanes(redis_url: str) -> None:
    async with Traffic(redis_url, fail, read_count=2) as traffic:
        await publish(traffic.vpin, 5)
        await traffic.risk.poll()

        status, body = await get(traffic.endpoints, "/health")

    report = json.loads(body)
    assert status == 200
    assert (report["engine"], report["status"]) == ("risk,vpin", "ok")
    assert report["lanes"][URGENT] == {"pending": 2, "lag": 3}


async def test_health_check_of_the_engine_can_mark_it_unhealthy(redis_url: str) -> None:
    risk = make_client(redis_url, "risk")
    endpoints = await serve_http(0, [risk], health=lambda: {"status": "degraded", "why": "stale"})

    status, body = await get(endpoints, "/health")
    await endpoints.close()
    await risk.close()

    assert status == 503
    assert json.loads(body)["why"] == "stale"


async def test_other_paths_are_not_found(redis_url: str) -> None:
    risk = make_client(redis_url, "risk")
    endpoints = await serve_http(0, [risk])

    status, _ = await get(endpoints, "/")
    await endpoints.close()
    await risk.close()

    assert status == 404
