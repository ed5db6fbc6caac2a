"""What the registry says when it refuses: the failed command named, and a dead letter's detail
naming the writer, its fingerprint, the level and every violation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.errors import TransportError, UndeliverableEntryError
from nautilus.runtime.schema import CompatLevel, CompatMode, Rule, fingerprint
from nautilus.runtime.schema.registry import RegistryTypeResolver, SchemaRegistry, SchemaVersion
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


#: 2026-01-01T00:00:00Z, and five seconds later, as registration times.
OPEN_NS = 1_767_225_600_000_000_000


async def test_the_history_says_who_registered_each_version_when_and_which_is_deprecated(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = SchemaRegistry(Redis.from_url(redis_url))
    first = await registry.register(Quote.DESCRIPTOR, producer="marketdata", now_ns=OPEN_NS)
    second = await registry.register(
        quote_version(append="  string venue = 8;"), producer="marketdata", now_ns=OPEN_NS + 5
    )
    await registry.deprecate(QUOTE, first.fingerprint, "venue is required from now on")

    history = await registry.version_history(QUOTE)

    assert history == [
        SchemaVersion(
            QUOTE, first.fingerprint, 1, "marketdata", OPEN_NS, "venue is required from now on"
        ),
        SchemaVersion(QUOTE, second.fingerprint, 2, "marketdata", OPEN_NS + 5, ""),
    ]


@pytest.mark.parametrize("registered", [0, 2], ids=["none", "two"])
async def test_deprecating_an_unregistered_version_lists_the_registered_ones(
    redis_url: str, quote_version: QuoteVersion, registered: int
) -> None:
    registry = SchemaRegistry(Redis.from_url(redis_url))
    versions = [Quote.DESCRIPTOR, quote_version(append="  string venue = 8;")][:registered]
    known = [(await registry.register(v)).fingerprint for v in versions]

    with pytest.raises(KeyError) as refused:
        await registry.deprecate(QUOTE, "0123456789abcdef")

    assert refused.value.args[0] == (
        f"{QUOTE} has no registered version 0123456789abcdef; "
        f"registered: {', '.join(known) or 'none'}"
    )


async def test_a_deleted_version_is_no_longer_found_even_after_it_was_read(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = SchemaRegistry(Redis.from_url(redis_url))
    await registry.register(Quote.DESCRIPTOR)
    writer = await registry.register(quote_version(append="  string venue = 8;"))
    assert await registry.descriptor(QUOTE, writer.fingerprint) is not None

    await registry.delete(QUOTE, writer.fingerprint)

    assert await registry.descriptor(QUOTE, writer.fingerprint) is None


async def test_a_dry_run_checks_at_the_wire_json_level_unless_told_otherwise(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    registry = SchemaRegistry(Redis.from_url(redis_url))
    await registry.register(Quote.DESCRIPTOR)
    renamed = quote_version(replace=("int64 bid_price_e9 = 2;", "int64 bid_e9 = 2;"))

    by_default = await registry.check(renamed)
    at_wire = await registry.check(renamed, level=CompatLevel.WIRE)

    assert [v.rule for v in by_default] == [Rule.FIELD_NAME_CHANGED]
    assert at_wire == []


@pytest.mark.parametrize(
    ("command", "write"),
    [
        pytest.param("SET", lambda r, fp: r.set_mode(QUOTE, CompatMode.BACKWARD), id="set-mode"),
        pytest.param("HSET", lambda r, fp: r.deprecate(QUOTE, fp), id="deprecate"),
        pytest.param("LREM", lambda r, fp: r.delete(QUOTE, fp), id="delete"),
    ],
)
async def test_a_refused_registry_write_names_the_command(
    redis_url: str, command: str, write: Callable[[SchemaRegistry, str], Awaitable[None]]
) -> None:
    """A user allowed to read the registry but not to write it (the server refuses the queued
    commands of the transaction)."""
    admin = Redis.from_url(redis_url)
    registry = SchemaRegistry(admin)
    fp = (await registry.register(Quote.DESCRIPTOR)).fingerprint
    await admin.acl_setuser(
        "auditor",
        enabled=True,
        passwords=["+auditor-pw"],
        keys=["*"],
        commands=["+@all", "-@write"],
    )
    reader = Redis.from_url(redis_url, username="auditor", password="auditor-pw")
    try:
        with pytest.raises(TransportError) as refused:
            await write(SchemaRegistry(reader), fp)
    finally:
        await reader.aclose()
        await admin.acl_deluser("auditor")
        await admin.aclose()

    assert refused.value.operation == f"schema registry {command}"


async def test_a_delete_the_server_refuses_in_part_changes_nothing(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    """A user allowed to delete keys but not to edit lists: the version's hash could go while the
    version stays listed. The registry's writes are one transaction, so neither happens."""
    admin = Redis.from_url(redis_url)
    registry = SchemaRegistry(admin)
    await registry.register(Quote.DESCRIPTOR)
    fp = (await registry.register(quote_version(append="  string venue = 8;"))).fingerprint
    await admin.acl_setuser(
        "janitor",
        enabled=True,
        passwords=["+janitor-pw"],
        keys=["*"],
        commands=["+@all", "-lrem"],
    )
    janitor = Redis.from_url(redis_url, username="janitor", password="janitor-pw")
    try:
        with pytest.raises(TransportError):
            await SchemaRegistry(janitor).delete(QUOTE, fp)
        left = (await registry.versions(QUOTE), await registry.descriptor_set(fp) is not None)
    finally:
        await janitor.aclose()
        await admin.acl_deluser("janitor")
        await admin.aclose()

    assert left == ([fingerprint(Quote.DESCRIPTOR), fp], True)


async def test_a_history_read_the_server_rejects_names_the_command(redis_url: str) -> None:
    connection = Redis.from_url(redis_url)
    registry = SchemaRegistry(connection)
    fp = (await registry.register(Quote.DESCRIPTOR)).fingerprint
    schema_key = registry._schema_key(fp)
    await connection.delete(schema_key)
    await connection.set(schema_key, "not a hash")
    try:
        with pytest.raises(TransportError) as rejected:
            await registry.version_history(QUOTE)
    finally:
        await connection.aclose()

    assert rejected.value.operation == "schema registry HMGET"
    assert "WRONGTYPE" in rejected.value.detail


async def test_a_version_deprecated_without_a_reason_is_listed_as_deprecated(
    redis_url: str,
) -> None:
    registry = SchemaRegistry(Redis.from_url(redis_url))
    fp = (await registry.register(Quote.DESCRIPTOR)).fingerprint

    await registry.deprecate(QUOTE, fp)

    assert [v.deprecated for v in await registry.version_history(QUOTE)] == ["deprecated"]
