"""`RunSettings`: the few values that define a run of the twelve engines, live or backtest.

A run is reproducible from these values alone: the market (a named synthetic scenario and its
seed, or a CSV file), where market time starts, how long the run lasts and how fast the market is
replayed. Every engine process of a live run gets the same settings on its command line, and each
engine derives its own parameters from them (see each `engines/<engine>/service.py`), so live and
backtest runs of the same settings compute the same things.

Market length: a synthetic scenario lasts `duration_s * speed` market seconds, so a live run of
`duration_s` wall seconds replays the whole scenario, its flash crash a third of the way in; a
backtest of the same settings replays the same market as fast as it can.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nautilus.engines.marketdata import (
    SCENARIOS,
    CsvReplay,
    InstrumentSpec,
    MarketEvent,
    SyntheticMarket,
    SyntheticMarketConfig,
    scenario,
)

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SPEED",
    "DEFAULT_START_NS",
    "NS_PER_SECOND",
    "RunSettings",
    "expected_volume_per_tick",
]

NS_PER_SECOND = 1_000_000_000
#: 2026-01-01T00:00:00Z: a fixed start of market time, so two runs of a scenario are identical.
DEFAULT_START_NS = 1_767_225_600 * NS_PER_SECOND
DEFAULT_SEED = 7
#: Market seconds per wall second: 30 s of wall time replay a 10-minute scenario.
DEFAULT_SPEED = 20.0


def expected_volume_per_tick(spec: InstrumentSpec) -> float:
    """Mean traded volume per tick of a synthetic instrument (lognormal sizes, Poisson count)."""
    mean_size = spec.median_trade_size * math.exp(spec.trade_size_sigma**2 / 2)
    return mean_size * spec.trades_per_tick


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What to replay and how fast; validated at construction."""

    scenario: str = "flash-crash"
    seed: int = DEFAULT_SEED
    #: Wall-clock length of a live run; with `speed`, the length of a synthetic market.
    duration_s: float = 30.0
    #: Market seconds replayed per wall second (live runs pace the market by it).
    speed: float = DEFAULT_SPEED
    #: Replay this CSV file (see `CsvReplay`) instead of the synthetic scenario.
    market_csv: str | None = None
    #: Market time of the synthetic scenario's start (ns since the Unix epoch).
    start_ns: int = DEFAULT_START_NS

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; choose {', '.join(SCENARIOS)}")
        if not self.duration_s > 0 or not self.speed > 0:
            raise ValueError("duration_s and speed must be > 0")
        if self.seed < 0 or self.start_ns < 0:
            raise ValueError("seed and start_ns must be >= 0")
        if self.market_csv is not None and not Path(self.market_csv).is_file():
            raise ValueError(f"market CSV {self.market_csv!r} is not a file")

    @property
    def market_duration_ns(self) -> int:
        """Length of the synthetic market: `duration_s * speed` market seconds."""
        return int(self.duration_s * self.speed * NS_PER_SECOND)

    @property
    def source_name(self) -> str:
        """`synthetic` or `csv` (for reports and progress lines)."""
        return "csv" if self.market_csv else "synthetic"

    def instruments(self) -> tuple[InstrumentSpec, ...]:
        """The synthetic market's instruments (empty for a CSV replay: known only from data)."""
        if self.market_csv:
            return ()
        return self._scenario_config().instruments

    def market(self) -> Iterable[MarketEvent]:
        """The market to replay: re-iterable, identical on every iteration."""
        if self.market_csv:
            return CsvReplay(self.market_csv)
        return SyntheticMarket(self._scenario_config())

    def market_start_ns(self) -> int:
        """Market time of the first event: the scenario's start, or the CSV's first row."""
        if not self.market_csv:
            return self.start_ns
        first = next(iter(CsvReplay(self.market_csv)), None)
        return self.start_ns if first is None else first[0]

    def market_length_ns(self) -> int | None:
        """How much market time the run covers (None for a CSV: as much as the file holds)."""
        return None if self.market_csv else self.market_duration_ns

    def crash_start_ns(self) -> int | None:
        """Market time at which the scripted flash crash starts (None without one)."""
        if self.market_csv:
            return None
        crash = self._scenario_config().flash_crash
        return None if crash is None else crash.start_ns

    def _scenario_config(self) -> SyntheticMarketConfig:
        return scenario(
            self.scenario, self.seed, self.start_ns, duration_ns=self.market_duration_ns
        )

    def to_argv(self) -> list[str]:
        """These settings as `--option value` arguments (what `from_argv` parses)."""
        argv = [
            "--scenario", self.scenario,
            "--seed", str(self.seed),
            "--duration", repr(self.duration_s),
            "--speed", repr(self.speed),
            "--start-ns", str(self.start_ns),
        ]  # fmt: skip
        if self.market_csv:
            argv += ["--market-csv", self.market_csv]
        return argv

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> RunSettings:
        """Parse what `to_argv` wrote (unknown options are an error)."""
        import argparse

        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--scenario", default="flash-crash")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--duration", type=float, default=30.0)
        parser.add_argument("--speed", type=float, default=DEFAULT_SPEED)
        parser.add_argument("--start-ns", type=int, default=DEFAULT_START_NS)
        parser.add_argument("--market-csv", default=None)
        args = parser.parse_args(list(argv))
        return cls(
            scenario=args.scenario,
            seed=args.seed,
            duration_s=args.duration,
            speed=args.speed,
            market_csv=args.market_csv,
            start_ns=args.start_ns,
        )
