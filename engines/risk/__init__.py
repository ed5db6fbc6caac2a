"""Risk engine core: exposures, historical VaR, drawdown and limit events for an account."""

from nautilus.engines.risk.core import RiskConfig, RiskMonitor
from nautilus.engines.risk.limits import BREACH_ACTIONS, LimitBook, LimitCheck
from nautilus.engines.risk.measures import DrawdownTracker, historical_var

__all__ = [
    "BREACH_ACTIONS",
    "DrawdownTracker",
    "LimitBook",
    "LimitCheck",
    "RiskConfig",
    "RiskMonitor",
    "historical_var",
]
