"""What `nautilus up` shows while the engines run: a summary table, redrawn about once a second.

Everything in it comes from the engines' own `/health` answers (their consumer lanes' lag, and
the progress counters of `EngineService.health`), so the view costs the bus nothing and shows
exactly what an operator scraping the ports would see. On a terminal the table is redrawn in
place by rich's live display, fitted to the terminal's width; otherwise (a pipe, a CI log) one
progress line is printed every few seconds instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from nautilus.engines.run_settings import NS_PER_SECOND

__all__ = ["LiveView", "RunProgress", "engine_table", "render_progress_line"]

#: Seconds between two progress lines when the output is not a terminal.
_PLAIN_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class RunProgress:
    """Where the run is: market and wall time, and what the run has come to."""

    market_start_ns: int
    #: None when unknown (a CSV replay runs to the end of its file).
    market_length_ns: int | None
    wall_elapsed_s: float
    wall_duration_s: float
    phase: str


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _lag(health: Mapping[str, Any]) -> int:
    return sum(_int(lane.get("lag")) for lane in health.get("lanes", {}).values())


def _market_ns(healths: Mapping[str, Mapping[str, Any]]) -> int:
    return _int(healths.get("marketdata", {}).get("service", {}).get("market_time_ns"))


def engine_table(
    healths: Mapping[str, Mapping[str, Any] | None], ports: Mapping[str, int]
) -> Table:
    """One row per engine: port, messages consumed and published, consumer lag, errors, status.

    Drawn by rich, which fits the table to the terminal's width (cells are cut with an ellipsis
    rather than wrapped), so a redraw always covers exactly what the previous one drew.
    """
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("engine", no_wrap=True)
    for name in ("port", "consumed", "published", "lag", "errors"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True, overflow="ellipsis")
    for engine, health in healths.items():
        port = str(ports.get(engine, 0))
        if health is None:
            table.add_row(engine, port, "-", "-", "-", "-", "not answering")
            continue
        service = health.get("service", {})
        status = str(health.get("status", "?"))
        if engine == "marketdata":
            status += f", replay {service.get('replay', '?')}"
        table.add_row(
            engine,
            port,
            f"{_int(service.get('consumed')):,}",
            f"{_int(service.get('published')):,}",
            f"{_lag(health):,}",
            f"{_int(service.get('handler_errors')):,}",
            status,
        )
    return table


def _replicas_service(healths: Mapping[str, Mapping[str, Any]], engine: str) -> dict[str, int]:
    """The counters of `engine`'s processes (`vpin`, `vpin.2`, ... under replicas), added up."""
    total: dict[str, int] = {}
    for name, health in healths.items():
        if name == engine or name.startswith(engine + "."):
            for key, value in health.get("service", {}).items():
                if isinstance(value, int) and not isinstance(value, bool):
                    total[key] = total.get(key, 0) + value
    return total


def render_progress_line(
    healths: Mapping[str, Mapping[str, Any] | None], progress: RunProgress
) -> str:
    """Market and wall time, alerts, orders and PnL in one line."""
    known = {engine: health for engine, health in healths.items() if health is not None}
    reached = _market_ns(known)
    market_s = max(0, reached - progress.market_start_ns) / NS_PER_SECOND if reached else 0.0
    length = progress.market_length_ns
    of_length = "" if length is None else f" of {length / NS_PER_SECOND:,.0f} s"
    vpin = _replicas_service(known, "vpin")
    strategy = known.get("strategy", {}).get("service", {})
    pnl = known.get("portfolio", {}).get("service", {}).get("pnl")
    parts = [
        f"{progress.phase}: market +{market_s:,.1f} s{of_length}",
        f"wall {progress.wall_elapsed_s:,.1f} s of {progress.wall_duration_s:,.0f} s",
        f"alerts {_int(vpin.get('toxicity_alerts'))} toxicity, "
        f"{_int(vpin.get('flash_crash_warnings'))} flash crash",
        f"orders {_int(strategy.get('orders', {}).get('count'))}",
    ]
    if pnl:
        parts.append(f"PnL {pnl['total']:,.2f} {pnl['currency']}")
    unwell = sorted(
        f"{engine} ({'not answering' if health is None else health.get('status')})"
        for engine, health in healths.items()
        if health is None or health.get("status") != "ok"
    )
    if unwell:
        parts.append(f"unhealthy: {', '.join(unwell)}")
    return " | ".join(parts)


class LiveView:
    """Draws the table on a terminal (in place, with rich's live display) or progress lines
    elsewhere; quiet draws nothing."""

    def __init__(self, out: TextIO, *, quiet: bool = False) -> None:
        self._out = out
        self._quiet = quiet
        self._tty = out.isatty()
        self._console = Console(file=out, highlight=False)
        self._live: Live | None = None
        self._last_plain = float("-inf")

    def show(
        self,
        healths: Mapping[str, Mapping[str, Any] | None],
        ports: Mapping[str, int],
        progress: RunProgress,
    ) -> None:
        if self._quiet:
            return
        line = render_progress_line(healths, progress)
        if not self._tty:
            if progress.wall_elapsed_s - self._last_plain >= _PLAIN_EVERY_S:
                self._last_plain = progress.wall_elapsed_s
                print(line, file=self._out, flush=True)
            return
        view = Group(engine_table(healths, ports), Text(line, overflow="fold"))
        if self._live is None:
            self._live = Live(
                view,
                console=self._console,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        self._live.update(view, refresh=True)

    def message(self, text: str) -> None:
        """A line printed below the table (which is then left as it is), unless quiet."""
        self.close()
        if not self._quiet:
            print(text, file=self._out, flush=True)

    def close(self) -> None:
        """Leave the last table on the screen and give the terminal back (cursor shown)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
