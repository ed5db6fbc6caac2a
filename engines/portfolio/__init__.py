"""Portfolio engine core: paper fills at the quote, netted positions, realised and unrealised
PnL with commissions."""

from nautilus.engines.portfolio.core import (
    NoQuoteError,
    PaperPortfolio,
    PortfolioConfig,
    PortfolioOutput,
)
from nautilus.engines.portfolio.ledger import Position

__all__ = ["NoQuoteError", "PaperPortfolio", "PortfolioConfig", "PortfolioOutput", "Position"]
