"""Trimming as the server shows it (docs/wire-format.md, "Trimming"): the bound cut from
`trim_max_len` and `trim_max_age_ms`, the stricter of the two when both are set, and the periodic
trim of a producer (`nautilus trim --max-age-ms` is in tests/operator/test_trim.py). Lanes here
have no consumer group, so they are trimmed to their bounds (the safety floor is covered in
tests/runtime/test_delivery_contract.py).

Entries whose age matters are written with explicit ids (`<ms>-0`) and read back with XRANGE.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis

from nautilus.runtime import RedisTransport, TestClock
from nautilus.runtime.trim import TrimResult, safe_trim
from tests.operator.conftest import MARKETDATA, make_client
from tests.runtime.conftest import quote
from tests.wire.raw_server import raw_connection, xadd_raw, xrange_raw

NS_PER_MS = 1_000_000
#: Ten entries one second apart, at 1 s .. 10 s after the epoch; the clock reads 10 s.
IDS_MS = [1_000 * n for n in range(1, 11)]
NOW_NS = IDS_MS[-1] * NS_PER_MS
HOUR_MS = 3_600_000


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    with raw_connection(redis_url) as connection:
        yield connection


def write_at(server: redis.Redis, lane: str, ms_values: list[int]) -> None:
    for ms in ms_values:
        xadd_raw(server, lane, [(b"v", b"1")], entry_id=f"{ms}-0")


def kept_ms(server: redis.Redis, lane: str) -> list[int]:
    return [int(entry_id.split("-")[0]) for entry_id, _ in xrange_raw(server, lane)]


@pytest.mark.parametrize(
    ("max_len", "max_age_ms", "kept"),
    [
        pytest.param(None, None, IDS_MS, id="no-bound"),
        pytest.param(10, None, IDS_MS, id="length-exactly-at-the-bound"),
        pytest.param(7, None, IDS_MS[-7:], id="length"),
        pytest.param(None, 3_500, IDS_MS[-4:], id="age"),
        pytest.param(None, 4_000, IDS_MS[-5:], id="age-exactly-at-an-entry"),
        pytest.param(7, 3_500, IDS_MS[-4:], id="both-age-stricter"),
        pytest.param(2, 3_500, IDS_MS[-2:], id="both-length-stricter"),
        pytest.param(0, None, [], id="length-zero"),
    ],
)
async def test_the_bound_cut_is_the_stricter_of_length_and_age(
    redis_url: str,
    server: redis.Redis,
    max_len: int | None,
    max_age_ms: int | None,
    kept: list[int],
) -> None:
    write_at(server, MARKETDATA, IDS_MS)
    transport = RedisTransport(redis_url)
    try:
        result = await safe_trim(
            transport, MARKETDATA, max_len=max_len, max_age_ms=max_age_ms, clock=TestClock(NOW_NS)
        )
    finally:
        await transport.close()

    assert kept_ms(server, MARKETDATA) == kept
    assert result.deleted == len(IDS_MS) - len(kept)
    assert (result.min_id is None) == (kept == IDS_MS), "nothing due, so no cut at all"
    assert result.held_by_groups is False
    if max_len == 0:
        assert result.min_id == f"{IDS_MS[-1]}-1", "just past the newest entry"


async def test_a_producer_trims_by_its_configured_age(redis_url: str, server: redis.Redis) -> None:
    two_hours_ago_ms = time.time_ns() // NS_PER_MS - 2 * HOUR_MS
    write_at(server, MARKETDATA, [two_hours_ago_ms, two_hours_ago_ms + 1])
    async with make_client(
        redis_url, "marketdata", publishes=(), trim_max_len=None, trim_max_age_ms=HOUR_MS
    ) as producer:
        await producer.publish(quote(1))
        await producer.flush()

        (result,) = await producer.trim()

    assert result.deleted == 2
    (entry,) = xrange_raw(server, MARKETDATA)
    assert dict(entry[1])[b"t"] == b"nautilus.marketdata.v1.Quote"


async def test_the_periodic_trim_of_a_producer_runs_without_being_asked(
    redis_url: str, server: redis.Redis
) -> None:
    async with make_client(
        redis_url, "marketdata", publishes=(), trim_interval_ms=20, trim_max_len=5
    ) as producer:
        await producer.start()
        await producer.publish_many(quote(seq) for seq in range(20))
        await producer.flush()
        newest = xrange_raw(server, MARKETDATA)[-5:]
        deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
        while server.xlen(MARKETDATA) > 5:
            assert time.monotonic() < deadline, "the producer's periodic trim never ran"
            await asyncio.sleep(0.02)

    assert xrange_raw(server, MARKETDATA) == newest


async def trim(redis_url: str, **bounds: int | None) -> TrimResult:
    transport = RedisTransport(redis_url)
    try:
        return await safe_trim(
            transport,
            MARKETDATA,
            max_len=bounds.get("max_len"),
            max_age_ms=bounds.get("max_age_ms"),
            clock=TestClock(NOW_NS),
        )
    finally:
        await transport.close()


async def test_the_group_furthest_behind_holds_the_lane(
    redis_url: str, server: redis.Redis
) -> None:
    write_at(server, MARKETDATA, IDS_MS)
    server.xgroup_create(MARKETDATA, "a-behind", id="2000-0")  # owed 3000 onwards
    server.xgroup_create(MARKETDATA, "z-ahead", id="8000-0")  # owed 9000 onwards

    result = await trim(redis_url, max_len=1)

    assert kept_ms(server, MARKETDATA) == IDS_MS[2:]
    assert (result.min_id, result.held_by_groups) == ("2000-1", True)


async def test_a_group_needing_exactly_the_cut_does_not_hold_it(
    redis_url: str, server: redis.Redis
) -> None:
    write_at(server, MARKETDATA, IDS_MS)
    server.xgroup_create(MARKETDATA, "reader", id="3000-0")
    server.xreadgroup("reader", "c1", {MARKETDATA: ">"}, count=1)  # 4000-0 pending

    result = await trim(redis_url, max_len=7)  # the cut is 4000-0 as well

    assert kept_ms(server, MARKETDATA) == IDS_MS[3:]
    assert (result.min_id, result.held_by_groups) == ("4000-0", False)


async def test_an_age_reaching_before_the_epoch_deletes_nothing(
    redis_url: str, server: redis.Redis
) -> None:
    xadd_raw(server, MARKETDATA, [(b"v", b"1")], entry_id="0-1")
    xadd_raw(server, MARKETDATA, [(b"v", b"1")], entry_id="0-2")

    result = await trim(redis_url, max_age_ms=NOW_NS // NS_PER_MS + 5_000)

    assert [entry_id for entry_id, _ in xrange_raw(server, MARKETDATA)] == ["0-1", "0-2"]
    assert result.deleted == 0
