"""The schema registry in Redis: versions per type, refusal of incompatible schemas, lookups."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor
from redis.asyncio import Redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.errors import DeadLetterReason, ServerRejectedError, UndeliverableEntryError
from nautilus.runtime.schema import (
    CompatLevel,
    CompatMode,
    Rule,
    SchemaIncompatibleError,
    fingerprint,
)
from nautilus.runtime.schema.registry import RegistryTypeResolver, SchemaRegistry
from tests.registry.conftest import QUOTE, QuoteVersion

ADD_VENUE = "  // Venue-local quote condition code.\n  string condition = 8;"
BID_AS_TEXT = ("int64 bid_price_e9 = 2;", "string bid_price_e9 = 2;")


async def _registry(redis_url: str) -> SchemaRegistry:
    return SchemaRegistry(Redis.from_url(redis_url))


async def test_the_first_schema_of_a_type_is_version_one(redis_url: str) -> None:
    registry = await _registry(redis_url)
    registration = await registry.register(Quote.DESCRIPTOR, producer="marketdata")
    assert (registration.created, registration.version) == (True, 1)
    assert registration.fingerprint == fingerprint(Quote.DESCRIPTOR)
    assert await registry.versions(QUOTE) == [registration.fingerprint]
    assert await registry.types() == [QUOTE]


async def test_registering_the_same_schema_again_changes_nothing(redis_url: str) -> None:
    registry = await _registry(redis_url)
    await registry.register(Quote.DESCRIPTOR)
    again = await registry.register(Quote.DESCRIPTOR)
    assert (again.created, again.version) == (False, 1)
    assert len(await registry.versions(QUOTE)) == 1


async def test_a_compatible_version_is_appended(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    await registry.register(Quote.DESCRIPTOR)
    registration = await registry.register(quote_version(append=ADD_VENUE))
    assert (registration.created, registration.version) == (True, 2)
    assert await registry.versions(QUOTE) == [
        fingerprint(Quote.DESCRIPTOR),
        registration.fingerprint,
    ]


async def test_an_incompatible_version_is_refused_with_every_violation(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    await registry.register(Quote.DESCRIPTOR)
    candidate = quote_version(replace=BID_AS_TEXT)
    with pytest.raises(SchemaIncompatibleError) as refused:
        await registry.register(candidate)
    violations = refused.value.violations
    assert [(v.field, v.rule) for v in violations] == [
        ("Quote.bid_price_e9", Rule.FIELD_TYPE_CHANGED)
    ]
    assert (violations[0].old, violations[0].new) == ("int64", "string")
    assert await registry.versions(QUOTE) == [fingerprint(Quote.DESCRIPTOR)]


async def test_removing_a_field_without_reserving_it_is_refused(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    await registry.register(Quote.DESCRIPTOR)
    with pytest.raises(SchemaIncompatibleError) as refused:
        await registry.register(quote_version(replace=("  int64 ask_size_e9 = 5;\n", "")))
    assert [v.rule for v in refused.value.violations] == [Rule.FIELD_REMOVED_NOT_RESERVED]


async def test_transitive_mode_checks_every_version_and_plain_mode_only_the_latest(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    v1 = quote_version(append="  // Fee in bps.\n  double fee_bps = 8;")
    v2 = quote_version(append="  // Fees in bps.\n  repeated double fee_bps = 8;")
    # v3 adds a field to v2: old readers of v2 read it, the singular readers of v1 do not.
    v3 = quote_version(append="  // Fees.\n  repeated double fee_bps = 8;\n  string venue = 9;")
    await registry.register(v1)
    await registry.register(v2, mode=CompatMode.BACKWARD, level=CompatLevel.WIRE)
    with pytest.raises(SchemaIncompatibleError) as refused:
        await registry.register(v3, mode=CompatMode.FORWARD_TRANSITIVE, level=CompatLevel.WIRE)
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("Quote.fee_bps", Rule.FIELD_CARDINALITY_CHANGED)
    ]
    registration = await registry.register(v3, mode=CompatMode.FORWARD, level=CompatLevel.WIRE)
    assert registration.version == 3


async def test_mode_none_accepts_anything(redis_url: str, quote_version: QuoteVersion) -> None:
    registry = await _registry(redis_url)
    await registry.register(Quote.DESCRIPTOR)
    registration = await registry.register(quote_version(replace=BID_AS_TEXT), mode=CompatMode.NONE)
    assert registration.version == 2


class _RegistryRacedDuringItsCheck(SchemaRegistry):
    """A registry whose first compatibility check is overlapped by a rival's registration.

    The check reads the registered versions' descriptors between WATCH and EXEC; the first read
    lets `rival` (its own connection) register `rival_schema` to completion, so this registry's
    transaction is deterministically the second to commit.
    """

    def __init__(self, redis: Redis, rival: SchemaRegistry, rival_schema: Descriptor) -> None:
        super().__init__(redis)
        self._rival: SchemaRegistry | None = rival
        self._rival_schema = rival_schema

    async def descriptor(self, message_type: str, fingerprint_: str) -> Descriptor | None:
        rival, self._rival = self._rival, None
        if rival is not None:
            await rival.register(self._rival_schema)
        return await super().descriptor(message_type, fingerprint_)


async def test_a_registration_that_overlaps_a_rival_is_checked_against_the_rivals_version(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    await (await _registry(redis_url)).register(Quote.DESCRIPTOR)
    as_text = quote_version(append="  // Venue.\n  string venue = 8;")
    as_number = quote_version(append="  // Venue.\n  int64 venue = 8;")
    raced = _RegistryRacedDuringItsCheck(
        Redis.from_url(redis_url), await _registry(redis_url), as_number
    )

    with pytest.raises(SchemaIncompatibleError):
        await raced.register(as_text)

    assert await raced.versions(QUOTE) == [fingerprint(Quote.DESCRIPTOR), fingerprint(as_number)]


async def test_a_registered_version_is_found_by_its_fingerprint(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    newer = quote_version(append=ADD_VENUE)
    await registry.register(newer)
    found = await (await _registry(redis_url)).descriptor(QUOTE, fingerprint(newer))
    assert found is not None
    assert fingerprint(found) == fingerprint(newer)
    assert await registry.descriptor(QUOTE, "0123456789abcdef") is None


async def test_resolver_reads_a_compatible_writer_with_the_local_class(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    newer = quote_version(append=ADD_VENUE)
    await registry.register(newer)
    resolver = RegistryTypeResolver(registry, level=CompatLevel.WIRE)
    assert await resolver.resolve(QUOTE, fingerprint(newer)) is Quote
    assert await resolver.resolve(QUOTE, fingerprint(Quote.DESCRIPTOR)) is Quote


async def test_resolver_refuses_an_incompatible_writer_naming_the_violation(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    writer = quote_version(replace=BID_AS_TEXT)
    await registry.register(writer)
    resolver = RegistryTypeResolver(registry, level=CompatLevel.WIRE)
    with pytest.raises(UndeliverableEntryError) as refused:
        await resolver.resolve(QUOTE, fingerprint(writer))
    assert refused.value.reason is DeadLetterReason.INCOMPATIBLE_SCHEMA
    assert "Quote.bid_price_e9: FIELD_TYPE_CHANGED" in refused.value.detail


async def test_resolver_refuses_an_unknown_fingerprint(redis_url: str) -> None:
    resolver = RegistryTypeResolver(await _registry(redis_url))
    with pytest.raises(UndeliverableEntryError) as refused:
        await resolver.resolve(QUOTE, "0123456789abcdef")
    assert refused.value.reason is DeadLetterReason.UNKNOWN_FINGERPRINT
    with pytest.raises(UndeliverableEntryError) as unknown_type:
        await resolver.resolve("nautilus.nowhere.v1.Mystery", "0123456789abcdef")
    assert unknown_type.value.reason is DeadLetterReason.UNKNOWN_TYPE


async def test_resolver_reads_an_older_writer_with_the_local_class(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    older = quote_version(replace=("  int64 ask_size_e9 = 5;\n", ""))
    await registry.register(older)
    resolver = RegistryTypeResolver(registry, level=CompatLevel.WIRE)
    assert await resolver.resolve(QUOTE, fingerprint(older)) is Quote


async def test_without_a_mode_a_registration_uses_the_types_mode_in_the_registry(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = await _registry(redis_url)
    await registry.register(Quote.DESCRIPTOR)
    with pytest.raises(SchemaIncompatibleError):
        await registry.register(quote_version(replace=BID_AS_TEXT))  # the default: FULL

    await registry.set_mode(QUOTE, CompatMode.NONE)
    registration = await registry.register(quote_version(replace=BID_AS_TEXT))

    assert (await registry.mode(QUOTE), await registry.mode()) == (CompatMode.NONE, CompatMode.FULL)
    assert registration.version == 2


async def test_registry_errors_are_mapped_by_the_admin_layer(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    await client.set("{nautilus:schema}:types", "not a set")
    registry = SchemaRegistry(client)

    with pytest.raises(ServerRejectedError, match="WRONGTYPE"):
        await registry.types()
    with pytest.raises(ServerRejectedError, match="WRONGTYPE"):
        await registry.register(Quote.DESCRIPTOR)
    await client.aclose()
