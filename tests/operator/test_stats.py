"""`nautilus stats`: the numbers match the traffic that was published and consumed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .conftest import MARKETDATA, VPIN, RunCli, consume_once, publish_alerts, publish_quotes

URGENT = "{" + VPIN + "}:urgent"
INTERVAL_S = 0.25


def fail(delivery: object) -> None:
    raise RuntimeError("handler bug")


def stats_json(run_cli: RunCli, *streams: str) -> dict[str, Any]:
    result = run_cli("stats", *streams, "--json", "--interval", "0")
    assert result.status == 0, result.err
    return json.loads(result.out)


def group(document: dict[str, Any], lane_key: str, name: str) -> dict[str, Any]:
    (stream,) = document["streams"]
    (lane,) = [lane for lane in stream["lanes"] if lane["key"] == lane_key]
    (found,) = [g for g in lane["groups"] if g["name"] == name]
    return found


def test_pending_and_lag_match_what_a_group_consumed(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 5))
    asyncio.run(consume_once(redis_url, "risk", read_count=2, handler=fail))
    asyncio.run(consume_once(redis_url, "analytics", handler=lambda d: None))

    document = stats_json(run_cli, VPIN)

    risk, analytics = group(document, URGENT, "risk"), group(document, URGENT, "analytics")
    assert (risk["pending"], risk["lag"], risk["entries_read"]) == (2, 3, 2)
    assert (analytics["pending"], analytics["lag"], analytics["entries_read"]) == (0, 0, 5)


def test_lane_lengths_are_reported_per_lane(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 3))

    (stream,) = stats_json(run_cli, VPIN)["streams"]

    assert {lane["lane"]: lane["length"] for lane in stream["lanes"]} == {"bulk": 0, "urgent": 3}


def test_consumers_are_listed_with_their_pending_entries(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 4))
    asyncio.run(consume_once(redis_url, "risk", read_count=3, handler=fail))

    risk = group(stats_json(run_cli, VPIN), URGENT, "risk")

    assert [(c["name"], c["pending"]) for c in risk["consumers"]] == [("risk-test", 3)]
    assert risk["consumers"][0]["idle_ms"] >= 0


def test_dead_letters_are_counted_per_stream_and_group(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 2))
    asyncio.run(consume_once(redis_url, "risk", handler=fail, max_deliveries=1))

    document = stats_json(run_cli, VPIN)

    assert document["streams"][0]["dead_letters"] == 2
    assert group(document, URGENT, "risk")["dead_letters"] == 2


def test_entries_per_second_is_the_growth_of_each_lane_over_the_interval(
    redis_url: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three alerts (priority lane) and four quotes (bulk lane) are written inside the window.

    The window between the two samples is the command's one sleep of `--interval` seconds; the
    test makes that sleep publish instead of waiting, so the entries fall inside the window
    whatever the machine's speed, and the rate is exactly entries / interval.
    """
    asyncio.run(publish_alerts(redis_url, 2))  # before the window: not part of the rate
    real_sleep = asyncio.sleep
    windows: list[float] = []

    async def publish_inside_the_window(delay: float, *args: Any) -> Any:
        if delay != INTERVAL_S:
            return await real_sleep(delay, *args)
        windows.append(delay)
        await publish_alerts(redis_url, 3)
        await publish_quotes(redis_url, 4)
        return None

    monkeypatch.setattr(asyncio, "sleep", publish_inside_the_window)
    result = run_cli("stats", VPIN, MARKETDATA, "--json", "--interval", str(INTERVAL_S))
    monkeypatch.undo()

    assert result.status == 0, result.err
    assert windows == [INTERVAL_S]
    rates = {
        lane["key"]: lane["entries_per_second"]
        for stream in json.loads(result.out)["streams"]
        for lane in stream["lanes"]
    }
    assert rates == {
        VPIN: 0.0,
        URGENT: 3 / INTERVAL_S,
        MARKETDATA: 4 / INTERVAL_S,
        "{" + MARKETDATA + "}:urgent": 0.0,
    }


def test_without_an_interval_no_rate_is_reported(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 1))

    (stream,) = stats_json(run_cli, VPIN)["streams"]

    assert [lane["entries_per_second"] for lane in stream["lanes"]] == [None, None]


def test_table_shows_every_section_and_the_empty_streams(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 2))
    asyncio.run(consume_once(redis_url, "risk", read_count=1, handler=fail))

    out = run_cli("stats", "--interval", "0").out

    assert "nautilus-vpin-streams  urgent" in out
    assert "nautilus-vpin-streams  dead-letter" in out
    assert "risk-test" in out
    assert "no entries or groups yet: nautilus-analytics-streams" in out
