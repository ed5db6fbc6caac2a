"""Bulk volume classification (Easley, Lopez de Prado, O'Hara 2012).

A bucket's volume is split into buy and sell initiated volume by its price change:
`buy fraction = Phi(dP / sigma_dP)`, with Phi the standard normal CDF and sigma_dP the standard
deviation of recent bucket price changes. No trade-by-trade side is needed, which makes the
classification robust to venues that do not report the aggressor.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

__all__ = ["BulkVolumeClassifier", "buy_fraction", "standard_normal_cdf"]


def standard_normal_cdf(z: float) -> float:
    """Phi(z) via the error function."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def buy_fraction(price_change: float, sigma: float) -> float:
    """Share of a bucket's volume classified as buyer initiated; 0.5 (no information) when the
    scale `sigma` is not positive."""
    if sigma <= 0:
        return 0.5
    return standard_normal_cdf(price_change / sigma)


class BulkVolumeClassifier:
    """Classifies successive bucket price changes against the sample standard deviation of the
    previous `sigma_window` changes (the current change is not in its own scale, so a sudden
    move is measured against calm history). Needs two previous changes; before that, 0.5."""

    def __init__(self, sigma_window: int) -> None:
        if sigma_window < 2:
            raise ValueError("sigma_window must be >= 2")
        self._changes: deque[float] = deque(maxlen=sigma_window)

    def classify(self, price_change: float) -> float:
        """The buy fraction of a bucket whose close moved by `price_change`; then remembers the
        change for the next buckets' scale."""
        sigma = statistics.stdev(self._changes) if len(self._changes) >= 2 else 0.0
        fraction = buy_fraction(price_change, sigma)
        self._changes.append(price_change)
        return fraction
