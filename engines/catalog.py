"""The twelve engine services by engine name, in data-flow order, and how to build one.

The order (market data first, then the engines that derive from it, the frontend last) is the
order a backtest polls the engines in, so it is part of what makes a backtest reproducible; a live
run starts the engines in this order too, with MarketData held back until the others are ready.
"""

from __future__ import annotations

from typing import Any

from nautilus.clients.analytics import AnalyticsClient
from nautilus.clients.collateral import CollateralClient
from nautilus.clients.factor import FactorClient
from nautilus.clients.features import FeaturesClient
from nautilus.clients.marketdata import MarketDataClient
from nautilus.clients.ml import MLClient
from nautilus.clients.portfolio import PortfolioClient
from nautilus.clients.risk import RiskClient
from nautilus.clients.strategy import StrategyClient
from nautilus.clients.toraniko import ToranikoClient
from nautilus.clients.vpin import VPINClient
from nautilus.clients.websocket import WebSocketClient
from nautilus.engines.analytics.service import AnalyticsService
from nautilus.engines.collateral.service import CollateralService
from nautilus.engines.factor.service import FactorService
from nautilus.engines.features.service import FeaturesService
from nautilus.engines.marketdata.service import MarketDataService
from nautilus.engines.ml.service import MlService
from nautilus.engines.portfolio.service import PortfolioService
from nautilus.engines.risk.service import RiskService
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.engines.strategy.service import StrategyService
from nautilus.engines.toraniko.service import ToranikoService
from nautilus.engines.vpin.service import VpinService
from nautilus.engines.websocket.service import WebSocketService
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.routing import engine_info
from nautilus.runtime.typed_client import TypedClient

__all__ = ["ENGINES", "build_service", "engine_port"]

#: engine name -> (generated client class, service class), in data-flow order.
ENGINES: dict[str, tuple[type[TypedClient], type[EngineService[Any]]]] = {
    "marketdata": (MarketDataClient, MarketDataService),
    "vpin": (VPINClient, VpinService),
    "features": (FeaturesClient, FeaturesService),
    "ml": (MLClient, MlService),
    "analytics": (AnalyticsClient, AnalyticsService),
    "factor": (FactorClient, FactorService),
    "toraniko": (ToranikoClient, ToranikoService),
    "strategy": (StrategyClient, StrategyService),
    "portfolio": (PortfolioClient, PortfolioService),
    "risk": (RiskClient, RiskService),
    "collateral": (CollateralClient, CollateralService),
    "websocket": (WebSocketClient, WebSocketService),
}


def build_service(
    engine: str, bus: UniversalMessageBusClient, settings: RunSettings
) -> EngineService[Any]:
    """The engine's service on its typed client over `bus` (which must be the engine's)."""
    try:
        client_class, service_class = ENGINES[engine]
    except KeyError:
        raise KeyError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}") from None
    return service_class(client_class(bus), settings)


def engine_port(engine: str) -> int:
    """The engine's health and metrics port, as declared in the contract (the seed's table)."""
    return engine_info(engine).port
