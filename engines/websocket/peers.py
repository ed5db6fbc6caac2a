"""The twelve engines' states for the dashboard, gathered from their own `/health` answers.

The WebSocket engine's process asks every engine's port once a second (the same answers
`nautilus up` shows in its table) and keeps one snapshot, which every browser then reads from
`/api/engines`: the engines are asked once per interval however many browsers watch, and not at
all while nobody has asked for the snapshot in the last few intervals. Rates are the change of
the `consumed` and `published` counters between two answers.

Ports: under `nautilus up` each engine writes its port to `<run-dir>/<engine>.ready.json` once it
serves (the only way to know it with `--ports auto`); without a run directory, the contract's
seed ports.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nautilus.engines.catalog import ENGINES, engine_port
from nautilus.engines.launcher import fetch_health

__all__ = ["PeerWatch", "engine_state"]

_INTERVAL_S = 1.0
#: How long an engine may take to answer before its row says "not answering".
_ANSWER_TIMEOUT_S = 5.0
#: Polling stops when nobody has read the snapshot for this many intervals.
_IDLE_INTERVALS = 5


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def engine_state(
    engine: str,
    port: int | None,
    health: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
    elapsed_s: float,
) -> dict[str, Any]:
    """One engine's row: status, counters, rates since the previous row, lag and errors."""
    if port is None:
        return {"engine": engine, "port": None, "status": "not started"}
    if health is None:
        return {"engine": engine, "port": port, "status": "not answering"}
    service = health.get("service", {})
    consumed = _int(service.get("consumed"))
    published = _int(service.get("published"))
    state: dict[str, Any] = {
        "engine": engine,
        "port": port,
        "status": str(health.get("status", "unknown")),
        "consumed": consumed,
        "published": published,
        "lag": sum(_int(lane.get("lag")) for lane in health.get("lanes", {}).values()),
        "errors": _int(service.get("handler_errors")),
        "consumed_per_s": None,
        "published_per_s": None,
    }
    if previous is not None and "consumed" in previous and elapsed_s > 0:
        state["consumed_per_s"] = max(0, consumed - previous["consumed"]) / elapsed_s
        state["published_per_s"] = max(0, published - previous["published"]) / elapsed_s
    return state


def _desk(healths: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """Totals the desk reads at a glance: alerts raised, orders sent, the account's PnL."""

    def service(engine: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = (healths.get(engine) or {}).get("service", {})
        return found

    return {
        "toxicity_alerts": _int(service("vpin").get("toxicity_alerts")),
        "flash_crash_warnings": _int(service("vpin").get("flash_crash_warnings")),
        "orders": _int(service("strategy").get("orders", {}).get("count")),
        "pnl": service("portfolio").get("pnl"),
        "market_time_ns": _int(service("marketdata").get("market_time_ns")),
    }


class PeerWatch:
    """Polls the engines' `/health` and keeps the latest snapshot (`snapshot()`)."""

    def __init__(
        self,
        run_dir: Path | None,
        own_port: Callable[[], int],
        *,
        interval_s: float = _INTERVAL_S,
    ) -> None:
        self._run_dir = run_dir
        self._own_port = own_port
        self._interval_s = interval_s
        self._rows: dict[str, dict[str, Any]] = {}
        self._desk: dict[str, Any] = {}
        self._taken_at = 0.0
        self._taken_at_ns = 0
        self._read_at = float("-inf")

    def port(self, engine: str) -> int | None:
        """Where `engine` serves, or None while it has not said (under `nautilus up`)."""
        if engine == "websocket":
            return self._own_port()
        if self._run_dir is None:
            return engine_port(engine)
        try:
            return int(json.loads((self._run_dir / f"{engine}.ready.json").read_text())["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    async def poll(self) -> None:
        """Ask every engine once and replace the snapshot."""
        ports = {engine: self.port(engine) for engine in ENGINES}
        answers = await asyncio.gather(*(self._ask(port) for port in ports.values()))
        healths = dict(zip(ports, answers, strict=True))
        now = time.monotonic()
        elapsed = now - self._taken_at if self._taken_at else 0.0
        self._rows = {
            engine: engine_state(engine, ports[engine], healths[engine], self._rows.get(engine),
                                 elapsed)
            for engine in ENGINES
        }  # fmt: skip
        self._desk = _desk(healths)
        self._taken_at = now
        self._taken_at_ns = time.time_ns()

    async def run(self) -> None:
        """Poll while someone reads the snapshot, until cancelled."""
        while True:
            if time.monotonic() - self._read_at < self._interval_s * _IDLE_INTERVALS:
                await self.poll()
            await asyncio.sleep(self._interval_s)

    def snapshot(self) -> dict[str, Any]:
        """The latest answers: one row per engine in data-flow order, and the desk's totals."""
        self._read_at = time.monotonic()
        return {
            "taken_at_ns": self._taken_at_ns,
            "engines": [self._rows[engine] for engine in ENGINES if engine in self._rows],
            "desk": self._desk,
        }

    @staticmethod
    async def _ask(port: int | None) -> dict[str, Any] | None:
        return None if port is None else await fetch_health(port, _ANSWER_TIMEOUT_S)
