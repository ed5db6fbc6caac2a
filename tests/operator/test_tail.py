"""`nautilus tail`: decoded entries, a group's backlog, entries of any registered schema version."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
import redis
from google.protobuf import message_factory

from nautilus.codegen.compile import compile_descriptor_set
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import message_spec
from nautilus.runtime.schema import fingerprint, message_descriptor
from nautilus.runtime.wire import encode_entry
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import toxicity_alert
from tests.schema_edits import add_field

from .conftest import (
    MARKETDATA,
    VPIN,
    RunCli,
    consume_once,
    make_client,
    publish_alerts,
    publish_quotes,
)

SCHEMAS = Path(__file__).parents[2] / "schemas"


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_tail_prints_the_last_entries_decoded(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 5))

    result = run_cli("tail", VPIN, "--count", "2", "--json")

    entries = json_lines(result.out)
    assert result.status == 0
    assert [e["message"]["bucketIndex"] for e in entries] == ["4", "5"]
    assert entries[0]["type"] == "nautilus.vpin.v1.ToxicityAlert"
    assert (entries[0]["lane"], entries[0]["priority"], entries[0]["producer"]) == (
        "urgent",
        "URGENT",
        "vpin",
    )
    assert entries[0]["key"] == "AAPL.XNAS"
    assert entries[0]["schema"] == "contract"


def test_tail_text_shows_envelope_and_proto3_json(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_quotes(redis_url, 1))

    result = run_cli("tail", MARKETDATA)

    head, body = result.out.splitlines()
    assert "bulk  nautilus.marketdata.v1.Quote  producer=marketdata  published=" in head
    assert "priority=NORMAL" in head
    assert json.loads(body)["instrumentId"] == "AAPL.XNAS"


def test_tail_merges_both_lanes_in_id_order(redis_url: str, run_cli: RunCli) -> None:
    async def publish() -> None:
        async with make_client(redis_url, "vpin") as vpin:
            await vpin.publish(toxicity_alert(1), priority=MessagePriority.NORMAL)
            await vpin.flush()
            await vpin.publish(toxicity_alert(2))
            await vpin.flush()

    asyncio.run(publish())

    entries = json_lines(run_cli("tail", VPIN, "--json").out)

    assert [(e["lane"], e["message"]["bucketIndex"]) for e in entries] == [
        ("bulk", "1"),
        ("urgent", "2"),
    ]


def test_tail_of_a_priority_lane_key_reads_only_that_lane(redis_url: str, run_cli: RunCli) -> None:
    async def publish() -> None:
        async with make_client(redis_url, "vpin") as vpin:
            await vpin.publish(toxicity_alert(1), priority=MessagePriority.NORMAL)
            await vpin.publish(toxicity_alert(2))
            await vpin.flush()

    asyncio.run(publish())

    entries = json_lines(run_cli("tail", "{" + VPIN + "}:urgent", "--json").out)

    assert [e["lane"] for e in entries] == ["urgent"]


def test_tail_group_shows_pending_then_undelivered(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 5))
    asyncio.run(consume_once(redis_url, "risk", read_count=2, handler=fail))

    entries = json_lines(run_cli("tail", VPIN, "--group", "risk", "--json").out)

    assert [(e["state"], e["message"]["bucketIndex"]) for e in entries] == [
        ("pending", "1"),
        ("pending", "2"),
        ("undelivered", "3"),
        ("undelivered", "4"),
        ("undelivered", "5"),
    ]
    assert entries[0]["deliveries"] == 1


def test_tail_of_an_unknown_group_is_a_usage_error(redis_url: str, run_cli: RunCli) -> None:
    asyncio.run(publish_alerts(redis_url, 1))

    result = run_cli("tail", VPIN, "--group", "nobody")

    assert result.status == 2
    assert "group 'nobody' does not exist" in result.err


def fail(delivery: object) -> None:
    raise RuntimeError("handler bug")


def old_toxicity_alert_schema(tmp_path: Path) -> Path:
    """ToxicityAlert as another producer had it: with a `legacy_score` this contract lacks."""
    root = tmp_path / "old-schemas"
    shutil.copytree(SCHEMAS, root)
    add_field(
        root / "nautilus" / "vpin" / "v1" / "vpin.proto", "ToxicityAlert", "double legacy_score"
    )
    return root


def test_tail_decodes_an_entry_written_with_an_older_registered_schema(
    redis_url: str, run_cli: RunCli, tmp_path: Path
) -> None:
    old_root = old_toxicity_alert_schema(tmp_path)
    name = "nautilus.vpin.v1.ToxicityAlert"
    assert run_cli("schema", "register", name, "--from", str(old_root)).status == 0
    assert run_cli("schema", "register", name, "--mode", "none").status == 0
    old = message_descriptor(compile_descriptor_set(old_root), name)
    old_message = message_factory.GetMessageClass(old)(instrument_id="AAPL.XNAS", legacy_score=0.5)
    with redis.Redis.from_url(redis_url) as connection:
        fields = encode_entry(
            name.encode(),
            fingerprint(old).encode(),
            old_message.SerializeToString(),
            producer=b"vpin",
            published_at_ns=1_764_077_400_000_000_000,
            priority=MessagePriority.URGENT,
        )
        connection.xadd("{" + VPIN + "}:urgent", dict(zip(fields[::2], fields[1::2], strict=True)))

    (entry,) = json_lines(run_cli("tail", VPIN, "--json").out)

    assert entry["schema"] == "registry"
    assert entry["fingerprint"] == fingerprint(old) != message_spec(ToxicityAlert).fingerprint
    assert entry["message"] == {"instrumentId": "AAPL.XNAS", "legacyScore": 0.5}
    assert entry["published_at"] == "2025-11-25T13:30:00.000000000Z"


def test_tail_follow_prints_entries_published_after_it_started(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from nautilus.cli.main import main

    statuses: list[int] = []
    argv = ["tail", VPIN, "--follow", "--count", "0", "--max-entries", "1", "--json"]
    argv += ["--redis-url", redis_url]
    # A daemon thread: should the follower never stop, the test fails and the run still ends.
    follower = threading.Thread(target=lambda: statuses.append(main(argv)), daemon=True)
    capsys.readouterr()
    follower.start()
    deadline = time.monotonic() + 30
    while follower.is_alive():  # publish until the follower has seen one
        assert time.monotonic() < deadline, "tail --follow printed nothing within 30 s"
        asyncio.run(publish_alerts(redis_url, 1))
        follower.join(0.05)

    out = capsys.readouterr().out
    assert statuses == [0]
    assert len(json_lines(out)) == 1
