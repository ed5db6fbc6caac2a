"""An observer's group is durable on the server: a new one starts at the oldest entry still in
the lane, and the same name resumes where it stopped."""

from __future__ import annotations

from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.operator.conftest import publish_alerts


async def observe(redis_url: str) -> list[int]:
    """The buckets of the alerts observer `desk` is given until nothing is left; closed cleanly."""
    seen: list[int] = []
    desk = UniversalMessageBusClient(
        MessageBusConfig(
            observer="desk", redis_url=redis_url, schema_registry=False, trim_interval_ms=0
        )
    )
    desk.subscribe(ToxicityAlert, lambda delivery: seen.append(delivery.message.bucket_index))
    await desk.start(consume=False)
    await desk.drain()
    await desk.close()
    return seen


async def test_an_observer_starts_at_the_oldest_entry_and_resumes_where_it_stopped(
    redis_url: str,
) -> None:
    await publish_alerts(redis_url, 3)
    first = await observe(redis_url)

    await publish_alerts(redis_url, 5)
    second = await observe(redis_url)

    assert first == [1, 2, 3]
    assert second == [1, 2, 3, 4, 5]
