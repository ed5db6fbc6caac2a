"""What the registry says when it refuses: the failed command named, and a dead letter's detail
naming the writer, its fingerprint, the level and every violation."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.errors import TransportError, UndeliverableEntryError
from nautilus.runtime.schema import CompatLevel, fingerprint
from nautilus.runtime.schema.registry import RegistryTypeResolver, SchemaRegistry
from tests.registry.conftest import QUOTE, QuoteVersion

#: A new type and a new name for one field: two violations at the wire_json level.
RETYPED_AND_RENAMED = ("int64 bid_price_e9 = 2;", "string bid_text = 2;")


async def test_a_rejected_registry_read_names_the_command(redis_url: str) -> None:
    connection = Redis.from_url(redis_url)
    await connection.set("{nautilus:schema}:types", "not a set")
    try:
        with pytest.raises(TransportError) as rejected:
            await SchemaRegistry(connection).types()
    finally:
        await connection.aclose()

    assert rejected.value.operation == "schema registry SMEMBERS"
    assert "WRONGTYPE" in rejected.value.detail


async def test_a_renamed_field_is_readable_at_wire_level_only(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = SchemaRegistry(Redis.from_url(redis_url))
    renamed = quote_version(replace=("int64 bid_price_e9 = 2;", "int64 bid_e9 = 2;"))
    await registry.register(renamed)

    assert (
        await RegistryTypeResolver(registry, level=CompatLevel.WIRE).resolve(
            QUOTE, fingerprint(renamed)
        )
        is Quote
    )
    with pytest.raises(UndeliverableEntryError):
        await RegistryTypeResolver(registry, level=CompatLevel.WIRE_JSON).resolve(
            QUOTE, fingerprint(renamed)
        )


async def test_an_incompatible_writers_detail_lists_every_violation(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = SchemaRegistry(Redis.from_url(redis_url))
    writer = quote_version(replace=RETYPED_AND_RENAMED)
    await registry.register(writer)

    with pytest.raises(UndeliverableEntryError) as refused:
        await RegistryTypeResolver(registry, level=CompatLevel.WIRE_JSON).resolve(
            QUOTE, fingerprint(writer)
        )

    assert refused.value.detail == (
        f"{QUOTE} written with schema {fingerprint(writer)}, which this consumer's schema cannot "
        "read at level WIRE_JSON: Quote.bid_text: FIELD_NAME_CHANGED; "
        "Quote.bid_text: FIELD_TYPE_CHANGED"
    )


async def test_an_unregistered_writers_detail_says_so(redis_url: str) -> None:
    resolver = RegistryTypeResolver(SchemaRegistry(Redis.from_url(redis_url)))

    with pytest.raises(UndeliverableEntryError) as refused:
        await resolver.resolve(QUOTE, "0123456789abcdef")

    assert refused.value.detail == (
        f"{QUOTE} written with schema 0123456789abcdef, which is not in the schema registry"
    )
