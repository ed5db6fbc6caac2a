"""TLS on a real server: `rediss://` with a throwaway CA, the fast path included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from nautilus.contract import bus_message_classes
from nautilus.engines.throwaway_tls import throwaway_tls
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.server import EmbeddedServer, find_server_binary
from tests.engines_e2e.up_command import nautilus_up

ALERT = bus_message_classes()["nautilus.vpin.v1.ToxicityAlert"]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(tls=throwaway_tls(tmp_path / "tls"))
    try:
        server.start()
    except RuntimeError:
        server.close()
        pytest.skip(f"{find_server_binary()} has no TLS support")
    yield server
    server.close()


def test_the_server_refuses_plain_connections(tls_server: EmbeddedServer) -> None:
    plain = tls_server.url.split("?")[0].replace("rediss://", "redis://")
    with redis.Redis.from_url(plain, socket_timeout=2) as client, pytest.raises(redis.RedisError):
        client.ping()


async def test_messages_travel_over_tls_on_the_raw_connections(
    tls_server: EmbeddedServer,
) -> None:
    received: list[Any] = []

    async def on_alert(delivery: Delivery[Any]) -> None:
        received.append(delivery.message)

    def client(engine: str) -> UniversalMessageBusClient:
        config = MessageBusConfig(engine=engine, redis_url=tls_server.url, trim_interval_ms=0)
        return UniversalMessageBusClient(config)

    vpin, risk = client("vpin"), client("risk")
    risk.subscribe(ALERT, on_alert)
    await vpin.start(consume=False)
    await risk.start(consume=False)
    try:
        for i in range(50):
            await vpin.publish(ALERT(instrument_id=f"I-{i}"))
        await vpin.flush(10)
        await risk.drain()
        # The batches and the reads went over the transport's own hiredis connections.
        assert vpin.transport._seed.idle  # type: ignore[attr-defined]
        assert risk.transport._seed.idle  # type: ignore[attr-defined]
    finally:
        await vpin.close()
        await risk.close()
    assert [m.instrument_id for m in received] == [f"I-{i}" for i in range(50)]


@pytest.mark.slow
def test_nautilus_up_tls_runs_every_engine_over_tls_as_its_own_user(tmp_path: Path) -> None:
    probe = EmbeddedServer(tls=throwaway_tls(tmp_path / "probe"))
    try:
        probe.start()
    except RuntimeError:
        pytest.skip(f"{probe.binary} has no TLS support")
    finally:
        probe.close()
    report = tmp_path / "report.json"
    result = nautilus_up(
        tmp_path, "--tls", "--scenario", "flash-crash", "--speed", "40", "--duration", "4",
        "--ports", "auto", "--quiet", "--report", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads(report.read_text())
    assert run["run"]["tls"] is True
    assert run["run"]["identities"] == "per-engine"
    assert run["acl_log"] == []
    assert run["run"]["missing_summaries"] == []
    assert run["latency_ms"]["alert_propagation_floor"]["count"] > 0  # the probe too, over TLS
    assert not (tmp_path / ".nautilus" / "credentials" / "tls").exists()
