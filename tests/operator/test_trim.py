"""`nautilus trim`: the safe trim by hand; never what a group still needs, and it says why."""

from __future__ import annotations

import asyncio
import time

import redis

from tests.wire.raw_server import raw_connection, xadd_raw, xrange_raw

from .conftest import MARKETDATA, VPIN, RunCli, consume_once, publish_alerts

URGENT = "{" + VPIN + "}:urgent"


def length(redis_url: str, key: str) -> int:
    with redis.Redis.from_url(redis_url) as connection:
        return int(connection.xlen(key))


def test_trim_keeps_what_a_group_has_not_received(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 5))
    asyncio.run(consume_once(redis_url, "risk", read_count=2, handler=lambda d: None))

    result = run_cli("trim", VPIN, "--max-len", "0")

    assert result.status == 0
    assert "urgent lane {nautilus-vpin-streams}:urgent: deleted 2 entries" in result.out
    assert "held back by group risk (has not received the entries after" in result.out
    assert length(redis_url, URGENT) == 3


def test_trim_keeps_what_is_pending_in_a_group(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 4))

    def fail(delivery: object) -> None:
        raise RuntimeError("handler bug")

    asyncio.run(consume_once(redis_url, "risk", read_count=2, handler=fail))

    result = run_cli("trim", VPIN, "--max-len", "0")

    assert "held back by group risk (2 pending from" in result.out
    assert length(redis_url, URGENT) == 4


def test_dry_run_reports_and_deletes_nothing(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 5))

    result = run_cli("trim", VPIN, "--max-len", "2", "--dry-run")

    assert "would delete 3 entries" in result.out
    assert "no consumer group reads it" in result.out
    assert length(redis_url, URGENT) == 5


def test_a_lane_within_its_bounds_is_left_alone(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 2))

    result = run_cli("trim", VPIN, "--max-len", "10")

    assert "deleted 0 entries (within its bounds)" in result.out
    assert length(redis_url, URGENT) == 2


def test_trim_needs_a_bound(redis_url: str, run_cli: RunCli) -> None:
    result = run_cli("trim", VPIN)

    assert result.status == 2
    assert "--max-len N and/or --max-age-ms MS" in result.err


HOUR_MS = 3_600_000


def test_trim_by_age_deletes_only_older_entries(redis_url: str, run_cli: RunCli) -> None:
    two_hours_ago_ms = time.time_ns() // 1_000_000 - 2 * HOUR_MS
    with raw_connection(redis_url) as server:
        for ms in range(two_hours_ago_ms, two_hours_ago_ms + 3):
            xadd_raw(server, MARKETDATA, [(b"v", b"1")], entry_id=f"{ms}-0")
        recent = xadd_raw(server, MARKETDATA, [(b"v", b"1")])

        result = run_cli("trim", MARKETDATA, "--max-age-ms", str(HOUR_MS))

        assert result.status == 0, result.err
        assert f"bulk lane {MARKETDATA}: deleted 3 entries below " in result.out
        assert [entry_id for entry_id, _ in xrange_raw(server, MARKETDATA)] == [recent]
