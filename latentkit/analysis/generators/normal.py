"""The normals fitted to the data: per component (each component's Gaussian fit, independent)
and multivariate (the cloud's mean and covariance)."""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator


@dataclass(frozen=True)
class PerComponentNormal(Generator):
    """Each component drawn from its own Gaussian fit (centre, sigma), independently."""

    method = "component"
    title = "per-component normal (fitted centres, sigmas)"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        return fit.centre + fit.sigma * rng.standard_normal((n, len(fit.mean)))

    def expected_radius(self, fit: Fit) -> tuple[float | None, float | None]:
        """sqrt(E R^2): exact to O(1/n)."""
        return sqrt(float(np.sum(fit.centre**2 + fit.sigma**2))), None


@dataclass(frozen=True)
class FittedNormal(Generator):
    """The multivariate normal of the cloud's mean and covariance."""

    method = "mvn"
    title = "multivariate normal (fitted mean, covariance)"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        return fit.mean + rng.standard_normal((n, len(fit.mean))) @ fit.cov_root.T
