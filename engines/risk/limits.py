"""Limit state machines: each limit emits an event only when its status changes.

Usage below `warning_level` is normal; at or above it the limit is APPROACHING (WARNING, no
restriction); at or above 1 it is BREACHED (CRITICAL, with the limit kind's action). A breached
limit stays breached until usage falls below the warning level, and only then is it RESTORED
(INFO, action NONE): the band between the warning level and the limit is the hysteresis that
keeps a limit from flapping at its boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

from nautilus.common.v1 import common_pb2
from nautilus.risk.v1 import risk_pb2
from nautilus.risk.v1.risk_pb2 import PositionLimitEvent

__all__ = ["BREACH_ACTIONS", "LimitBook", "LimitCheck"]

#: What a breach of each kind of limit restricts.
BREACH_ACTIONS = {
    risk_pb2.BREACH_KIND_POSITION_QUANTITY: risk_pb2.RISK_ACTION_REDUCE_ONLY,
    risk_pb2.BREACH_KIND_POSITION_NOTIONAL: risk_pb2.RISK_ACTION_REDUCE_ONLY,
    risk_pb2.BREACH_KIND_GROSS_EXPOSURE: risk_pb2.RISK_ACTION_REDUCE_ONLY,
    risk_pb2.BREACH_KIND_NET_EXPOSURE: risk_pb2.RISK_ACTION_REDUCE_ONLY,
    risk_pb2.BREACH_KIND_VALUE_AT_RISK: risk_pb2.RISK_ACTION_REDUCE_ONLY,
    risk_pb2.BREACH_KIND_DRAWDOWN: risk_pb2.RISK_ACTION_HALT,
}

_NORMAL = risk_pb2.LIMIT_STATUS_UNSPECIFIED


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One limit's current value against its limit (same unit, fixed-point); a limit of 0 is
    "no limit"."""

    kind: risk_pb2.BreachKind.ValueType
    instrument_id: str
    limit_e9: int
    current_e9: int


class LimitBook:
    """Remembers every limit's status and turns checks into status-change events."""

    def __init__(self, account_id: str, currency: str, warning_level: float) -> None:
        self._account_id = account_id
        self._currency = currency
        self._warning_level = warning_level
        self._status: dict[tuple[int, str], risk_pb2.LimitStatus.ValueType] = {}

    def status(
        self, kind: risk_pb2.BreachKind.ValueType, instrument_id: str
    ) -> risk_pb2.LimitStatus.ValueType:
        """Current status; UNSPECIFIED means normal."""
        return self._status.get((int(kind), instrument_id), _NORMAL)

    def check(self, check: LimitCheck, ts_event: int, now_ns: int) -> PositionLimitEvent | None:
        """The event for this check's status change, or None."""
        if check.limit_e9 <= 0:
            return None
        usage = check.current_e9 / check.limit_e9
        old = self.status(check.kind, check.instrument_id)
        if usage >= 1.0:
            new = risk_pb2.LIMIT_STATUS_BREACHED
        elif usage >= self._warning_level:
            breached = old == risk_pb2.LIMIT_STATUS_BREACHED
            new = risk_pb2.LIMIT_STATUS_BREACHED if breached else risk_pb2.LIMIT_STATUS_APPROACHING
        else:
            new = _NORMAL if old == _NORMAL else risk_pb2.LIMIT_STATUS_RESTORED
        if new == old:
            return None
        key = (int(check.kind), check.instrument_id)
        if new == risk_pb2.LIMIT_STATUS_RESTORED:
            self._status.pop(key, None)
        else:
            self._status[key] = new
        return self._event(check, new, usage, ts_event, now_ns)

    def _event(
        self,
        check: LimitCheck,
        status: risk_pb2.LimitStatus.ValueType,
        usage: float,
        ts_event: int,
        now_ns: int,
    ) -> PositionLimitEvent:
        if status == risk_pb2.LIMIT_STATUS_BREACHED:
            severity, action = common_pb2.SEVERITY_CRITICAL, BREACH_ACTIONS[check.kind]
        elif status == risk_pb2.LIMIT_STATUS_APPROACHING:
            severity, action = common_pb2.SEVERITY_WARNING, risk_pb2.RISK_ACTION_NONE
        else:
            severity, action = common_pb2.SEVERITY_INFO, risk_pb2.RISK_ACTION_NONE
        money = check.kind != risk_pb2.BREACH_KIND_POSITION_QUANTITY
        return PositionLimitEvent(
            account_id=self._account_id,
            instrument_id=check.instrument_id,
            breach_kind=check.kind,
            status=status,
            limit_e9=check.limit_e9,
            current_e9=check.current_e9,
            usage=usage,
            currency=self._currency if money else "",
            severity=severity,
            action=action,
            ts_event=ts_event,
            ts_init=now_ns,
        )
