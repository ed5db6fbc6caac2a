"""`nautilus dlq`: dead letters listed with their reasons, shown decoded, replayed without loss."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.asyncio import Redis

from nautilus.runtime import DeadLetterReason
from nautilus.runtime.dead_letter import read_dead_letters, replay_dead_letters
from nautilus.runtime.lanes import dead_letter_stream

from .conftest import VPIN, RunCli, consume_once, publish_alerts

DEAD = dead_letter_stream(VPIN)


def fail(delivery: object) -> None:
    raise RuntimeError("handler bug")


def poison(redis_url: str, count: int = 1) -> None:
    """`count` alerts that Risk's (buggy) handler dead-letters on their first delivery."""
    asyncio.run(publish_alerts(redis_url, count))
    asyncio.run(consume_once(redis_url, "risk", handler=fail, max_deliveries=1))


def listed(run_cli: RunCli) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run_cli("dlq", "list", VPIN, "--json").out.splitlines()]


def test_list_shows_type_reason_detail_and_group(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url)

    (letter,) = listed(run_cli)

    assert letter["type"] == "nautilus.vpin.v1.ToxicityAlert"
    assert letter["reason"] == DeadLetterReason.MAX_DELIVERIES.value
    assert "handler bug" in letter["detail"]
    assert (letter["group"], letter["deliveries"], letter["lane"]) == ("risk", 1, "urgent")


def test_list_filters_by_reason(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url)

    result = run_cli("dlq", "list", VPIN, "--reason", "undecodable")

    assert result.out.strip() == f"0 dead letters in {DEAD}"


def test_show_decodes_the_original_message(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url)
    (letter,) = listed(run_cli)

    result = run_cli("dlq", "show", VPIN, letter["id"])

    document = json.loads(result.out)
    assert document["entry"]["message"]["bucketIndex"] == "1"
    assert document["fields"]["t"] == "nautilus.vpin.v1.ToxicityAlert"
    assert document["reason"] == "max-deliveries"


def test_show_of_a_missing_id_is_a_usage_error(redis_url: str, run_cli: RunCli) -> None:
    result = run_cli("dlq", "show", VPIN, "1-1")

    assert result.status == 2
    assert f"no dead letter 1-1 in {DEAD}" in result.err


def test_replay_brings_the_entry_back_for_a_fixed_handler(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url)
    handled: list[int] = []

    result = run_cli("dlq", "replay", VPIN, "--all")
    asyncio.run(
        consume_once(redis_url, "risk", handler=lambda d: handled.append(d.message.bucket_index))
    )

    assert result.status == 0
    assert "replayed 1 dead letters" in result.out
    assert handled == [1]
    assert listed(run_cli) == []


def test_replay_keeps_the_original_fields(redis_url: str) -> None:
    poison(redis_url)

    async def replay() -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
        client = Redis.from_url(redis_url)
        (letter,) = await read_dead_letters(client, VPIN)
        (moved,) = await replay_dead_letters(client, VPIN, [letter])
        assert moved.new_id is not None
        ((_, fields),) = await client.xrange(letter.lane, moved.new_id, moved.new_id)
        await client.aclose()
        return letter.original_fields, fields

    original, replayed = asyncio.run(replay())

    assert replayed == original


def test_replaying_a_letter_twice_writes_it_once(redis_url: str) -> None:
    poison(redis_url)

    async def replay_twice() -> list[str | None]:
        client = Redis.from_url(redis_url)
        (letter,) = await read_dead_letters(client, VPIN)
        first = await replay_dead_letters(client, VPIN, [letter])
        second = await replay_dead_letters(client, VPIN, [letter])
        await client.aclose()
        return [first[0].new_id is not None, second[0].new_id]

    assert asyncio.run(replay_twice()) == [True, None]


def test_replay_by_id_moves_only_that_letter(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url, 2)
    first, second = listed(run_cli)

    run_cli("dlq", "replay", VPIN, "--id", first["id"])

    assert [letter["id"] for letter in listed(run_cli)] == [second["id"]]


def test_replay_needs_ids_or_all(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url)

    result = run_cli("dlq", "replay", VPIN)

    assert result.status == 2
    assert "--id ID (repeatable) or --all" in result.err


def test_replay_of_an_unknown_id_moves_nothing(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url)

    result = run_cli("dlq", "replay", VPIN, "--id", "1-1")

    assert result.status == 2
    assert len(listed(run_cli)) == 1


def test_purge_without_yes_deletes_nothing(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url)

    result = run_cli("dlq", "purge", VPIN, "--all")

    assert result.status == 2
    assert "this deletes 1 dead letters" in result.err
    assert len(listed(run_cli)) == 1


def test_purge_with_yes_empties_the_dead_letter_stream(redis_url: str, run_cli: RunCli) -> None:
    poison(redis_url, 3)

    result = run_cli("dlq", "purge", VPIN, "--all", "--yes")

    assert result.out.strip() == f"deleted 3 dead letters of {VPIN}"
    assert listed(run_cli) == []
