"""Replay of recorded quotes and trades from a CSV file.

Format: a header line, then one message per line, in non-decreasing time order::

    ts_event_ns,kind,instrument_id,bid,ask,bid_size,ask_size,price,size,side
    1764028800000000000,quote,BTCUSDT.BINANCE,64250.10,64250.20,1.5,2.0,,,
    1764028800100000000,trade,BTCUSDT.BINANCE,,,,,64250.20,0.25,BUY

- `ts_event_ns`: integer nanoseconds since the Unix epoch;
- `kind`: `quote` (needs bid, ask, bid_size, ask_size) or `trade` (needs price, size; `side` is
  `BUY`, `SELL` or empty for unknown);
- prices and sizes are decimals with at most nine decimal places, converted exactly to `_e9`;
- columns that do not apply to the kind are left empty.

Trades get `trade_id` `<file stem>-<line number>`, unique within the file. Any bad row raises
`CsvReplayError` naming the file and the 1-based line number; nothing is skipped silently.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from nautilus.common.v1 import common_pb2
from nautilus.engines.fixed_point import E9, decimal_to_e9
from nautilus.engines.marketdata.core import MarketEvent
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

__all__ = ["CSV_COLUMNS", "CsvReplay", "CsvReplayError"]

#: The header a replay file must start with, in this order.
CSV_COLUMNS = (
    "ts_event_ns", "kind", "instrument_id", "bid", "ask", "bid_size", "ask_size", "price",
    "size", "side",
)  # fmt: skip

_SIDES = {
    "BUY": common_pb2.ORDER_SIDE_BUY,
    "SELL": common_pb2.ORDER_SIDE_SELL,
    "": common_pb2.ORDER_SIDE_UNSPECIFIED,
}


class CsvReplayError(ValueError):
    """A replay file has a bad line; `line` is 1-based (the header is line 1)."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


class CsvReplay:
    """Iterates `(ts_ns, Quote | Trade)` from a CSV file; re-iterable (re-reads the file).

    `latency_ns` is added to `ts_event` to give `ts_init`.
    """

    def __init__(self, path: Path | str, latency_ns: int = 0) -> None:
        if latency_ns < 0:
            raise ValueError("latency_ns must be >= 0")
        self.path = Path(path)
        self.latency_ns = latency_ns

    def __iter__(self) -> Iterator[MarketEvent]:
        with self.path.open(newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(column.strip() for column in header) != CSV_COLUMNS:
                raise CsvReplayError(self.path, 1, f"header must be {','.join(CSV_COLUMNS)}")
            previous_ts = -1
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                message = self._parse(row, line)
                if message.ts_event < previous_ts:
                    raise CsvReplayError(
                        self.path, line, f"ts_event_ns {message.ts_event} goes back in time"
                    )
                previous_ts = message.ts_event
                yield message.ts_event, message

    def _parse(self, row: list[str], line: int) -> Quote | Trade:
        if len(row) != len(CSV_COLUMNS):
            raise CsvReplayError(
                self.path, line, f"expected {len(CSV_COLUMNS)} columns, got {len(row)}"
            )
        cells = dict(zip(CSV_COLUMNS, (cell.strip() for cell in row), strict=True))
        ts = self._timestamp(cells["ts_event_ns"], line)
        instrument_id = cells["instrument_id"]
        if "." not in instrument_id.strip("."):
            raise CsvReplayError(
                self.path, line, f"instrument_id {instrument_id!r} is not SYMBOL.VENUE"
            )
        kind = cells["kind"].lower()
        if kind == "quote":
            return self._quote(cells, instrument_id, ts, line)
        if kind == "trade":
            return self._trade(cells, instrument_id, ts, line)
        raise CsvReplayError(self.path, line, f"kind must be quote or trade, got {cells['kind']!r}")

    def _quote(self, cells: dict[str, str], instrument_id: str, ts: int, line: int) -> Quote:
        bid = self._positive(cells, "bid", line)
        ask = self._positive(cells, "ask", line)
        if bid >= ask:
            raise CsvReplayError(self.path, line, "crossed or locked quote: bid >= ask")
        return Quote(
            instrument_id=instrument_id,
            bid_price_e9=bid,
            ask_price_e9=ask,
            bid_size_e9=self._positive(cells, "bid_size", line, allow_zero=True),
            ask_size_e9=self._positive(cells, "ask_size", line, allow_zero=True),
            ts_event=ts,
            ts_init=ts + self.latency_ns,
        )

    def _trade(self, cells: dict[str, str], instrument_id: str, ts: int, line: int) -> Trade:
        side = cells["side"].upper()
        if side not in _SIDES:
            raise CsvReplayError(self.path, line, f"side must be BUY, SELL or empty, got {side!r}")
        return Trade(
            instrument_id=instrument_id,
            price_e9=self._positive(cells, "price", line),
            size_e9=self._positive(cells, "size", line),
            aggressor_side=_SIDES[side],
            trade_id=f"{self.path.stem}-{line}",
            ts_event=ts,
            ts_init=ts + self.latency_ns,
        )

    def _timestamp(self, text: str, line: int) -> int:
        if not text.isdigit():
            raise CsvReplayError(self.path, line, f"ts_event_ns must be an integer, got {text!r}")
        return int(text)

    def _positive(
        self, cells: dict[str, str], column: str, line: int, allow_zero: bool = False
    ) -> int:
        text = cells[column]
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise CsvReplayError(
                self.path, line, f"{column} must be a decimal, got {text!r}"
            ) from None
        if not value.is_finite() or (value * E9) != (value * E9).to_integral_value():
            raise CsvReplayError(self.path, line, f"{column} {text!r} has more than 9 decimals")
        if value < 0 or (value == 0 and not allow_zero):
            raise CsvReplayError(self.path, line, f"{column} must be positive, got {text!r}")
        return decimal_to_e9(value)
