"""A seeded synthetic market: quotes and trades from a geometric random walk, with an optional
scripted flash crash.

Guarantees: the same config (seed included) yields the identical sequence of messages, byte for
byte; nothing reads a clock or global random state. Per instrument and tick the generator

1. moves the "efficient" log price by a Gaussian step (volatility per instrument, scaled to the
   tick length), plus the crash script's deterministic path when a crash is configured;
2. publishes a Quote around the new mid, with the spread widened while the crash is running;
3. prints a Poisson number of trades, each a lognormal size, the aggressor side drawn with a buy
   probability that follows the price move (Phi of the standardised step), so up-moves come with
   buying and down-moves with selling; during the crash's falling leg the flow is strongly
   one-sided (`crash_sell_probability`) and volume surges.

The crash path is multiplicative and exact: at the bottom the scripted component has taken the
price down by `fall_fraction`, then it recovers `recovery_fraction` of the fall linearly; the
random walk adds its small noise on top.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from nautilus.common.v1 import common_pb2
from nautilus.engines.fixed_point import E9, to_e9
from nautilus.engines.marketdata.core import MarketEvent
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

__all__ = ["FlashCrashScript", "InstrumentSpec", "SyntheticMarket", "SyntheticMarketConfig"]

_NS_PER_YEAR = 365 * 24 * 3600 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """One simulated instrument.

    `annual_vol` is the volatility of log returns per year (0.6 is 60%); `spread_bps` the quoted
    spread in calm conditions; trade sizes are lognormal with median `median_trade_size` and log
    standard deviation `trade_size_sigma`; `trades_per_tick` is the Poisson mean; quoted sizes
    are uniform around `mean_quote_size`; `price_decimals` rounds every price to the venue tick.
    """

    instrument_id: str
    initial_price: float
    annual_vol: float = 0.6
    spread_bps: float = 2.0
    median_trade_size: float = 0.05
    trade_size_sigma: float = 0.8
    trades_per_tick: float = 1.5
    mean_quote_size: float = 2.0
    price_decimals: int = 2

    def __post_init__(self) -> None:
        if "." not in self.instrument_id.strip("."):
            raise ValueError(f"instrument_id {self.instrument_id!r} is not SYMBOL.VENUE")
        if not self.initial_price > 0:
            raise ValueError(f"{self.instrument_id}: initial_price must be > 0")
        if self.annual_vol < 0 or self.spread_bps <= 0:
            raise ValueError(f"{self.instrument_id}: annual_vol >= 0 and spread_bps > 0 required")
        if self.median_trade_size <= 0 or self.trade_size_sigma < 0 or self.mean_quote_size <= 0:
            raise ValueError(f"{self.instrument_id}: sizes must be positive")
        if self.trades_per_tick < 0 or not 0 <= self.price_decimals <= 9:
            raise ValueError(f"{self.instrument_id}: trades_per_tick >= 0, price_decimals 0..9")


@dataclass(frozen=True, slots=True)
class FlashCrashScript:
    """A scripted crash of one instrument.

    From `start_ns` the price falls by `fall_fraction` (0.07 is 7%) over `fall_ns`, then recovers
    `recovery_fraction` of the fall over `recovery_ns`, and stays there. While falling, spreads
    widen up to `spread_multiplier` x, trade arrival is `volume_multiplier` x and aggressors sell
    with probability `crash_sell_probability`.
    """

    instrument_id: str
    start_ns: int
    fall_fraction: float = 0.07
    fall_ns: int = 30_000_000_000
    recovery_fraction: float = 0.5
    recovery_ns: int = 60_000_000_000
    spread_multiplier: float = 8.0
    volume_multiplier: float = 4.0
    crash_sell_probability: float = 0.9

    def __post_init__(self) -> None:
        if not 0 < self.fall_fraction < 1:
            raise ValueError("fall_fraction must be in (0, 1)")
        if not 0 <= self.recovery_fraction <= 1:
            raise ValueError("recovery_fraction must be in [0, 1]")
        if self.fall_ns <= 0 or self.recovery_ns <= 0:
            raise ValueError("fall_ns and recovery_ns must be > 0")
        if self.spread_multiplier < 1 or self.volume_multiplier < 1:
            raise ValueError("spread_multiplier and volume_multiplier must be >= 1")
        if not 0.5 <= self.crash_sell_probability <= 1:
            raise ValueError("crash_sell_probability must be in [0.5, 1]")

    def log_offset(self, ts_ns: int) -> float:
        """The crash's contribution to the log price at `ts_ns` (0 outside the script)."""
        bottom = math.log(1.0 - self.fall_fraction)
        elapsed = ts_ns - self.start_ns
        if elapsed <= 0:
            return 0.0
        if elapsed < self.fall_ns:
            return bottom * elapsed / self.fall_ns
        end = math.log(1.0 - self.fall_fraction * (1.0 - self.recovery_fraction))
        progress = min(1.0, (elapsed - self.fall_ns) / self.recovery_ns)
        return bottom + (end - bottom) * progress

    def intensity(self, ts_ns: int) -> float:
        """How stressed the market is at `ts_ns`: 1 while falling, decaying to 0 over the
        recovery, 0 otherwise."""
        elapsed = ts_ns - self.start_ns
        if elapsed < 0 or elapsed >= self.fall_ns + self.recovery_ns:
            return 0.0
        if elapsed < self.fall_ns:
            return 1.0
        return 1.0 - (elapsed - self.fall_ns) / self.recovery_ns

    def is_falling(self, ts_ns: int) -> bool:
        """True during the falling leg."""
        return 0 <= ts_ns - self.start_ns < self.fall_ns


@dataclass(frozen=True, slots=True)
class SyntheticMarketConfig:
    """A complete, reproducible market: seed, instruments, clock grid and optional crash.

    Ticks are at `start_ns + k * tick_ns` for k = 1 .. `tick_count` (None: endless).
    `latency_ns` is added to `ts_event` to give `ts_init` (the simulated feed latency).
    """

    seed: int
    instruments: tuple[InstrumentSpec, ...]
    start_ns: int
    tick_ns: int = 100_000_000
    tick_count: int | None = 6_000
    latency_ns: int = 0
    flash_crash: FlashCrashScript | None = None

    def __post_init__(self) -> None:
        if not self.instruments:
            raise ValueError("at least one instrument is required")
        ids = [spec.instrument_id for spec in self.instruments]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate instrument ids in {ids}")
        if self.tick_ns <= 0 or self.start_ns < 0 or self.latency_ns < 0:
            raise ValueError("tick_ns must be > 0, start_ns and latency_ns >= 0")
        if self.tick_count is not None and self.tick_count < 0:
            raise ValueError("tick_count must be >= 0 or None")
        if self.flash_crash is not None and self.flash_crash.instrument_id not in ids:
            raise ValueError(f"flash crash instrument {self.flash_crash.instrument_id} unknown")


class _InstrumentState:
    __slots__ = ("last_crash_offset", "log_price", "spec", "step_sigma", "trades")

    def __init__(self, spec: InstrumentSpec, tick_ns: int) -> None:
        self.spec = spec
        self.log_price = math.log(spec.initial_price)
        self.step_sigma = spec.annual_vol * math.sqrt(tick_ns / _NS_PER_YEAR)
        self.last_crash_offset = 0.0
        self.trades = 0


class SyntheticMarket:
    """Iterates `(ts_ns, Quote | Trade)` for the configured market; re-iterable, and every
    iteration restarts from the seed and yields the same sequence."""

    def __init__(self, config: SyntheticMarketConfig) -> None:
        self.config = config

    def __iter__(self) -> Iterator[MarketEvent]:
        config = self.config
        rng = random.Random(config.seed)
        states = [_InstrumentState(spec, config.tick_ns) for spec in config.instruments]
        tick = 0
        while config.tick_count is None or tick < config.tick_count:
            tick += 1
            ts = config.start_ns + tick * config.tick_ns
            for state in states:
                yield from self._step(rng, state, ts)

    def _crash_for(self, instrument_id: str) -> FlashCrashScript | None:
        crash = self.config.flash_crash
        return crash if crash is not None and crash.instrument_id == instrument_id else None

    def _step(self, rng: random.Random, state: _InstrumentState, ts: int) -> Iterator[MarketEvent]:
        spec = state.spec
        crash = self._crash_for(spec.instrument_id)
        intensity = crash.intensity(ts) if crash is not None else 0.0
        random_step = state.step_sigma * (1.0 + 2.0 * intensity) * rng.gauss(0.0, 1.0)
        state.log_price += random_step
        crash_offset = crash.log_offset(ts) if crash is not None else 0.0
        move = random_step + crash_offset - state.last_crash_offset
        state.last_crash_offset = crash_offset
        mid = math.exp(state.log_price + crash_offset)

        spread_multiplier = 1.0 + (crash.spread_multiplier - 1.0) * intensity if crash else 1.0
        quote = self._quote(rng, spec, mid, spread_multiplier, ts)
        yield ts, quote

        falling = crash is not None and crash.is_falling(ts)
        rate = spec.trades_per_tick * (crash.volume_multiplier if falling and crash else 1.0)
        buy_probability = self._buy_probability(move, state.step_sigma)
        if falling and crash is not None:
            buy_probability = 1.0 - crash.crash_sell_probability
        for _ in range(_poisson(rng, rate)):
            yield ts, self._trade(rng, state, quote, buy_probability, ts)

    @staticmethod
    def _buy_probability(move: float, step_sigma: float) -> float:
        if step_sigma == 0:
            return 0.5
        z = move / step_sigma
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))

    def _quote(
        self, rng: random.Random, spec: InstrumentSpec, mid: float, widen: float, ts: int
    ) -> Quote:
        tick_size = 10.0**-spec.price_decimals
        half_spread = max(mid * spec.spread_bps * widen / 2e4, tick_size / 2)
        bid = round(mid - half_spread, spec.price_decimals)
        ask = round(mid + half_spread, spec.price_decimals)
        if ask <= bid:
            ask = round(bid + tick_size, spec.price_decimals)
        depth = spec.mean_quote_size / widen
        return Quote(
            instrument_id=spec.instrument_id,
            bid_price_e9=to_e9(bid),
            ask_price_e9=to_e9(ask),
            bid_size_e9=_size_e9(depth * rng.uniform(0.5, 1.5)),
            ask_size_e9=_size_e9(depth * rng.uniform(0.5, 1.5)),
            ts_event=ts,
            ts_init=ts + self.config.latency_ns,
        )

    def _trade(
        self,
        rng: random.Random,
        state: _InstrumentState,
        quote: Quote,
        buy_probability: float,
        ts: int,
    ) -> Trade:
        spec = state.spec
        is_buy = rng.random() < buy_probability
        size = rng.lognormvariate(math.log(spec.median_trade_size), spec.trade_size_sigma)
        state.trades += 1
        symbol = spec.instrument_id.split(".", 1)[0]
        return Trade(
            instrument_id=spec.instrument_id,
            price_e9=quote.ask_price_e9 if is_buy else quote.bid_price_e9,
            size_e9=_size_e9(size),
            aggressor_side=common_pb2.ORDER_SIDE_BUY if is_buy else common_pb2.ORDER_SIDE_SELL,
            trade_id=f"{symbol}-{state.trades}",
            ts_event=ts,
            ts_init=ts + self.config.latency_ns,
        )


def _size_e9(size: float) -> int:
    """Sizes on a 1e-6 lot grid, never zero."""
    lots = max(1, round(size * 1_000_000))
    return lots * (E9 // 1_000_000)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's Poisson sampler; exact and cheap for the small means used per tick."""
    if mean <= 0:
        return 0
    limit = math.exp(-mean)
    count = 0
    product = rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
