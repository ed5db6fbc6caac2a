"""`nautilus tail --since/--type/--key/--format`, and --json on trim, dlq replay and dlq purge."""

from __future__ import annotations

import asyncio
import json

import redis

from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from tests.runtime.conftest import quote

from .conftest import RunCli

MARKETDATA = "nautilus-marketdata-streams"


async def _publish(redis_url: str, keys: list[str]) -> None:
    config = MessageBusConfig(
        engine="marketdata", redis_url=redis_url, trim_interval_ms=0, declare_consumer_groups=False
    )
    async with UniversalMessageBusClient(config) as producer:
        for seq, key in enumerate(keys):
            await producer.publish(quote(seq), key=key)
        await producer.flush()


def _ids(cli: RunCli, redis_url: str, *argv: str) -> list[str]:
    result = cli("tail", MARKETDATA, *argv, "--format", "{id} {key}", "--redis-url", redis_url)
    assert result.status == 0, result.err
    return result.out.splitlines()


def test_key_keeps_the_last_entries_published_with_that_key(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["A", "B"] * 30))

    lines = _ids(cli, redis_url, "--key", "A", "--count", "3")

    assert len(lines) == 3
    assert all(line.endswith(" A") for line in lines)


def test_since_an_id_starts_there(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["A"] * 10))
    ids = [line.split()[0] for line in _ids(cli, redis_url, "--count", "10")]

    since = [line.split()[0] for line in _ids(cli, redis_url, "--since", ids[6])]

    assert since == ids[6:]


def test_since_a_time_before_everything_lists_everything(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["A"] * 25))

    assert len(_ids(cli, redis_url, "--since", "2000-01-01T00:00:00Z")) == 25


def test_type_filters_by_short_or_full_name(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["A"] * 4))

    short = _ids(cli, redis_url, "--type", "Quote")
    full = _ids(cli, redis_url, "--type", "nautilus.marketdata.v1.Quote")
    trades = cli("tail", MARKETDATA, "--type", "Trade", "--redis-url", redis_url)

    assert len(short) == len(full) == 4
    assert trades.out == ""
    assert "no entries" in trades.err


def test_a_format_naming_an_unknown_field_is_refused(cli: RunCli) -> None:
    result = cli("tail", MARKETDATA, "--format", "{id} {price}")

    assert result.status == 2
    assert "unknown field {price}" in result.err


def test_trim_reports_as_json(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["A"] * 12))

    result = cli("trim", MARKETDATA, "--max-len", "2", "--json", "--redis-url", redis_url)

    document = json.loads(result.out)
    assert {lane["lane"]: lane["deleted"] for lane in document["lanes"]} == {
        "bulk": 10,
        "urgent": 0,
    }


def _dead_letter(redis_url: str) -> str:

    with redis.Redis.from_url(redis_url) as connection:
        entry_id: bytes = connection.xadd(
            "{" + MARKETDATA + "}:dead-letter",
            {
                "garbage": "1",
                "dl.reason": "undecodable",
                "dl.detail": "not an entry",
                "dl.id": "1-0",
                "dl.lane": MARKETDATA,
                "dl.group": "risk",
                "dl.consumer": "risk-1",
                "dl.deliveries": "1",
                "dl.ts": "1",
            },
        )
    return entry_id.decode()


def test_dlq_replay_and_purge_report_as_json(cli: RunCli, redis_url: str) -> None:
    replayed_id = _dead_letter(redis_url)
    purged_id = _dead_letter(redis_url)

    replay = cli(
        "dlq", "replay", MARKETDATA, "--id", replayed_id, "--json", "--redis-url", redis_url
    )
    purge = cli("dlq", "purge", MARKETDATA, "--all", "--yes", "--json", "--redis-url", redis_url)

    replayed = json.loads(replay.out)
    assert replayed["replayed"] == 1
    assert replayed["results"][0]["id"] == replayed_id
    assert json.loads(purge.out) == {"stream": MARKETDATA, "deleted": 1, "ids": [purged_id]}
