"""Trend estimation: EMA crossover for the direction, a least-squares line for the strength.

The direction is UP when the fast EMA of the mid is above the slow EMA by more than a band and
the fitted line rises (DOWN mirrored), otherwise SIDEWAYS; requiring both keeps one spike from
flipping the trend. The strength of a trend is the fit's R-squared: 1 for a perfectly steady
move, near 0 for noise; a SIDEWAYS trend has strength 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Ema", "LineFit", "fit_line"]


class Ema:
    """Exponential moving average with span `span` (alpha = 2 / (span + 1)), seeded with the
    first value."""

    def __init__(self, span: int) -> None:
        if span < 1:
            raise ValueError("span must be >= 1")
        self._alpha = 2.0 / (span + 1.0)
        self.value: float | None = None

    def update(self, x: float) -> float:
        """Adds `x`; returns the new average."""
        self.value = x if self.value is None else self.value + self._alpha * (x - self.value)
        return self.value


@dataclass(frozen=True, slots=True)
class LineFit:
    """`y = intercept + slope * t`, with its coefficient of determination."""

    slope: float
    intercept: float
    r_squared: float


def fit_line(points: Sequence[tuple[float, float]]) -> LineFit:
    """Ordinary least squares of y on t; needs two distinct t. R-squared is 0 when y is
    constant."""
    n = len(points)
    if n < 2:
        raise ValueError("need at least two points")
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    s_tt = sum((t - mean_t) ** 2 for t, _ in points)
    if s_tt == 0:
        raise ValueError("need at least two distinct times")
    s_ty = sum((t - mean_t) * (y - mean_y) for t, y in points)
    s_yy = sum((y - mean_y) ** 2 for _, y in points)
    slope = s_ty / s_tt
    r_squared = (s_ty * s_ty) / (s_tt * s_yy) if s_yy > 0 else 0.0
    return LineFit(slope, mean_y - slope * mean_t, min(1.0, r_squared))
