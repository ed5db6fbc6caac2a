"""The fan-out benchmark end to end at a tiny size: a real WebSocket engine process, client
processes, a private server; every client gets every alert, and the figures are filled in."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nautilus.bench.websocket_fanout import measure

pytestmark = pytest.mark.slow


def test_a_small_fanout_run_delivers_every_alert_to_every_client(redis_url: str) -> None:
    point = asyncio.run(measure(redis_url, 40, rate=20, seconds=2.5, client_processes=2))
    figures: dict[str, Any] = point.as_dict()

    assert figures["clients"] == 40
    assert figures["alerts_published"] >= 1
    assert figures["alerts_received_min"] == figures["alerts_published"]
    assert figures["alerts_received_max"] == figures["alerts_published"]
    assert figures["frames_delivered"] > 0
    assert figures["quote_p99_ms"] > 0
