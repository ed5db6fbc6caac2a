"""Only schema-admin writes the schema registry; engines read it, and a bad entry is named."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message
from redis.asyncio import Redis

from nautilus.contract import bus_message_classes
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.errors import (
    RegistryEntryError,
    SchemaNotRegisteredError,
    UndeliverableEntryError,
)
from nautilus.runtime.routing import message_spec
from nautilus.runtime.schema.registry import RegistryTypeResolver, SchemaRegistry
from tests.security.conftest import AclServer


def _published_by(engine: str) -> list[type[Message]]:
    return [c for c in bus_message_classes().values() if message_spec(c).route.producer == engine]


def _client(acl: AclServer, engine: str, **settings: object) -> UniversalMessageBusClient:
    config = MessageBusConfig(
        engine=engine, redis_url=acl.url(engine), trim_interval_ms=0, **settings
    )  # type: ignore[arg-type]
    return UniversalMessageBusClient(config)


async def _register_as_schema_admin(acl: AclServer, engine: str) -> None:
    redis = Redis.from_url(acl.url("schema-admin"))
    try:
        await SchemaRegistry(redis).register_all(
            [c.DESCRIPTOR for c in _published_by(engine)], producer="schema-admin"
        )
    finally:
        await redis.aclose()


@pytest.mark.parametrize("registration", ["register", "verify"])
async def test_a_producer_with_unregistered_schemas_refuses_to_start_and_says_what_to_run(
    acl_server: AclServer, registration: str
) -> None:
    client = _client(acl_server, "vpin", schema_registration=registration)
    with pytest.raises(SchemaNotRegisteredError) as refused:
        await client.start(consume=False)
    await client.close()
    message = str(refused.value)
    assert "nautilus schema register" in message
    assert "schema-admin" in message
    assert "nautilus.vpin.v1.ToxicityAlert" in message
    assert acl_server.passwords["vpin"] not in message


async def test_an_engine_starts_reading_the_registry_once_schema_admin_registered(
    acl_server: AclServer,
) -> None:
    await _register_as_schema_admin(acl_server, "vpin")
    client = _client(acl_server, "vpin", schema_registration="verify")
    registrations = await client.start(consume=False) or await client.register_schemas()
    await client.close()
    assert {r.message_type for r in registrations} == {
        c.DESCRIPTOR.full_name for c in _published_by("vpin")
    }
    assert not any(r.created for r in registrations)
    assert acl_server.acl_log() == []


async def test_a_poisoned_versions_list_is_reported_with_its_key_and_blocks_only_its_type(
    acl_server: AclServer,
) -> None:
    await _register_as_schema_admin(acl_server, "strategy")
    key = "{nautilus:schema}:versions:nautilus.vpin.v1.ToxicityAlert"
    with acl_server.admin() as admin:
        admin.set(key, "not a list")
    vpin = _client(acl_server, "vpin", schema_registration="verify")
    with pytest.raises(RegistryEntryError) as refused:
        await vpin.start(consume=False)
    await vpin.close()
    assert refused.value.key == key
    strategy = _client(acl_server, "strategy", schema_registration="verify")
    await strategy.start(consume=False)
    await strategy.close()


async def test_a_malformed_schema_entry_fails_only_entries_written_with_it(
    acl_server: AclServer,
) -> None:
    with acl_server.admin() as admin:
        admin.hset("{nautilus:schema}:fp:bogus", mapping={"descriptor_set": b"\xff\xff garbage"})
    redis = Redis.from_url(acl_server.url("risk"))
    try:
        resolver = RegistryTypeResolver(SchemaRegistry(redis))
        alert = "nautilus.vpin.v1.ToxicityAlert"
        for _ in range(2):
            with pytest.raises(UndeliverableEntryError) as undeliverable:
                await resolver.resolve(alert, "bogus")
            assert "{nautilus:schema}:fp:bogus" in undeliverable.value.detail
        order = bus_message_classes()["nautilus.strategy.v1.OrderRequest"]
        assert await resolver.resolve(order.DESCRIPTOR.full_name, message_spec(order).fingerprint)
    finally:
        await redis.aclose()
