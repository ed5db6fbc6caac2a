"""The vocabulary shared by every market-data source: what a source yields.

A source is an iterator of `(ts_ns, message)` pairs in non-decreasing `ts_ns` order, where
`ts_ns` is the market time of the message (its `ts_event`). The MarketData engine publishes the
messages in that order; a backtest replays them against a test clock set to `ts_ns`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

__all__ = ["MarketEvent", "MarketMessage", "MarketSource", "mid_price_e9"]

#: A message a market-data source produces.
MarketMessage: TypeAlias = Quote | Trade
#: One step of a source: market time in ns, and the message valid from then.
MarketEvent: TypeAlias = tuple[int, MarketMessage]
#: What `SyntheticMarket` and `CsvReplay` iterate as.
MarketSource: TypeAlias = Iterator[MarketEvent]


def mid_price_e9(quote: Quote) -> int:
    """The quote's mid price, fixed-point 1e9, rounded half up."""
    return (quote.bid_price_e9 + quote.ask_price_e9 + 1) // 2
