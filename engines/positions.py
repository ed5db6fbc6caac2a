"""Reading positions off the bus: one place that turns a `PositionUpdate` into a signed quantity."""

from __future__ import annotations

from nautilus.common.v1 import common_pb2
from nautilus.portfolio.v1.portfolio_pb2 import PositionUpdate

__all__ = ["signed_quantity_e9"]

_SIGN = {common_pb2.POSITION_SIDE_LONG: 1, common_pb2.POSITION_SIDE_SHORT: -1}


def signed_quantity_e9(update: PositionUpdate) -> int:
    """The net quantity (fixed-point 1e9): positive long, negative short, 0 flat or unspecified."""
    return _SIGN.get(update.side, 0) * update.quantity_e9
