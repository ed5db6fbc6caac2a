"""MarketData engine core: sources of quotes and trades (synthetic and CSV replay).

Every source iterates `(ts_ns, Quote | Trade)` in time order; the engine's bus wiring publishes
them, a backtest replays them on a test clock.
"""

from nautilus.engines.marketdata.core import MarketEvent, MarketMessage, MarketSource, mid_price_e9
from nautilus.engines.marketdata.replay import CSV_COLUMNS, CsvReplay, CsvReplayError
from nautilus.engines.marketdata.scenarios import SCENARIOS, scenario
from nautilus.engines.marketdata.synthetic import (
    FlashCrashScript,
    InstrumentSpec,
    SyntheticMarket,
    SyntheticMarketConfig,
)

__all__ = [
    "CSV_COLUMNS",
    "SCENARIOS",
    "CsvReplay",
    "CsvReplayError",
    "FlashCrashScript",
    "InstrumentSpec",
    "MarketEvent",
    "MarketMessage",
    "MarketSource",
    "SyntheticMarket",
    "SyntheticMarketConfig",
    "mid_price_e9",
    "scenario",
]
