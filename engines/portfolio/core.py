"""Portfolio: paper fills, netted positions and PnL for one account.

Orders fill at once against the latest quote of their instrument: BUY at the ask, SELL at the
bid, for the full quantity (top-of-book depth is not modelled). LIMIT orders fill only when
marketable (buy limit >= ask, sell limit <= bid), at the quote, and are otherwise dropped: the
paper venue keeps no resting orders. `reduce_only` orders are cut to the open quantity, and
dropped when there is nothing to reduce. Commission is `commission_bps` of the fill notional,
deducted from realised PnL. Positions are marked at the mid.

Equity is `initial_balance + realised PnL (net) + unrealised PnL`. After each fill the
portfolio returns the `PositionUpdate`, the PnL narrowed to the strategy and instrument, and the
account PnL; on quotes it returns the account PnL when a held instrument's mark moved (at most
once per `mark_interval_ns` of market time).
"""

from __future__ import annotations

from dataclasses import dataclass

from nautilus.common.v1 import common_pb2
from nautilus.engines.fixed_point import mul_e9, to_e9
from nautilus.engines.portfolio.ledger import Position
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.portfolio.v1.portfolio_pb2 import PnlUpdate, PositionUpdate
from nautilus.strategy.v1 import strategy_pb2
from nautilus.strategy.v1.strategy_pb2 import OrderRequest

__all__ = ["NoQuoteError", "PaperPortfolio", "PortfolioConfig", "PortfolioOutput"]

PortfolioOutput = PositionUpdate | PnlUpdate


class NoQuoteError(LookupError):
    """An order arrived for an instrument that has no quote yet, so it cannot be filled."""

    def __init__(self, instrument_id: str, client_order_id: str) -> None:
        super().__init__(f"no quote for {instrument_id}; cannot fill order {client_order_id}")
        self.instrument_id = instrument_id
        self.client_order_id = client_order_id


@dataclass(frozen=True, slots=True)
class PortfolioConfig:
    """The account, its currency and starting cash, the commission rate and the mark-to-market
    publishing interval (0: on every quote of a held instrument)."""

    account_id: str = "BINANCE-001"
    currency: str = "USDT"
    initial_balance: float = 100_000.0
    commission_bps: float = 5.0
    mark_interval_ns: int = 0

    def __post_init__(self) -> None:
        if "-" not in self.account_id or not self.currency:
            raise ValueError("account_id must be ISSUER-NUMBER and currency non-empty")
        if self.initial_balance < 0 or not 0 <= self.commission_bps < 10_000:
            raise ValueError("need initial_balance >= 0 and 0 <= commission_bps < 10000")
        if self.mark_interval_ns < 0:
            raise ValueError("mark_interval_ns must be >= 0")


class PaperPortfolio:
    """Positions per (strategy, instrument), filled on paper at the current quotes."""

    def __init__(self, config: PortfolioConfig | None = None) -> None:
        self.config = config or PortfolioConfig()
        self._initial_e9 = to_e9(self.config.initial_balance)
        self._commission_rate_e9 = to_e9(self.config.commission_bps / 10_000)
        self._quotes: dict[str, Quote] = {}
        self._positions: dict[tuple[str, str], Position] = {}
        self._last_mark_ns: int | None = None

    def position(self, strategy_id: str, instrument_id: str) -> Position:
        """A copy of the position (flat if never traded)."""
        found = self._positions.get((strategy_id, instrument_id), Position())
        return Position(
            found.quantity_e9, found.avg_price_e9, found.realized_pnl_e9, found.commissions_e9
        )

    def on_quote(self, quote: Quote, now_ns: int) -> list[PortfolioOutput]:
        """Updates the mark; returns the account PnL if a held instrument moved."""
        previous = self._quotes.get(quote.instrument_id)
        self._quotes[quote.instrument_id] = quote
        held = any(
            p.quantity_e9 for (_, i), p in self._positions.items() if i == quote.instrument_id
        )
        moved = previous is None or _mid(previous) != _mid(quote)
        due = self._last_mark_ns is None or (
            quote.ts_event - self._last_mark_ns >= self.config.mark_interval_ns
        )
        if not (held and moved and due):
            return []
        self._last_mark_ns = quote.ts_event
        return [self.pnl(quote.ts_event, now_ns)]

    def on_order_request(self, order: OrderRequest, now_ns: int) -> list[PortfolioOutput]:
        """Fills the order on paper; returns position and PnL updates (none if not filled)."""
        quote = self._quotes.get(order.instrument_id)
        if quote is None:
            raise NoQuoteError(order.instrument_id, order.client_order_id)
        is_buy = order.side == common_pb2.ORDER_SIDE_BUY
        if order.side not in (common_pb2.ORDER_SIDE_BUY, common_pb2.ORDER_SIDE_SELL):
            raise ValueError(f"order {order.client_order_id} has no side")
        price = quote.ask_price_e9 if is_buy else quote.bid_price_e9
        if order.order_type == strategy_pb2.ORDER_TYPE_LIMIT and (
            (is_buy and order.limit_price_e9 < price)
            or (not is_buy and order.limit_price_e9 > price)
        ):
            return []
        key = (order.strategy_id, order.instrument_id)
        position = self._positions.setdefault(key, Position())
        quantity = self._fill_quantity(order, position, is_buy)
        if quantity <= 0:
            return []
        commission = mul_e9(mul_e9(quantity, price), self._commission_rate_e9)
        position.apply_fill(quantity if is_buy else -quantity, price, commission)
        update = PositionUpdate(
            account_id=self.config.account_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            side=_position_side(position.quantity_e9),
            quantity_e9=abs(position.quantity_e9),
            avg_price_e9=position.avg_price_e9,
            last_fill_side=order.side,
            last_fill_quantity_e9=quantity,
            last_fill_price_e9=price,
            last_client_order_id=order.client_order_id,
            ts_event=order.ts_event,
            ts_init=now_ns,
        )
        return [
            update,
            self.pnl(order.ts_event, now_ns, order.strategy_id, order.instrument_id),
            self.pnl(order.ts_event, now_ns),
        ]

    def pnl(
        self, ts_event: int, now_ns: int, strategy_id: str = "", instrument_id: str = ""
    ) -> PnlUpdate:
        """PnL of the account, or narrowed to a strategy and/or instrument (empty: all)."""
        realized = unrealized = commissions = total_unrealized = total_realized = 0
        for (strategy, instrument), position in sorted(self._positions.items()):
            open_pnl = self._unrealized(instrument, position)
            total_unrealized += open_pnl
            total_realized += position.realized_pnl_e9
            if strategy_id not in ("", strategy) or instrument_id not in ("", instrument):
                continue
            realized += position.realized_pnl_e9
            unrealized += open_pnl
            commissions += position.commissions_e9
        return PnlUpdate(
            account_id=self.config.account_id,
            strategy_id=strategy_id,
            instrument_id=instrument_id,
            currency=self.config.currency,
            realized_pnl_e9=realized,
            unrealized_pnl_e9=unrealized,
            total_pnl_e9=realized + unrealized,
            commissions_e9=commissions,
            equity_e9=self._initial_e9 + total_realized + total_unrealized,
            ts_event=ts_event,
            ts_init=now_ns,
        )

    def _fill_quantity(self, order: OrderRequest, position: Position, is_buy: bool) -> int:
        if order.quantity_e9 <= 0:
            raise ValueError(f"order {order.client_order_id} quantity must be > 0")
        if not order.reduce_only:
            return order.quantity_e9
        reduces = (position.quantity_e9 < 0) if is_buy else (position.quantity_e9 > 0)
        return min(order.quantity_e9, abs(position.quantity_e9)) if reduces else 0

    def _unrealized(self, instrument_id: str, position: Position) -> int:
        quote = self._quotes.get(instrument_id)
        if quote is None or position.quantity_e9 == 0:
            return 0
        return position.unrealized_pnl_e9(_mid(quote))


def _mid(quote: Quote) -> int:
    return (quote.bid_price_e9 + quote.ask_price_e9 + 1) // 2


def _position_side(quantity_e9: int) -> common_pb2.PositionSide.ValueType:
    if quantity_e9 > 0:
        return common_pb2.POSITION_SIDE_LONG
    if quantity_e9 < 0:
        return common_pb2.POSITION_SIDE_SHORT
    return common_pb2.POSITION_SIDE_FLAT
