"""Operator-tool fixtures: real traffic on the session server, and the CLI run in-process.

Every command gets its server through `--redis-url` here, and the environment's REDIS_URL is
removed, so a test never reads a server (or a `.nautilus/server.url`) it did not choose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message

from nautilus.cli.main import main
from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.resolver import TypeResolver
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import quote, toxicity_alert

__all__ = [
    "CliResult",
    "RunCli",
    "consume_once",
    "make_client",
    "publish_alerts",
    "publish_quotes",
]

VPIN = "nautilus-vpin-streams"
MARKETDATA = "nautilus-marketdata-streams"


@dataclass(frozen=True)
class CliResult:
    status: int
    out: str
    err: str


RunCli = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def no_ambient_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No REDIS_URL and a working directory without `.nautilus/server.url`."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], redis_url: str) -> RunCli:
    """`nautilus ARGS... --redis-url <session server>`, with its exit status and output."""

    def run(*argv: str, server: str | None = redis_url) -> CliResult:
        args = [*argv, "--redis-url", server] if server is not None else list(argv)
        capsys.readouterr()
        status = main(args)
        out, err = capsys.readouterr()
        return CliResult(status, out, err)

    return run


def make_client(
    redis_url: str,
    engine: str,
    *,
    publishes: tuple[type[Message], ...] | None = None,
    resolver: TypeResolver | None = None,
    **overrides: Any,
) -> UniversalMessageBusClient:
    """A client for `engine` with test-friendly settings (no background trimming).

    `publishes=()` makes a producer that registers no schemas and declares no consumer groups, so
    a test's groups are exactly those it consumes with. `resolver` replaces the default one.
    """
    settings: dict[str, Any] = {
        "engine": engine,
        "redis_url": redis_url,
        "consumer_name": f"{engine}-test",
        "trim_interval_ms": 0,
        "read_block_ms": 20,
        "reclaim_idle_ms": 60_000,
    }
    settings.update(overrides)
    return UniversalMessageBusClient(
        MessageBusConfig(**settings), resolver=resolver, publishes=publishes
    )


async def publish_alerts(redis_url: str, count: int) -> None:
    """ToxicityAlerts of buckets 1..`count` from VPIN (URGENT: the priority lane), written."""
    async with make_client(redis_url, "vpin", publishes=()) as vpin:
        for bucket in range(1, count + 1):
            await vpin.publish(toxicity_alert(bucket), key="AAPL.XNAS")
        await vpin.flush()


async def publish_quotes(redis_url: str, count: int) -> None:
    """`count` Quotes from MarketData (NORMAL: the bulk lane), written before returning."""
    async with make_client(redis_url, "marketdata", publishes=()) as marketdata:
        for seq in range(count):
            await marketdata.publish(quote(seq))
        await marketdata.flush()


async def consume_once(
    redis_url: str,
    engine: str,
    *,
    handler: Callable[[Any], Any],
    message_class: type[Message] = ToxicityAlert,
    **overrides: Any,
) -> UniversalMessageBusClient:
    """One poll by `engine`'s group of `message_class`'s stream with `handler`; client closed."""
    client = make_client(redis_url, engine, **overrides)
    client.subscribe(message_class, handler)
    await client.start(consume=False)
    await client.poll()
    await client.close()
    return client
