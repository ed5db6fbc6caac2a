"""Replicas as their engine's ACL user: taking, renewing and releasing leases and keeping the
member set are granted on the engine's own lease keys, and on no other engine's."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.leases import lease_key, members_key

from .conftest import AclServer

STREAM = "nautilus-marketdata-streams"


def _replica(url: str, name: str) -> UniversalMessageBusClient:
    config = MessageBusConfig(
        engine="vpin",
        consumer_name=name,
        redis_url=url,
        replica_lease_ms=1000,
        schema_registry=False,
        declare_consumer_groups=False,
        trim_interval_ms=0,
    )
    client = UniversalMessageBusClient(config)
    client.subscribe(Quote, lambda delivery: None)
    return client


async def test_two_replicas_share_and_hand_over_leases_as_their_engine_user(
    acl_server: AclServer,
) -> None:
    with acl_server.admin() as admin:
        admin.xgroup_create(STREAM, "vpin", id="0", mkstream=True)
    first = _replica(acl_server.url("vpin"), "vpin-a")
    second = _replica(acl_server.url("vpin"), "vpin-b")
    await first.start()
    await second.start()
    assert first.leases is not None
    assert second.leases is not None
    assert first.leases.held == {STREAM}
    await first.close()
    deadline = time.monotonic() + 30
    while second.leases.held != {STREAM}:
        assert time.monotonic() < deadline, "the second replica never took the stream over"
        await asyncio.sleep(0.02)
    await second.close()
    assert acl_server.acl_log() == []


def test_an_engine_user_may_not_touch_another_engines_leases(acl_server: AclServer) -> None:
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        with pytest.raises(redis.exceptions.NoPermissionError):
            vpin.set(lease_key(STREAM, "risk"), "vpin-a", nx=True, px=300)
        with pytest.raises(redis.exceptions.NoPermissionError):
            vpin.zadd(members_key("risk"), {"vpin-a": 1})
