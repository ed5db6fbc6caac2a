"""Strategy engine core: signals and market orders from predictions, trend, regime, toxicity
and risk state."""

from nautilus.engines.strategy.core import SignalStrategy, StrategyConfig, StrategyOutput
from nautilus.engines.strategy.gates import TradingGate, TradingPermission, clip_target
from nautilus.engines.strategy.ids import client_order_id, signal_id

__all__ = [
    "SignalStrategy",
    "StrategyConfig",
    "StrategyOutput",
    "TradingGate",
    "TradingPermission",
    "client_order_id",
    "clip_target",
    "signal_id",
]
