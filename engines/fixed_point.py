"""Fixed-point conversion for the contract's `_e9` fields (value x 1e9 in an int64).

Every engine converts at its edges with these functions so that rounding is the same everywhere:
round half away from zero, which is symmetric for buys and sells, longs and shorts.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["E9", "decimal_to_e9", "from_e9", "mul_e9", "to_e9"]

#: Scale of every `_e9` field: 1.0 is 1_000_000_000.
E9 = 1_000_000_000

_E9_DECIMAL = Decimal(E9)
_INT64_MAX = 2**63 - 1


def _checked(value: int) -> int:
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise OverflowError(f"{value} does not fit an int64 _e9 field")
    return value


def to_e9(value: float) -> int:
    """`value` as a fixed-point integer, rounded half away from zero.

    Goes through the float's shortest decimal repr, so `to_e9(101.25) == 101_250_000_000` and
    `to_e9(0.1) == 100_000_000` exactly (not 100000000.00000001 truncated).
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot convert {value} to fixed point")
    return decimal_to_e9(Decimal(repr(float(value))))


def decimal_to_e9(value: Decimal) -> int:
    """A decimal as a fixed-point integer, rounded half away from zero to nine decimals."""
    scaled = (value * _E9_DECIMAL).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return _checked(int(scaled))


def from_e9(value: int) -> float:
    """A fixed-point integer as a float (nearest double)."""
    return value / E9


def mul_e9(a_e9: int, b_e9: int) -> int:
    """The fixed-point product of two fixed-point numbers (for example quantity x price = money),
    computed exactly in integers and rounded half away from zero."""
    product = a_e9 * b_e9
    quotient, remainder = divmod(abs(product), E9)
    if 2 * remainder >= E9:
        quotient += 1
    return _checked(quotient if product >= 0 else -quotient)
