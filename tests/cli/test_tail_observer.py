"""`nautilus tail STREAM --observer NAME`: a durable tail through the observer's own group, which
resumes where it left off and never takes an entry from an engine's group."""

from __future__ import annotations

import asyncio

import redis

from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from tests.runtime.conftest import quote

from .conftest import RunCli

MARKETDATA = "nautilus-marketdata-streams"


async def _publish(redis_url: str, keys: list[str]) -> None:
    config = MessageBusConfig(engine="marketdata", redis_url=redis_url, trim_interval_ms=0)
    async with UniversalMessageBusClient(config) as producer:
        for seq, key in enumerate(keys):
            await producer.publish(quote(seq), key=key)
        await producer.flush()


def _keys(cli: RunCli, redis_url: str, *argv: str) -> list[str]:
    result = cli(
        "tail", MARKETDATA, "--observer", "desk", *argv, "--format", "{key}",
        "--redis-url", redis_url,
    )  # fmt: skip
    assert result.status == 0, result.err
    return result.out.splitlines()


def test_a_new_observer_starts_at_the_end_of_the_stream(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["before-1", "before-2"]))

    first = cli("tail", MARKETDATA, "--observer", "desk", "--redis-url", redis_url)
    asyncio.run(_publish(redis_url, ["after-1"]))

    assert first.out == ""
    assert "observer desk has nothing new" in first.err
    assert _keys(cli, redis_url) == ["after-1"]


def test_each_run_prints_only_what_arrived_since_the_last(cli: RunCli, redis_url: str) -> None:
    _keys(cli, redis_url)
    asyncio.run(_publish(redis_url, ["A1", "A2", "A3"]))
    first = _keys(cli, redis_url)
    asyncio.run(_publish(redis_url, ["B1", "B2"]))

    second = _keys(cli, redis_url)
    third = _keys(cli, redis_url)

    assert (first, second, third) == (["A1", "A2", "A3"], ["B1", "B2"], [])


def test_a_run_stopped_by_count_leaves_the_rest_for_the_next(cli: RunCli, redis_url: str) -> None:
    _keys(cli, redis_url)
    asyncio.run(_publish(redis_url, [f"K{n}" for n in range(1, 8)]))

    first = _keys(cli, redis_url, "--count", "3")
    rest = _keys(cli, redis_url)

    assert first == ["K1", "K2", "K3"]
    assert rest == ["K4", "K5", "K6", "K7"]


def test_since_places_a_new_observer_at_an_entry(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["K1", "K2", "K3"]))
    ids = cli("tail", MARKETDATA, "--format", "{id}", "--redis-url", redis_url).out.split()

    keys = _keys(cli, redis_url, "--since", ids[1])

    assert keys == ["K2", "K3"]


def test_since_is_refused_for_an_observer_that_exists(cli: RunCli, redis_url: str) -> None:
    _keys(cli, redis_url)

    result = cli("tail", MARKETDATA, "--observer", "desk", "--since", "0", "--redis-url", redis_url)

    assert result.status == 2
    assert "resumes where it left off" in result.err
    assert "nautilus group setid" in result.err


def test_an_observer_tail_takes_nothing_from_an_engines_group(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish(redis_url, ["K1"]))  # the producer declares the engines' groups
    _keys(cli, redis_url)
    asyncio.run(_publish(redis_url, ["K2", "K3"]))

    _keys(cli, redis_url)

    with redis.Redis.from_url(redis_url) as connection:
        groups = {g["name"].decode(): g for g in connection.xinfo_groups(MARKETDATA)}
    engines = {name: g for name, g in groups.items() if not name.startswith("observer:")}
    assert engines, "the producer declared no engine group"
    for name, group in engines.items():
        assert (group["pending"], group["lag"]) == (0, 3), name
    assert (groups["observer:desk"]["pending"], groups["observer:desk"]["lag"]) == (0, 0)


def test_follow_stops_after_max_entries_and_acknowledges_them(cli: RunCli, redis_url: str) -> None:
    _keys(cli, redis_url)
    asyncio.run(_publish(redis_url, ["K1", "K2", "K3"]))

    followed = _keys(cli, redis_url, "--follow", "--max-entries", "2")
    rest = _keys(cli, redis_url)

    assert followed == ["K1", "K2"]
    assert rest == ["K3"]
