"""`nautilus dlq show|replay|purge` checked on the server's own state: the payload hex of `show`
against the raw entry, and what `replay`/`purge` with `--id` or `--reason` leave in the
dead-letter stream, the lanes and the retry lane of the group that gave up (XRANGE), with
letters of two reasons side by side."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
import redis

from nautilus.runtime.lanes import dead_letter_stream, retry_lane
from tests.wire.raw_server import raw_connection, xadd_raw, xrange_raw

from .conftest import VPIN, RunCli, consume_once, publish_alerts

DEAD = dead_letter_stream(VPIN)
URGENT = "{" + VPIN + "}:urgent"
RISK_RETRY = retry_lane(VPIN, "risk")


def fail(delivery: object) -> None:
    raise RuntimeError("handler bug")


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    with raw_connection(redis_url) as connection:
        yield connection


@pytest.fixture
def two_reasons(redis_url: str, server: redis.Redis) -> dict[str, str]:
    """Two dead letters of VPIN: `max-deliveries` (a handler bug) and `undecodable` (garbage),
    by reason → dead-letter id."""
    asyncio.run(publish_alerts(redis_url, 1))
    xadd_raw(server, URGENT, [(b"v", b"1"), (b"t", b"garbage")])
    asyncio.run(consume_once(redis_url, "risk", handler=fail, max_deliveries=1))
    by_reason = {}
    for letter_id, fields in xrange_raw(server, DEAD):
        by_reason[dict(fields)[b"dl.reason"].decode()] = letter_id
    assert set(by_reason) == {"max-deliveries", "undecodable"}
    return by_reason


def letter_ids(server: redis.Redis) -> list[str]:
    return [letter_id for letter_id, _ in xrange_raw(server, DEAD)]


def test_show_prints_the_payload_in_hex(
    run_cli: RunCli, server: redis.Redis, two_reasons: dict[str, str]
) -> None:
    letter_id = two_reasons["max-deliveries"]
    ((_, fields),) = [entry for entry in xrange_raw(server, DEAD) if entry[0] == letter_id]

    document = json.loads(run_cli("dlq", "show", VPIN, letter_id, "--json").out)

    assert document["payload_hex"] == dict(fields)[b"p"].hex()
    assert bytes.fromhex(document["payload_hex"]) == dict(fields)[b"p"]


def test_purge_by_id_deletes_only_that_letter(
    run_cli: RunCli, server: redis.Redis, two_reasons: dict[str, str]
) -> None:
    result = run_cli("dlq", "purge", VPIN, "--id", two_reasons["undecodable"], "--yes")

    assert result.status == 0, result.err
    assert letter_ids(server) == [two_reasons["max-deliveries"]]


def test_purge_by_reason_deletes_only_letters_of_that_reason(
    run_cli: RunCli, server: redis.Redis, two_reasons: dict[str, str]
) -> None:
    result = run_cli("dlq", "purge", VPIN, "--all", "--reason", "max-deliveries", "--yes")

    assert result.status == 0, result.err
    assert result.out.strip() == f"deleted 1 dead letters of {VPIN}"
    assert letter_ids(server) == [two_reasons["undecodable"]]


def test_replay_by_reason_moves_only_letters_of_that_reason_to_their_groups_retry_lane(
    run_cli: RunCli, server: redis.Redis, two_reasons: dict[str, str]
) -> None:
    before = xrange_raw(server, URGENT)
    ((_, letter),) = [e for e in xrange_raw(server, DEAD) if e[0] == two_reasons["undecodable"]]
    assert dict(letter)[b"dl.group"] == b"risk"

    result = run_cli("dlq", "replay", VPIN, "--all", "--reason", "undecodable")

    assert result.status == 0, result.err
    assert letter_ids(server) == [two_reasons["max-deliveries"]]
    assert xrange_raw(server, URGENT) == before
    ((_, replayed),) = xrange_raw(server, RISK_RETRY)
    assert replayed == [(name, value) for name, value in letter if not name.startswith(b"dl.")]
    assert [g["name"] for g in server.xinfo_groups(RISK_RETRY)] == [b"risk"]


def test_a_replayed_letter_that_fails_again_is_dead_lettered_from_the_retry_lane(
    run_cli: RunCli, redis_url: str, server: redis.Redis, two_reasons: dict[str, str]
) -> None:
    run_cli("dlq", "replay", VPIN, "--id", two_reasons["undecodable"])
    ((replayed_id, _),) = xrange_raw(server, RISK_RETRY)

    asyncio.run(consume_once(redis_url, "risk", handler=fail, max_deliveries=1))

    (again,) = [
        dict(fields)
        for letter_id, fields in xrange_raw(server, DEAD)
        if letter_id != two_reasons["max-deliveries"]
    ]
    assert again[b"dl.reason"] == b"undecodable"
    assert again[b"dl.group"] == b"risk"
    assert again[b"dl.lane"] == RISK_RETRY.encode()
    assert again[b"dl.id"] == replayed_id.encode()
