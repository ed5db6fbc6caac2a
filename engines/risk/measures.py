"""Risk measures on plain numbers: historical VaR and drawdown."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["DrawdownTracker", "historical_var"]


def historical_var(pnl_changes: Sequence[float], confidence: float) -> float:
    """Historical-simulation VaR: the smallest loss not exceeded in `confidence` of the
    scenarios, i.e. the ceil(confidence x n)-th smallest loss (loss = -change). Positive for a
    loss, 0 when even that scenario is a gain or there are no scenarios."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    if not pnl_changes:
        return 0.0
    losses = sorted(-change for change in pnl_changes)
    index = math.ceil(confidence * len(losses) - 1e-12) - 1
    return max(0.0, losses[max(0, index)])


class DrawdownTracker:
    """Peak equity, the current fall from it, and the largest fall as a fraction of the peak
    it fell from."""

    def __init__(self) -> None:
        self.peak: float | None = None
        self.current = 0.0
        self.max_drawdown = 0.0

    def update(self, equity: float) -> None:
        """Adds an equity observation."""
        self.peak = equity if self.peak is None else max(self.peak, equity)
        self.current = self.peak - equity
        if self.peak > 0:
            self.max_drawdown = max(self.max_drawdown, min(1.0, self.current / self.peak))
