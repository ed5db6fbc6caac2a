"""Online logistic regression by stochastic gradient descent, with online feature scaling.

Each step minimises the L2-regularised log loss of one sample:
`w <- w - eta * ((p - y) * x + l2 * w)`, `b <- b - eta * (p - y)`, with `p = sigmoid(w.x + b)`.
Inputs are standardised by running mean and standard deviation (Welford) and clipped to
+-`clip`, so features on very different scales (returns vs order flow) train together and one
crash-sized outlier cannot blow the weights up. Coefficients therefore refer to standardised
features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["OnlineLogisticRegression", "RunningScaler", "log_loss", "sigmoid"]

_EPSILON = 1e-12


def sigmoid(z: float) -> float:
    """The logistic function, without overflow for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    exp_z = math.exp(z)
    return exp_z / (1.0 + exp_z)


def log_loss(probability: float, label: int) -> float:
    """Log loss of predicting `probability` for a 0/1 `label`, clamped away from infinity."""
    p = min(max(probability, _EPSILON), 1.0 - _EPSILON)
    return -math.log(p) if label == 1 else -math.log(1.0 - p)


class RunningScaler:
    """Running per-feature mean and sample standard deviation (Welford)."""

    def __init__(self, size: int, clip: float) -> None:
        self._count = 0
        self._mean = [0.0] * size
        self._m2 = [0.0] * size
        self._clip = clip

    def update(self, x: Sequence[float]) -> None:
        """Adds one observation."""
        self._count += 1
        for i, value in enumerate(x):
            delta = value - self._mean[i]
            self._mean[i] += delta / self._count
            self._m2[i] += delta * (value - self._mean[i])

    def transform(self, x: Sequence[float]) -> list[float]:
        """`x` standardised and clipped; features without spread yet map to 0."""
        scaled = []
        for i, value in enumerate(x):
            variance = self._m2[i] / (self._count - 1) if self._count > 1 else 0.0
            z = (value - self._mean[i]) / math.sqrt(variance) if variance > 0 else 0.0
            scaled.append(min(max(z, -self._clip), self._clip))
        return scaled


class OnlineLogisticRegression:
    """A binary classifier trained one sample at a time."""

    def __init__(self, size: int, learning_rate: float, l2: float, decay: float) -> None:
        self.weights = [0.0] * size
        self.intercept = 0.0
        self.steps = 0
        self._learning_rate = learning_rate
        self._l2 = l2
        self._decay = decay

    def predict(self, x: Sequence[float]) -> float:
        """Probability of label 1 for (already scaled) `x`."""
        return sigmoid(sum(w * v for w, v in zip(self.weights, x, strict=True)) + self.intercept)

    def learn(self, x: Sequence[float], label: int) -> None:
        """One SGD step on `(x, label)`."""
        eta = self._learning_rate / (1.0 + self._decay * self.steps)
        error = self.predict(x) - label
        self.weights = [
            w - eta * (error * v + self._l2 * w) for w, v in zip(self.weights, x, strict=True)
        ]
        self.intercept -= eta * error
        self.steps += 1
