"""Deterministic identifiers for signals and orders: same inputs, same ids, no clock or global
randomness involved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

__all__ = ["client_order_id", "signal_id"]

_NAMESPACE = uuid.UUID("6f1c2b0e-4a57-5d0b-9a57-6e61757469c5")


def signal_id(strategy_id: str, sequence: int) -> str:
    """A UUID (version 5) unique per strategy and signal sequence number."""
    return str(uuid.uuid5(_NAMESPACE, f"{strategy_id}/{sequence}"))


def client_order_id(ts_ns: int, trader_tag: str, strategy_tag: str, count: int) -> str:
    """Nautilus format `O-YYYYMMDD-HHMMSS-TRADER-STRATEGY-COUNT`, from market time (UTC)."""
    moment = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC)
    return f"O-{moment:%Y%m%d-%H%M%S}-{trader_tag}-{strategy_tag}-{count}"
