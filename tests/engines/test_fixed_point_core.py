"""Fixed-point conversion shared by every engine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus.engines.fixed_point import decimal_to_e9, from_e9, mul_e9, to_e9


def test_to_e9_is_exact_for_short_decimals() -> None:
    assert to_e9(101.25) == 101_250_000_000
    assert to_e9(0.1) == 100_000_000
    assert to_e9(-64_250.125) == -64_250_125_000_000


def test_to_e9_rounds_half_away_from_zero() -> None:
    assert decimal_to_e9(Decimal("0.0000000005")) == 1
    assert decimal_to_e9(Decimal("-0.0000000005")) == -1


def test_to_e9_rejects_non_finite_values() -> None:
    with pytest.raises(ValueError, match="cannot convert"):
        to_e9(float("nan"))


def test_mul_e9_multiplies_quantity_by_price_exactly() -> None:
    # 1.5 units x 64,250.125 = 96,375.1875
    assert mul_e9(1_500_000_000, 64_250_125_000_000) == 96_375_187_500_000
    assert mul_e9(-1_500_000_000, 2_000_000_000) == -3_000_000_000


def test_from_e9_inverts_to_e9() -> None:
    assert from_e9(to_e9(3150.75)) == 3150.75
