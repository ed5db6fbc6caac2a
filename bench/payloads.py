"""The messages every scenario sends: realistic quotes, built before any clock starts.

Baselines and the bus send the same bytes: the baselines get the bus's own wire entries
(`wire_entries`), pre-encoded, so the comparison is the cost of getting the same data into Redis,
not of writing less of it.
"""

from __future__ import annotations

import time

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import message_spec
from nautilus.runtime.wire import EncodedEntry, encode_entry

__all__ = ["BULK_STREAM", "POOL_SIZE", "quotes", "wire_entries"]

#: The stream the bulk scenarios write: the MarketData engine's (quotes).
BULK_STREAM = "nautilus-marketdata-streams"
#: Distinct messages cycled through by every scenario.
POOL_SIZE = 1024

_INSTRUMENTS = ("BTCUSDT.BINANCE", "ETHUSDT.BINANCE", "SOLUSDT.BINANCE", "AAPL.XNAS")
_TS_BASE = 1_764_028_800_000_000_000


def quotes(count: int = POOL_SIZE) -> list[Quote]:
    """`count` distinct quotes with every field set, as the MarketData engine publishes them."""
    result = []
    for i in range(count):
        bid = 64_250_125_000_000 + 1_000_000 * (i % 977)
        result.append(
            Quote(
                instrument_id=_INSTRUMENTS[i % len(_INSTRUMENTS)],
                bid_price_e9=bid,
                ask_price_e9=bid + 125_000_000,
                bid_size_e9=1_500_000_000 + i,
                ask_size_e9=2_000_000_000 + i,
                ts_event=_TS_BASE + 1_000 * i,
                ts_init=_TS_BASE + 1_000 * i + 250,
            )
        )
    return result


def wire_entries(messages: list[Quote], *, instance: bytes | None = None) -> list[EncodedEntry]:
    """The wire-format entries the MarketData engine writes for `messages` (pre-encoded); with
    `instance`, also the producer instance and per-lane sequence its client adds (9 fields)."""
    spec = message_spec(Quote)
    now = time.time_ns()
    return [
        encode_entry(
            spec.type_bytes,
            spec.fingerprint_bytes,
            message.SerializeToString(),
            producer=b"marketdata",
            published_at_ns=now + i,
            priority=MessagePriority.NORMAL,
            instance=instance,
            sequence=i + 1,
        )
        for i, message in enumerate(messages)
    ]
