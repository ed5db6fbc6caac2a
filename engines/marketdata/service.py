"""The MarketData engine on its generated client: replays a market onto the bus.

`replay` publishes a market's quotes and trades in time order, paced so that market time runs
`speed` times faster than the wall clock (a live run); a backtest instead calls `publish_market`
for each event itself, under its test clock. Publishing takes the typed `_nowait` fast path and
falls back to the awaiting publish, which waits for buffer room, only when the producer's buffer
is full: backpressure slows the replay down, it never drops a message.

The factor model's outputs are routed to every engine, MarketData included; they are consumed
for the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import Any

from nautilus.clients.marketdata import MarketDataClient
from nautilus.engines.marketdata.core import MarketEvent, MarketMessage
from nautilus.engines.service import EngineService
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime.errors import BackpressureError

__all__ = ["MarketDataService"]

_NS_PER_S = 1_000_000_000


class MarketDataService(EngineService[MarketDataClient]):
    """Publishes quotes and trades; `replay` paces a whole market."""

    ENGINE = "marketdata"

    def wire(self) -> None:
        client = self.client
        self.publishes(Quote, client.publish_quote)
        self.publishes(Trade, client.publish_trade)
        self._quote_type = Quote.DESCRIPTOR.full_name
        self._trade_type = Trade.DESCRIPTOR.full_name
        self.events = 0
        self.replay_state = "waiting"
        client.on_factor_covariance(self.record())
        client.on_factor_exposures(self.record())
        client.on_factor_returns(self.record())

    async def publish_market(self, message: MarketMessage) -> None:
        """Publish one quote or trade (waiting for buffer room only when the buffer is full)."""
        try:
            if isinstance(message, Quote):
                self.client.publish_quote_nowait(message, key=message.instrument_id)
                self.tally.published[self._quote_type] += 1
            else:
                self.client.publish_trade_nowait(message, key=message.instrument_id)
                self.tally.published[self._trade_type] += 1
        except BackpressureError:
            await self.publish_all([message])
        self.events += 1
        self.market_clock.advance(message.ts_event)

    async def replay(
        self, market: Iterable[MarketEvent], speed: float, stop: asyncio.Event | None = None
    ) -> None:
        """Publish `market` paced at `speed` market seconds per wall second, until it ends or
        `stop` is set (closing the client writes what is still buffered)."""
        stop = stop or asyncio.Event()
        self.replay_state = "running"
        started = time.monotonic()
        first_ns: int | None = None
        instant: int | None = None
        for ts_ns, message in market:
            if ts_ns != instant:
                first_ns = ts_ns if first_ns is None else first_ns
                delay = started + (ts_ns - first_ns) / _NS_PER_S / speed - time.monotonic()
                # Wait for the instant's wall time (or the stop), and yield at every instant
                # even when late, so the flushers write while the replay runs.
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                else:
                    await asyncio.sleep(0)
                if stop.is_set():
                    break
                instant = ts_ns
            await self.publish_market(message)
        self.replay_state = "stopped" if stop.is_set() else "done"

    def facts(self) -> dict[str, Any]:
        return {"events": self.events, "replay": self.replay_state}
