"""Small dense linear algebra for the cross-sectional regression, in pure Python.

The universes here are tens of instruments and a handful of factors, so normal equations solved
by Gaussian elimination with partial pivoting are exact enough and need no numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LeastSquaresFit", "SingularSystemError", "least_squares", "solve"]


class SingularSystemError(ValueError):
    """The normal equations have no unique solution (collinear exposures)."""


def solve(matrix: Sequence[Sequence[float]], rhs: Sequence[float]) -> list[float]:
    """Solves `matrix @ x = rhs` for a square matrix."""
    n = len(rhs)
    rows = [[*row, rhs[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-14:
            raise SingularSystemError(f"singular system at column {col}")
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            for c in range(col, n + 1):
                rows[r][c] -= factor * rows[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        tail = sum(rows[r][c] * x[c] for c in range(r + 1, n))
        x[r] = (rows[r][n] - tail) / rows[r][r]
    return x


@dataclass(frozen=True, slots=True)
class LeastSquaresFit:
    """Coefficients, residuals and R-squared (around the mean of y) of a regression."""

    coefficients: list[float]
    residuals: list[float]
    r_squared: float


def least_squares(
    design: Sequence[Sequence[float]], y: Sequence[float], ridge: Sequence[float]
) -> LeastSquaresFit:
    """Minimises `|y - X b|^2 + sum(ridge[j] * b[j]^2)`; `ridge` is one penalty per column (0
    for none), which keeps all-zero exposure columns solvable."""
    k = len(ridge)
    gram = [
        [sum(row[i] * row[j] for row in design) + (ridge[i] if i == j else 0.0) for j in range(k)]
        for i in range(k)
    ]
    moment = [sum(row[i] * target for row, target in zip(design, y, strict=True)) for i in range(k)]
    coefficients = solve(gram, moment)
    residuals = [
        target - sum(b * v for b, v in zip(coefficients, row, strict=True))
        for row, target in zip(design, y, strict=True)
    ]
    mean_y = sum(y) / len(y)
    total = sum((target - mean_y) ** 2 for target in y)
    unexplained = sum(e * e for e in residuals)
    r_squared = max(0.0, 1.0 - unexplained / total) if total > 0 else 0.0
    return LeastSquaresFit(coefficients, residuals, r_squared)
