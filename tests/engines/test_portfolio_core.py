"""Portfolio: paper fills at the quote, average price, realised and unrealised PnL."""

from __future__ import annotations

import pytest

from nautilus.common.v1 import common_pb2
from nautilus.engines.portfolio import NoQuoteError, PaperPortfolio, PortfolioConfig
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.portfolio.v1.portfolio_pb2 import PnlUpdate, PositionUpdate
from nautilus.strategy.v1 import strategy_pb2
from nautilus.strategy.v1.strategy_pb2 import OrderRequest

T0 = 1_764_028_800_000_000_000
E9 = 1_000_000_000
BTC = "BTCUSDT.BINANCE"
STRATEGY = "MlTrend-001"


def _e9(value: str) -> int:
    whole, _, frac = value.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * E9 + int((frac + "000000000")[:9]))


def _quote(bid: str, ask: str, ts: int = T0) -> Quote:
    return Quote(instrument_id=BTC, bid_price_e9=_e9(bid), ask_price_e9=_e9(ask), ts_event=ts)


def _order(side: int, quantity: str, ts: int = T0, **fields: object) -> OrderRequest:
    return OrderRequest(
        client_order_id=f"O-{ts}",
        strategy_id=STRATEGY,
        instrument_id=BTC,
        side=side,  # type: ignore[arg-type]
        order_type=strategy_pb2.ORDER_TYPE_MARKET,
        quantity_e9=_e9(quantity),
        ts_event=ts,
        **fields,  # type: ignore[arg-type]
    )


def _portfolio() -> PaperPortfolio:
    return PaperPortfolio(PortfolioConfig(initial_balance=10_000.0, commission_bps=10.0))


def test_buy_fills_at_ask_and_sell_at_bid_with_realised_pnl() -> None:
    """Buy 2 at the ask 100.50: commission 201 x 10 bps = 0.201, average 100.50.
    Sell 1 at the bid 102.00: realised (102.00 - 100.50) x 1 = 1.50, commission 0.102.
    Realised after commissions: 1.50 - 0.201 - 0.102 = 1.197.
    The remaining 1 unit marked at the mid 102.25: unrealised 1.75."""
    portfolio = _portfolio()
    portfolio.on_quote(_quote("100.00", "100.50"), T0)
    position, _, _ = portfolio.on_order_request(_order(common_pb2.ORDER_SIDE_BUY, "2"), T0 + 1)
    assert isinstance(position, PositionUpdate)
    assert (position.last_fill_price_e9, position.avg_price_e9) == (_e9("100.50"), _e9("100.50"))
    assert (position.side, position.quantity_e9) == (common_pb2.POSITION_SIDE_LONG, 2 * E9)
    portfolio.on_quote(_quote("102.00", "102.50", T0 + 10), T0 + 10)
    update, narrowed, account = portfolio.on_order_request(
        _order(common_pb2.ORDER_SIDE_SELL, "1", T0 + 20), T0 + 21
    )
    assert isinstance(update, PositionUpdate)
    assert update.last_fill_price_e9 == _e9("102.00")
    assert (update.quantity_e9, update.avg_price_e9) == (E9, _e9("100.50"))
    assert update.last_client_order_id == f"O-{T0 + 20}"
    assert isinstance(account, PnlUpdate)
    assert account.realized_pnl_e9 == _e9("1.197")
    assert account.commissions_e9 == _e9("0.303")
    assert account.unrealized_pnl_e9 == _e9("1.75")
    assert account.total_pnl_e9 == _e9("2.947")
    assert account.equity_e9 == _e9("10002.947")
    assert (account.strategy_id, account.instrument_id) == ("", "")
    assert isinstance(narrowed, PnlUpdate)
    assert (narrowed.strategy_id, narrowed.instrument_id) == (STRATEGY, BTC)
    assert (account.ts_event, account.ts_init) == (T0 + 20, T0 + 21)


def test_quotes_mark_open_positions_to_the_mid() -> None:
    portfolio = PaperPortfolio(PortfolioConfig(initial_balance=1_000.0, commission_bps=0.0))
    portfolio.on_quote(_quote("99", "101"), T0)
    portfolio.on_order_request(_order(common_pb2.ORDER_SIDE_SELL, "3"), T0)  # short 3 at 99
    (pnl,) = portfolio.on_quote(_quote("96", "98", T0 + 5), T0 + 6)
    assert isinstance(pnl, PnlUpdate)
    assert pnl.unrealized_pnl_e9 == _e9("6")  # (99 - 97) x 3
    assert pnl.equity_e9 == _e9("1006")


def test_fill_through_zero_realises_and_reopens_at_the_fill_price() -> None:
    portfolio = PaperPortfolio(PortfolioConfig(commission_bps=0.0))
    portfolio.on_quote(_quote("99", "100"), T0)
    portfolio.on_order_request(_order(common_pb2.ORDER_SIDE_BUY, "1"), T0)  # long 1 at 100
    portfolio.on_quote(_quote("102", "103"), T0)
    position, _, account = portfolio.on_order_request(_order(common_pb2.ORDER_SIDE_SELL, "3"), T0)
    assert isinstance(position, PositionUpdate)
    assert (position.side, position.quantity_e9) == (common_pb2.POSITION_SIDE_SHORT, 2 * E9)
    assert position.avg_price_e9 == _e9("102")
    assert isinstance(account, PnlUpdate)
    assert account.realized_pnl_e9 == _e9("2")


def test_reduce_only_order_is_cut_to_the_open_quantity() -> None:
    portfolio = PaperPortfolio(PortfolioConfig(commission_bps=0.0))
    portfolio.on_quote(_quote("99", "100"), T0)
    assert (
        portfolio.on_order_request(_order(common_pb2.ORDER_SIDE_SELL, "1", reduce_only=True), T0)
        == []
    )
    portfolio.on_order_request(_order(common_pb2.ORDER_SIDE_BUY, "1"), T0)
    position = portfolio.on_order_request(
        _order(common_pb2.ORDER_SIDE_SELL, "5", reduce_only=True), T0
    )[0]
    assert isinstance(position, PositionUpdate)
    assert (position.last_fill_quantity_e9, position.side) == (E9, common_pb2.POSITION_SIDE_FLAT)
    assert position.avg_price_e9 == 0


def test_non_marketable_limit_order_is_not_filled() -> None:
    portfolio = _portfolio()
    portfolio.on_quote(_quote("99", "100"), T0)
    order = _order(common_pb2.ORDER_SIDE_BUY, "1", limit_price_e9=_e9("99.5"))
    order.order_type = strategy_pb2.ORDER_TYPE_LIMIT
    assert portfolio.on_order_request(order, T0) == []


def test_order_without_a_quote_is_an_error() -> None:
    with pytest.raises(NoQuoteError, match=r"no quote for BTCUSDT\.BINANCE"):
        _portfolio().on_order_request(_order(common_pb2.ORDER_SIDE_BUY, "1"), T0)
