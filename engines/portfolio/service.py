"""The Portfolio engine on its generated client: quotes and orders in, paper fills, positions and
PnL out.

Orders fill at once against the latest quote; the account's PnL is re-marked at most once a
second of market time while positions are open. The other routed inputs (signals, analysis,
margin, risk) are consumed for the record: this paper venue fills every order it may.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from nautilus.clients.portfolio import PortfolioClient
from nautilus.common.v1 import common_pb2
from nautilus.engines.fixed_point import E9
from nautilus.engines.portfolio.core import PaperPortfolio, PortfolioConfig, PortfolioOutput
from nautilus.engines.run_settings import NS_PER_SECOND, RunSettings
from nautilus.engines.service import EngineService
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.portfolio.v1.portfolio_pb2 import PnlUpdate, PositionUpdate
from nautilus.strategy.v1.strategy_pb2 import OrderRequest

__all__ = ["PortfolioService", "pnl_summary", "portfolio_config"]


def portfolio_config(settings: RunSettings) -> PortfolioConfig:
    """A 100,000 USDT account, 5 bps commission, marked once a second of market time."""
    return PortfolioConfig(mark_interval_ns=NS_PER_SECOND)


def pnl_summary(pnl: PnlUpdate | None) -> dict[str, Any] | None:
    """An account PnL update as report data: money in the account currency (9 decimals)."""
    if pnl is None:
        return None
    return {
        "currency": pnl.currency,
        "realized": pnl.realized_pnl_e9 / E9,
        "unrealized": pnl.unrealized_pnl_e9 / E9,
        "total": pnl.total_pnl_e9 / E9,
        "commissions": pnl.commissions_e9 / E9,
        "equity": pnl.equity_e9 / E9,
        "ts_event": pnl.ts_event,
    }


class PortfolioService(EngineService[PortfolioClient]):
    """Publishes the position and PnL updates of every fill, and periodic account PnL."""

    ENGINE = "portfolio"

    def wire(self) -> None:
        self.core = PaperPortfolio(portfolio_config(self.settings))
        self._last_account_pnl: PnlUpdate | None = None
        self._positions: dict[tuple[str, str], int] = {}
        self._fills = 0
        client = self.client
        self.publishes(PositionUpdate, client.publish_position_update)
        self.publishes(PnlUpdate, client.publish_pnl_update)
        client.on_quote(self.market(self._on_quote))
        client.on_order_request(self.react(self._on_order_request))
        for subscribe in (
            client.on_trade,
            client.on_trading_signal,
            client.on_market_analysis,
            client.on_trend_update,
            client.on_margin_alert,
            client.on_margin_requirement,
            client.on_position_limit_event,
            client.on_risk_metrics,
            client.on_factor_covariance,
            client.on_factor_exposures,
            client.on_factor_returns,
        ):
            subscribe(self.record())

    def _on_quote(self, quote: Quote, now_ns: int) -> list[PortfolioOutput]:
        return self._noted(self.core.on_quote(quote, now_ns))

    def _on_order_request(self, order: OrderRequest, now_ns: int) -> list[PortfolioOutput]:
        return self._noted(self.core.on_order_request(order, now_ns))

    def _noted(self, outputs: list[PortfolioOutput]) -> list[PortfolioOutput]:
        for output in outputs:
            if isinstance(output, PositionUpdate):
                self._fills += 1
                short = output.side == common_pb2.POSITION_SIDE_SHORT
                signed = -output.quantity_e9 if short else output.quantity_e9
                self._positions[(output.strategy_id, output.instrument_id)] = signed
            elif not output.strategy_id and not output.instrument_id:
                self._last_account_pnl = output
        return outputs

    def facts(self) -> dict[str, Any]:
        net: Counter[str] = Counter()
        for (_, instrument_id), quantity_e9 in self._positions.items():
            net[instrument_id] += quantity_e9
        return {
            "fills": self._fills,
            "positions": {i: q / E9 for i, q in sorted(net.items())},
            "pnl": pnl_summary(self._last_account_pnl),
        }
