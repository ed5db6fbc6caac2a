"""A netted position and its realised PnL, in exact fixed-point arithmetic.

Fills that open or increase the position move the average entry price to the volume-weighted
average (rounded half up); fills that reduce it realise `(fill - average) x closed quantity`
(sign flipped for shorts) and keep the average; a fill that crosses zero closes the old
position and opens the remainder at the fill price.
"""

from __future__ import annotations

from dataclasses import dataclass

from nautilus.engines.fixed_point import mul_e9

__all__ = ["Position"]


@dataclass(slots=True)
class Position:
    """Signed quantity (long positive), average price, realised PnL net of commissions, and
    commissions paid, all fixed-point 1e9."""

    quantity_e9: int = 0
    avg_price_e9: int = 0
    realized_pnl_e9: int = 0
    commissions_e9: int = 0

    def apply_fill(self, signed_quantity_e9: int, price_e9: int, commission_e9: int) -> int:
        """Applies a fill (positive buys, negative sells); returns the PnL it realised before
        commission."""
        if signed_quantity_e9 == 0:
            raise ValueError("fill quantity must not be zero")
        realized = 0
        current = self.quantity_e9
        if current == 0 or (current > 0) == (signed_quantity_e9 > 0):
            total = abs(current) + abs(signed_quantity_e9)
            weighted = self.avg_price_e9 * abs(current) + price_e9 * abs(signed_quantity_e9)
            self.avg_price_e9 = (2 * weighted + total) // (2 * total)
        else:
            closing = min(abs(signed_quantity_e9), abs(current))
            direction = 1 if current > 0 else -1
            realized = direction * mul_e9(price_e9 - self.avg_price_e9, closing)
            if abs(signed_quantity_e9) > abs(current):
                self.avg_price_e9 = price_e9
            elif abs(signed_quantity_e9) == abs(current):
                self.avg_price_e9 = 0
        self.quantity_e9 = current + signed_quantity_e9
        self.realized_pnl_e9 += realized - commission_e9
        self.commissions_e9 += commission_e9
        return realized

    def unrealized_pnl_e9(self, mark_price_e9: int) -> int:
        """PnL of the open quantity at `mark_price_e9`."""
        if self.quantity_e9 == 0:
            return 0
        return mul_e9(mark_price_e9 - self.avg_price_e9, self.quantity_e9)
