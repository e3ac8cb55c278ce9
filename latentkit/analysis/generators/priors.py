"""The priors the studies draw from without looking at the data: uniform z-points in a box
[-b, b]^N and the standard normal, with their radii's formulas against the dimension N."""

from __future__ import annotations

from dataclasses import dataclass
from math import exp, lgamma, sqrt
from typing import Any

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator


@dataclass(frozen=True)
class UniformBox(Generator):
    """Uniform z-points in [-b, b]^N."""

    b: float
    method = "uniform"

    @property
    def name(self) -> str:
        return f"uniform b={self.b:g}"

    @property
    def params(self) -> dict[str, Any]:
        return {"b": float(self.b)}

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        return rng.uniform(-self.b, self.b, (n, len(fit.mean)))

    def expected_radius(self, fit: Fit) -> tuple[float | None, float | None]:
        n = len(fit.mean)
        mean = self.b * sqrt(n / 3) * sqrt(1 / (1 + 1 / (4 * n)))
        return mean, mean * sqrt(1 / (5 * n)) / (1 + 1 / (4 * n))


@dataclass(frozen=True)
class StandardNormal(Generator):
    """N(0, I), the prior of a VAE."""

    method = "normal"
    title = "standard normal"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        return rng.standard_normal((n, len(fit.mean)))

    def expected_radius(self, fit: Fit) -> tuple[float | None, float | None]:
        """The chi distribution with n degrees of freedom: ~ sqrt(n), sd ~ 1/sqrt(2)."""
        n = len(fit.mean)
        mean = sqrt(2) * exp(lgamma((n + 1) / 2) - lgamma(n / 2))
        return mean, sqrt(max(n - mean**2, 0.0))


RADIUS_DIMS = (3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


def radius_by_dimension(bs, *, dims=RADIUS_DIMS, check_draws: int = 500, seed: int = 0) -> dict:
    """The radius of uniform [-b, b]^N and standard normal z-points against the dimension N
    (the studies' 3 <= N <= 2048 figure): each formula's mean and sd (``expected_radius``),
    and a Monte-Carlo mean of ``check_draws`` points at each N beside it."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    generators: list[Generator] = [UniformBox(float(b)) for b in bs] + [StandardNormal()]
    found: dict = {"dims": list(dims), "generators": []}
    for generator in generators:
        rows: dict[str, Any] = {"name": generator.name, "mean": [], "std": [], "drawn_mean": []}
        for n in dims:
            fit: Any = SimpleNamespace(mean=np.zeros(n))
            mean, sd = generator.expected_radius(fit)
            rows["mean"].append(float(mean or 0.0))
            rows["std"].append(float(sd or 0.0))
            z = generator.sample(rng, check_draws, fit)
            rows["drawn_mean"].append(float(np.sqrt((z * z).sum(axis=1)).mean()))
        found["generators"].append(rows)
    return found
