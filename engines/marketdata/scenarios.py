"""Named market scenarios for demos and backtests: `calm` and `flash-crash`.

A scenario is a `SyntheticMarketConfig` built from a name and a seed, so a whole run can be
reproduced from two values on a command line.
"""

from __future__ import annotations

from nautilus.engines.marketdata.synthetic import (
    FlashCrashScript,
    InstrumentSpec,
    SyntheticMarketConfig,
)

__all__ = ["SCENARIOS", "scenario"]

#: Scenario names accepted by `scenario`.
SCENARIOS = ("calm", "flash-crash")

_SECOND = 1_000_000_000
_INSTRUMENTS = (
    InstrumentSpec("BTCUSDT.BINANCE", 64_250.0, annual_vol=0.55, spread_bps=1.0),
    InstrumentSpec("ETHUSDT.BINANCE", 3_150.0, annual_vol=0.70, spread_bps=1.5),
    InstrumentSpec(
        "SOLUSDT.BINANCE", 142.0, annual_vol=0.90, spread_bps=3.0, median_trade_size=2.0
    ),
)


def scenario(
    name: str,
    seed: int,
    start_ns: int,
    tick_ns: int = _SECOND // 10,
    duration_ns: int = 600 * _SECOND,
) -> SyntheticMarketConfig:
    """The named scenario over `duration_ns` from `start_ns`.

    `flash-crash`: BTCUSDT.BINANCE falls 7% over 30 s starting a third into the run, then
    recovers half of the fall over 60 s; the other instruments stay calm.
    """
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    if duration_ns <= 0 or tick_ns <= 0:
        raise ValueError("duration_ns and tick_ns must be > 0")
    crash = None
    if name == "flash-crash":
        crash = FlashCrashScript(
            instrument_id="BTCUSDT.BINANCE",
            start_ns=start_ns + duration_ns // 3,
            fall_fraction=0.07,
            fall_ns=30 * _SECOND,
            recovery_fraction=0.5,
            recovery_ns=60 * _SECOND,
        )
    return SyntheticMarketConfig(
        seed=seed,
        instruments=_INSTRUMENTS,
        start_ns=start_ns,
        tick_ns=tick_ns,
        tick_count=duration_ns // tick_ns,
        flash_crash=crash,
    )
