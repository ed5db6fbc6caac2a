"""Factor covariance from a rolling, optionally exponentially weighted, history of factor
returns."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["weighted_covariance"]


def weighted_covariance(
    observations: Sequence[Sequence[float]], half_life: float
) -> list[list[float]]:
    """Covariance of the rows of `observations` (oldest first). With `half_life` > 0 the
    weight of an observation `a` runs old is 0.5 ** (a / half_life), otherwise all weights are
    equal. Uses the unbiased reliability-weights denominator `W - sum(w^2) / W`, which is n - 1
    for equal weights. Fewer than two observations give a zero matrix."""
    n = len(observations)
    k = len(observations[0]) if observations else 0
    if n < 2:
        return [[0.0] * k for _ in range(k)]
    weights = [0.5 ** ((n - 1 - i) / half_life) if half_life > 0 else 1.0 for i in range(n)]
    total = sum(weights)
    means = [
        sum(w * row[j] for w, row in zip(weights, observations, strict=True)) / total
        for j in range(k)
    ]
    denominator = total - sum(w * w for w in weights) / total
    return [
        [
            sum(
                w * (row[i] - means[i]) * (row[j] - means[j])
                for w, row in zip(weights, observations, strict=True)
            )
            / denominator
            for j in range(k)
        ]
        for i in range(k)
    ]
