"""Trimming never stops: group state read while acks land, and a loop that survives any error."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

import pytest
import redis

from nautilus.runtime import MessageBusConfig, RedisTransport, UniversalMessageBusClient
from nautilus.runtime.backoff import Backoff
from nautilus.runtime.errors import TransportError
from nautilus.runtime.metrics import BusMetrics
from nautilus.runtime.trim import TrimLoop, received_floor, safe_trim

from .conftest import quote

LANE = "nautilus-marketdata-streams"


def _ack_churn(url: str, stop: threading.Event) -> None:
    """Keeps the group's pending list going from one entry to none, as fast as the server allows."""
    with redis.Redis.from_url(url) as connection:
        while not stop.is_set():
            connection.xadd(LANE, {"v": "1"})
            for _, entries in connection.xreadgroup("risk", "c1", {LANE: ">"}, count=1) or ():
                connection.xack(LANE, "risk", *[entry_id for entry_id, _ in entries])


async def test_group_states_survive_a_pending_list_emptied_by_concurrent_acks(
    redis_url: str,
) -> None:
    with redis.Redis.from_url(redis_url) as connection:
        connection.xgroup_create(LANE, "risk", id="0", mkstream=True)
    stop = threading.Event()
    churn = threading.Thread(target=_ack_churn, args=(redis_url, stop), daemon=True)
    churn.start()
    transport = RedisTransport(redis_url)
    clock = MessageBusConfig(engine="marketdata").clock
    try:
        for _ in range(3000):
            states = await transport.group_states(LANE)
            for state in states:
                if state.first_pending_id is not None:
                    assert state.pending >= 1
            assert received_floor(states) is not None
            await safe_trim(transport, LANE, max_len=10, max_age_ms=None, clock=clock)
    finally:
        stop.set()
        churn.join()
        await transport.close()
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xpending(LANE, "risk")["pending"] <= 1


async def _wait_until(condition: object, deadline_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_s
    while not condition():  # type: ignore[operator]
        assert loop.time() < give_up, "condition not reached within the deadline"
        await asyncio.sleep(0.01)


async def test_the_trim_loop_counts_any_error_and_keeps_trimming() -> None:
    outcomes: list[BaseException | None] = [
        ValueError("invalid literal for int() with base 10: 'None'"),
        TransportError("XTRIM", "connection refused"),
        ValueError("again"),
        None,
    ]

    async def trim() -> None:
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome

    loop = TrimLoop(trim, interval_s=0.001, backoff=Backoff(1, 4))
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await _wait_until(lambda: loop.runs >= 3)
    stop.set()
    await task

    assert loop.failures == 3
    assert loop.failures_by_kind == {"ValueError": 2, "TransportError: XTRIM": 1}


def _trims(
    outcomes: list[BaseException | None], stop: asyncio.Event
) -> Callable[[], Awaitable[None]]:
    """A trim that raises the outcomes' errors in turn and sets `stop` after the last outcome."""

    async def trim() -> None:
        outcome = outcomes.pop(0)
        if not outcomes:
            stop.set()
        if outcome is not None:
            raise outcome

    return trim


async def test_the_trim_loop_counts_each_completed_trim_once() -> None:
    stop = asyncio.Event()
    loop = TrimLoop(_trims([None] * 5, stop), interval_s=0.001, backoff=Backoff(1, 4))

    await loop.run(stop)

    assert (loop.runs, loop.failures) == (5, 0)


async def test_each_kind_of_trim_error_is_logged_once_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="nautilus.runtime.trim")
    refused = TransportError("XTRIM", "connection refused")
    first = ValueError("invalid literal for int() with base 10: 'None'")
    outcomes: list[BaseException | None] = [first, refused, ValueError("again"), refused]
    stop = asyncio.Event()
    loop = TrimLoop(_trims(outcomes, stop), interval_s=0.001, backoff=Backoff(1, 4))

    await loop.run(stop)

    assert caplog.messages == [
        "trim failed (ValueError); retrying with backoff",
        "trim failed (TransportError: XTRIM); retrying with backoff",
    ]
    assert [record.exc_info[1] for record in caplog.records if record.exc_info] == [first, refused]


async def test_the_first_trim_after_failures_logs_how_many_there_were(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="nautilus.runtime.trim")
    outcomes: list[BaseException | None] = [ValueError("a"), ValueError("b"), None, None]
    stop = asyncio.Event()
    loop = TrimLoop(_trims(outcomes, stop), interval_s=0.001, backoff=Backoff(1, 4))

    await loop.run(stop)

    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["trim succeeded again after 2 failures"]


async def test_a_producer_keeps_trimming_after_its_lane_was_unreadable(redis_url: str) -> None:
    client = UniversalMessageBusClient(
        MessageBusConfig(
            engine="marketdata",
            redis_url=redis_url,
            trim_interval_ms=20,
            trim_max_len=5,
            reconnect_initial_ms=1,
            reconnect_max_ms=10,
        )
    )
    metrics = BusMetrics()
    metrics.attach(client)
    await client.start(consume=False)
    try:
        await client.publish_many(quote(i) for i in range(20))
        await client.flush()
        with redis.Redis.from_url(redis_url) as connection:
            connection.delete(LANE)
            connection.set(LANE, "not a stream")
        await _wait_until(lambda: client.trim_loop.failures >= 2)
        with redis.Redis.from_url(redis_url) as connection:
            connection.delete(LANE)
        await client.publish_many(quote(i) for i in range(20))
        await client.flush()
        with redis.Redis.from_url(redis_url) as connection:
            await _wait_until(lambda: connection.xlen(LANE) <= 5)
    finally:
        await client.close()

    assert "nautilus_bus_trim_failures_total" in metrics.exposition().decode()
    assert client.stats()["trim_failures"] >= 2
