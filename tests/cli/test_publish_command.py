"""`nautilus publish`: one message by hand, with an engine's envelope, lane and producer."""

from __future__ import annotations

import asyncio
import json

from nautilus.contract import fingerprints
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

from .conftest import RunCli

VPIN = "nautilus-vpin-streams"
ALERT = '{"instrumentId": "AAPL.XNAS", "vpinCdf": 0.97, "bucketIndex": 7}'


async def _risk_receives(redis_url: str) -> list[Delivery[ToxicityAlert]]:
    config = MessageBusConfig(engine="risk", redis_url=redis_url, trim_interval_ms=0)
    risk = UniversalMessageBusClient(config)
    received: list[Delivery[ToxicityAlert]] = []
    risk.subscribe(ToxicityAlert, received.append)
    await risk.start(consume=False)
    await risk.poll()
    await risk.close()
    return received


def test_a_published_message_reaches_its_consumers_as_the_producers(
    cli: RunCli, redis_url: str
) -> None:
    published = cli(
        "publish", "ToxicityAlert", "--json", ALERT, "--as-engine", "vpin", "--key", "AAPL.XNAS",
        "--report-json", "--redis-url", redis_url,
    )  # fmt: skip
    tail = cli("tail", "{" + VPIN + "}:urgent", "--json", "--redis-url", redis_url)

    assert published.status == 0, published.err
    report = json.loads(published.out)
    assert report["lane_key"] == "{" + VPIN + "}:urgent"
    entry = json.loads(tail.out)
    assert entry["producer"] == "vpin"
    assert entry["fingerprint"] == fingerprints()["nautilus.vpin.v1.ToxicityAlert"]
    assert entry["key"] == "AAPL.XNAS"
    (delivery,) = asyncio.run(_risk_receives(redis_url))
    assert delivery.message.bucket_index == 7


def test_a_lower_priority_goes_to_the_bulk_lane(cli: RunCli, redis_url: str) -> None:
    published = cli(
        "publish", "ToxicityAlert", "--json", ALERT, "--as-engine", "vpin", "--priority", "LOW",
        "--report-json", "--redis-url", redis_url,
    )  # fmt: skip

    assert json.loads(published.out)["lane_key"] == VPIN


def test_publishing_as_another_engine_is_refused(cli: RunCli, redis_url: str) -> None:
    refused = cli(
        "publish", "ToxicityAlert", "--json", ALERT, "--as-engine", "risk", "--redis-url", redis_url
    )
    unnamed = cli("publish", "ToxicityAlert", "--json", ALERT, "--redis-url", redis_url)

    assert refused.status == 2
    assert "does not produce nautilus.vpin.v1.ToxicityAlert" in refused.err
    assert unnamed.status == 2
    assert "--as-engine vpin" in unnamed.err
    assert cli("tail", VPIN, "--redis-url", redis_url).out == ""


def test_json_that_is_not_the_type_is_one_line(cli: RunCli) -> None:
    result = cli("publish", "ToxicityAlert", "--json", '{"nope": 1}', "--as-engine", "vpin")

    assert result.status == 2
    assert len(result.err.splitlines()) == 1
    assert 'no field named "nope"' in result.err
