"""Dead-letter entries as the server holds them, checked field by field against the table of
docs/wire-format.md ("Dead-letter entries"): the original's fields unchanged and first, then
`dl.reason`, `dl.detail` (UTF-8, at most 4096 bytes), `dl.id`, `dl.lane`, `dl.group`,
`dl.consumer`, `dl.deliveries` and `dl.ts` (from the consumer's clock), once each; the original's
own `dl.*` fields are not copied.

Originals are written with plain XADD and dead letters read with plain XRANGE (tests/wire/
raw_server.py): the runtime never reads back what it wrote here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis
from redis.asyncio import Redis as AsyncRedis

from nautilus.contract import fingerprints
from nautilus.runtime import MessageBusConfig, TestClock, UniversalMessageBusClient
from nautilus.runtime.dead_letter import (
    DeadLetter,
    dead_letter_fields,
    purge_dead_letters,
    read_dead_letters,
    replay_dead_letters,
)
from nautilus.runtime.errors import DeadLetterReason, TransportError
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import TS_OPEN, toxicity_alert
from tests.wire.raw_server import RawEntry, raw_connection, xadd_raw, xrange_raw

VPIN = "nautilus-vpin-streams"
URGENT = "{" + VPIN + "}:urgent"
DEAD_LETTERS = "{" + VPIN + "}:dead-letter"
ALERT = b"nautilus.vpin.v1.ToxicityAlert"
MOVED_AT_NS = TS_OPEN + 42_000_000_123
DL_FIELDS = [
    b"dl.reason",
    b"dl.detail",
    b"dl.id",
    b"dl.lane",
    b"dl.group",
    b"dl.consumer",
    b"dl.deliveries",
    b"dl.ts",
]
REASONS = {
    b"undecodable",
    b"unsupported-version",
    b"unknown-type",
    b"fingerprint-mismatch",
    b"unknown-fingerprint",
    b"incompatible-schema",
    b"max-deliveries",
}
FORGED = [(b"dl.reason", b"forged"), (b"dl.lane", b"elsewhere"), (b"dl.ts", b"1")]


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    with raw_connection(redis_url) as connection:
        yield connection


def alert_fields(**overrides: bytes) -> list[tuple[bytes, bytes]]:
    """A well-formed ToxicityAlert entry in the documented field order, then `overrides`."""
    fields = {
        b"v": b"1",
        b"t": ALERT,
        b"f": fingerprints()[ALERT.decode()].encode(),
        b"p": toxicity_alert(1).SerializeToString(),
        b"s": b"vpin",
        b"ts": b"%d" % TS_OPEN,
        b"pr": b"4",
    }
    fields.update({name.encode(): value for name, value in overrides.items()})
    return list(fields.items())


async def consume_as_risk(redis_url: str, handler: Any, **overrides: Any) -> None:
    """One poll of Risk's group over the VPIN lanes, moving dead letters at MOVED_AT_NS."""
    settings: dict[str, Any] = {
        "engine": "risk",
        "redis_url": redis_url,
        "consumer_name": "risk-on-the-wire",
        "trim_interval_ms": 0,
        "read_block_ms": 20,
        "reclaim_idle_ms": 60_000,
        "clock": TestClock(MOVED_AT_NS),
    }
    settings.update(overrides)
    client = UniversalMessageBusClient(MessageBusConfig(**settings), publishes=())
    client.subscribe(ToxicityAlert, handler)
    await client.start(consume=False)
    await client.poll()
    await client.close()


def the_dead_letter(server: redis.Redis) -> RawEntry:
    (letter,) = xrange_raw(server, DEAD_LETTERS)
    return letter


def assert_is_dead_letter_of(
    letter: RawEntry,
    original_id: str,
    original: list[tuple[bytes, bytes]],
    *,
    reason: bytes,
    deliveries: int,
) -> dict[bytes, bytes]:
    """The documented layout; returns the dl.* fields for further checks."""
    _, fields = letter
    kept = [(name, value) for name, value in original if not name.startswith(b"dl.")]
    assert fields[: len(kept)] == kept, "the original's fields come first, unchanged"
    added = fields[len(kept) :]
    assert [name for name, _ in added] == DL_FIELDS
    dl = dict(added)
    assert dl[b"dl.reason"] == reason
    assert dl[b"dl.reason"] in REASONS
    assert dl[b"dl.id"] == original_id.encode()
    assert dl[b"dl.lane"] == URGENT.encode()
    assert dl[b"dl.group"] == b"risk"
    assert dl[b"dl.consumer"] == b"risk-on-the-wire"
    assert dl[b"dl.deliveries"] == b"%d" % deliveries
    assert dl[b"dl.ts"] == b"%d" % MOVED_AT_NS
    detail = dl[b"dl.detail"].decode("utf-8")  # raises on invalid UTF-8
    assert detail
    assert len(dl[b"dl.detail"]) <= 4096
    return dl


async def test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it(
    redis_url: str, server: redis.Redis
) -> None:
    original = [(b"v", b"1"), (b"t", ALERT), (b"junk", b"\xff\x00"), *FORGED]
    original_id = xadd_raw(server, URGENT, original)

    await consume_as_risk(redis_url, lambda delivery: None)

    dl = assert_is_dead_letter_of(
        the_dead_letter(server), original_id, original, reason=b"undecodable", deliveries=1
    )
    assert dl[b"dl.detail"].startswith(b"missing fields")
    assert all(b"'%s'" % name in dl[b"dl.detail"] for name in (b"f", b"p", b"s", b"ts"))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"v": b"2"}, b"unsupported-version", id="unsupported-version"),
        pytest.param({"t": b"nautilus.nowhere.v1.Mystery"}, b"unknown-type", id="unknown-type"),
        # A registry-backed reader (the client's default) names the unregistered fingerprint.
        pytest.param({"f": b"0123456789abcdef"}, b"unknown-fingerprint", id="fingerprint"),
        pytest.param({"p": b"\xff\xff\xff"}, b"undecodable", id="payload"),
        pytest.param({"pr": b"9"}, b"undecodable", id="priority"),
    ],
)
async def test_each_reason_is_written_with_the_same_layout(
    redis_url: str, server: redis.Redis, overrides: dict[str, bytes], reason: bytes
) -> None:
    original = alert_fields(**overrides)
    original_id = xadd_raw(server, URGENT, original)

    await consume_as_risk(redis_url, lambda delivery: None)

    assert_is_dead_letter_of(
        the_dead_letter(server), original_id, original, reason=reason, deliveries=1
    )


@pytest.mark.parametrize(
    ("original", "detail"),
    [
        pytest.param(
            [(name, value) for name, value in alert_fields() if name != b"v"],
            b"missing field 'v' (wire-format version)",
            id="no-version",
        ),
        pytest.param(
            alert_fields(ts=b"-5"),
            b"malformed header field: ts b'-5' is not decimal ASCII digits",
            id="signed-time",
        ),
        pytest.param(alert_fields(pr=b"9"), b"malformed priority b'9'", id="priority-9"),
    ],
)
async def test_the_detail_of_an_undecodable_entry_names_the_faulty_header(
    redis_url: str, server: redis.Redis, original: list[tuple[bytes, bytes]], detail: bytes
) -> None:
    original_id = xadd_raw(server, URGENT, original)

    await consume_as_risk(redis_url, lambda delivery: None)

    dl = assert_is_dead_letter_of(
        the_dead_letter(server), original_id, original, reason=b"undecodable", deliveries=1
    )
    assert dl[b"dl.detail"] == detail


@pytest.mark.parametrize("padding", ["", "x"], ids=["even", "odd"])
async def test_a_long_detail_is_cut_to_4096_bytes_of_valid_utf8(
    redis_url: str, server: redis.Redis, padding: str
) -> None:
    """The handler's error text is 10,000 two-byte characters; one of the two paddings puts the
    4096-byte cut inside a character, which must not leave half of it behind."""
    original = alert_fields(**{"dl.detail": b"forged"})
    original_id = xadd_raw(server, URGENT, original)

    def fail(delivery: object) -> None:
        raise RuntimeError(padding + "é" * 10_000)

    await consume_as_risk(redis_url, fail, max_deliveries=1)

    dl = assert_is_dead_letter_of(
        the_dead_letter(server), original_id, original, reason=b"max-deliveries", deliveries=1
    )
    detail = dl[b"dl.detail"]
    assert 4090 <= len(detail) <= 4096
    assert re.match(r"handler failed on delivery 1: RuntimeError\('x?é", detail.decode())


async def test_the_original_entry_is_acknowledged_after_it_is_moved(
    redis_url: str, server: redis.Redis
) -> None:
    xadd_raw(server, URGENT, [(b"v", b"7")])

    await consume_as_risk(redis_url, lambda delivery: None)

    pending: Any = server.xpending(URGENT, "risk")
    assert pending["pending"] == 0
    assert len(xrange_raw(server, DEAD_LETTERS)) == 1
    assert len(xrange_raw(server, URGENT)) == 1  # acknowledged, not deleted


async def test_purging_a_dead_letter_key_the_server_rejects_names_the_command(
    redis_url: str, server: redis.Redis
) -> None:
    server.set(DEAD_LETTERS, "not a stream")
    connection = AsyncRedis.from_url(redis_url)
    try:
        with pytest.raises(TransportError) as rejected:
            await purge_dead_letters(connection, VPIN, ["1-1"])
    finally:
        await connection.aclose()

    assert rejected.value.operation == "XDEL"
    assert rejected.value.detail not in ("", "None")


async def test_reading_a_dead_letter_key_the_server_rejects_names_the_command(
    redis_url: str, server: redis.Redis
) -> None:
    server.set(DEAD_LETTERS, "not a stream")
    connection = AsyncRedis.from_url(redis_url)
    try:
        with pytest.raises(TransportError) as rejected:
            await read_dead_letters(connection, VPIN)
    finally:
        await connection.aclose()

    assert rejected.value.operation == "XRANGE"
    assert rejected.value.detail not in ("", "None")


async def test_replaying_into_a_lane_the_server_rejects_names_the_command(
    redis_url: str, server: redis.Redis
) -> None:
    xadd_raw(server, URGENT, [(b"v", b"9")])
    await consume_as_risk(redis_url, lambda delivery: None)
    server.delete(URGENT)
    server.set(URGENT, "not a stream")
    connection = AsyncRedis.from_url(redis_url)
    try:
        (letter,) = await read_dead_letters(connection, VPIN)
        with pytest.raises(TransportError) as rejected:
            await replay_dead_letters(connection, VPIN, [letter])
    finally:
        await connection.aclose()

    assert rejected.value.operation == "replay dead letter"
    assert rejected.value.detail not in ("", "None")
    assert len(xrange_raw(server, DEAD_LETTERS)) == 1, "a failed replay deletes nothing"


async def test_a_replay_says_which_lane_it_wrote_to_and_refuses_a_foreign_lane(
    redis_url: str, server: redis.Redis
) -> None:
    xadd_raw(server, URGENT, [(b"v", b"9")])
    await consume_as_risk(redis_url, lambda delivery: None)
    connection = AsyncRedis.from_url(redis_url)
    try:
        (letter,) = await read_dead_letters(connection, VPIN)
        foreign = replace(letter, lane="nautilus-risk-streams")
        with pytest.raises(ValueError, match="names lane 'nautilus-risk-streams'"):
            await replay_dead_letters(connection, VPIN, [foreign])
        (replayed,) = await replay_dead_letters(connection, VPIN, [letter])
    finally:
        await connection.aclose()

    assert replayed.dead_letter_id == letter.dead_letter_id
    assert replayed.lane == URGENT
    assert replayed.new_id == xrange_raw(server, URGENT)[-1][0]


async def test_dead_letters_are_read_between_ids_and_up_to_a_count(
    redis_url: str, server: redis.Redis
) -> None:
    for version in (b"7", b"8", b"9"):
        xadd_raw(server, URGENT, [(b"v", version)])
    await consume_as_risk(redis_url, lambda delivery: None)
    first, second, third = (entry_id for entry_id, _ in xrange_raw(server, DEAD_LETTERS))
    connection = AsyncRedis.from_url(redis_url)
    try:
        up_to_second = await read_dead_letters(connection, VPIN, end=second)
        from_second = await read_dead_letters(connection, VPIN, start=second, count=1)
        purged_none = await purge_dead_letters(connection, VPIN, [])
    finally:
        await connection.aclose()

    assert [letter.dead_letter_id for letter in up_to_second] == [first, second]
    assert [letter.dead_letter_id for letter in from_second] == [second]
    assert purged_none == 0
    assert third


def test_a_dead_letter_reads_back_every_documented_field() -> None:
    fields = dead_letter_fields(
        {b"v": b"1", b"dl.reason": b"forged"},
        reason=DeadLetterReason.MAX_DELIVERIES,
        detail="bad \ud800 surrogate",
        entry_id="5-1",
        lane=URGENT,
        group="risk",
        consumer="risk-7",
        deliveries=6,
        dead_lettered_at_ns=123,
    )
    pairs = dict(zip(fields[::2], fields[1::2], strict=True))

    letter = DeadLetter.from_entry(("9-0", pairs))

    assert pairs[b"dl.detail"] == b"bad ? surrogate"
    assert (letter.reason, letter.detail) == (DeadLetterReason.MAX_DELIVERIES, "bad ? surrogate")
    assert (letter.original_id, letter.lane, letter.group, letter.consumer) == (
        "5-1",
        URGENT,
        "risk",
        "risk-7",
    )
    assert (letter.deliveries, letter.dead_lettered_at_ns) == (6, 123)
    assert letter.original_fields == {b"v": b"1"}


def test_a_dead_letter_with_missing_or_garbled_fields_still_reads() -> None:
    letter = DeadLetter.from_entry(
        ("9-0", {b"dl.reason": b"undecodable", b"dl.detail": b"caf\xe9", b"v": b"1"})
    )

    assert letter.detail == "caf\ufffd"
    assert (letter.deliveries, letter.dead_lettered_at_ns, letter.consumer) == (0, 0, "")
