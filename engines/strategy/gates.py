"""What may be traded right now: toxicity cool-downs and the Risk engine's restrictions.

A gate answers one question per instrument and time: may the strategy open or increase
exposure (`OPEN`), only reduce it (`REDUCE_ONLY`), or not trade at all (`HALT`)? Toxicity alerts
and flash-crash warnings make an instrument reduce-only until their cool-down has passed (in
market time); risk events apply their `action` to their scope (one instrument, or the whole
account when `instrument_id` is empty) until an event for the same limit restores it.
"""

from __future__ import annotations

import enum

from nautilus.risk.v1 import risk_pb2
from nautilus.risk.v1.risk_pb2 import PositionLimitEvent

__all__ = ["TradingGate", "TradingPermission", "clip_target"]


class TradingPermission(enum.IntEnum):
    """Ordered from most to least permissive."""

    OPEN = 0
    REDUCE_ONLY = 1
    HALT = 2


_RISK_PERMISSIONS = {
    risk_pb2.RISK_ACTION_REDUCE_ONLY: TradingPermission.REDUCE_ONLY,
    risk_pb2.RISK_ACTION_HALT: TradingPermission.HALT,
    risk_pb2.RISK_ACTION_LIQUIDATE: TradingPermission.HALT,
}


class TradingGate:
    """Tracks blocks per instrument and per account-wide limit."""

    def __init__(self) -> None:
        self._toxic_until: dict[str, int] = {}
        self._risk: dict[tuple[int, str], TradingPermission] = {}

    def block_for_toxicity(self, instrument_id: str, until_ns: int) -> None:
        """Makes the instrument reduce-only until `until_ns` (extends, never shortens)."""
        self._toxic_until[instrument_id] = max(self._toxic_until.get(instrument_id, 0), until_ns)

    def apply_risk_event(self, event: PositionLimitEvent) -> None:
        """Applies or lifts the restriction of a limit event."""
        key = (int(event.breach_kind), event.instrument_id)
        permission = _RISK_PERMISSIONS.get(event.action)
        if event.status == risk_pb2.LIMIT_STATUS_RESTORED or permission is None:
            self._risk.pop(key, None)
        else:
            self._risk[key] = permission

    def toxic(self, instrument_id: str, ts_ns: int) -> bool:
        """True while the instrument's toxicity cool-down runs."""
        return ts_ns < self._toxic_until.get(instrument_id, 0)

    def risk_permission(self, instrument_id: str) -> TradingPermission:
        """The strictest risk restriction on the instrument or its account."""
        permissions = [
            permission
            for (_, scope), permission in self._risk.items()
            if scope in ("", instrument_id)
        ]
        return max(permissions, default=TradingPermission.OPEN)

    def permission(self, instrument_id: str, ts_ns: int) -> TradingPermission:
        """The strictest of toxicity and risk restrictions at `ts_ns`."""
        toxic = TradingPermission.REDUCE_ONLY if self.toxic(instrument_id, ts_ns) else None
        return max(self.risk_permission(instrument_id), toxic or TradingPermission.OPEN)


def clip_target(current: int, target: int, permission: TradingPermission) -> int:
    """The closest allowed position to `target` from `current`: unchanged under HALT; under
    REDUCE_ONLY toward zero only, never past it."""
    if permission == TradingPermission.HALT:
        return current
    if permission == TradingPermission.REDUCE_ONLY:
        if current == 0 or target == 0 or (target > 0) != (current > 0):
            return 0
        return target if abs(target) < abs(current) else current
    return target
