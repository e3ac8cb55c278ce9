"""Random z-point generators of the studies, their analytic radii, and the region hit test."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import exp, lgamma, sqrt

import numpy as np

from latentkit.errors import LatentkitError

METHODS = ("uniform", "normal", "component", "mvn")


@dataclass(frozen=True)
class Generator:
    """Draws (n, dim) z-points; ``params`` say which, for the report."""

    name: str
    method: str
    params: dict = field(default_factory=dict)

    def sample(self, rng: np.random.Generator, n: int, fit: LatentFit) -> np.ndarray:
        dim = len(fit.mean)
        if self.method == "uniform":
            b = self.params["b"]
            return rng.uniform(-b, b, (n, dim))
        if self.method == "normal":
            return rng.standard_normal((n, dim))
        if self.method == "component":
            return fit.centre + fit.sigma * rng.standard_normal((n, dim))
        if self.method == "mvn":
            return fit.mean + rng.standard_normal((n, dim)) @ fit.cov_root.T
        raise LatentkitError(f"unknown method {self.method!r}: use {', '.join(METHODS)}")

    def expected_radius(self, fit: LatentFit) -> tuple[float | None, float | None]:
        """Analytic (mean, sd) of the radius where one exists."""
        n = len(fit.mean)
        if self.method == "uniform":
            b = self.params["b"]
            mean = b * sqrt(n / 3) * sqrt(1 / (1 + 1 / (4 * n)))
            return mean, mean * sqrt(1 / (5 * n)) / (1 + 1 / (4 * n))
        if self.method == "normal":  # chi distribution with n degrees of freedom: ~ sqrt(n), sd ~ 1/sqrt(2)
            mean = sqrt(2) * exp(lgamma((n + 1) / 2) - lgamma(n / 2))
            return mean, sqrt(max(n - mean**2, 0.0))
        if self.method == "component":  # sqrt(E R^2): exact to O(1/n)
            return sqrt(float(np.sum(fit.centre**2 + fit.sigma**2))), None
        return sqrt(float(fit.mean @ fit.mean + np.trace(fit.cov))), None


@dataclass(frozen=True)
class LatentFit:
    """What generation needs from an analysis: component fits and the multivariate normal."""

    mean: np.ndarray
    cov: np.ndarray
    centre: np.ndarray  # Gaussian-fit centre per component
    sigma: np.ndarray  # Gaussian-fit sigma per component
    fwhm: np.ndarray  # full width at half maximum per component (the studies' "half-width")

    @property
    def cov_root(self) -> np.ndarray:
        """A matrix A with A A^T = cov (eigen-based, so a singular covariance still works)."""
        values, vectors = np.linalg.eigh(self.cov)
        return vectors * np.sqrt(np.clip(values, 0, None))

    def save(self, path) -> None:
        from latentkit.atomic import atomic_write

        with atomic_write(path) as handle:
            np.savez(handle, mean=self.mean, cov=self.cov, centre=self.centre, sigma=self.sigma, fwhm=self.fwhm)

    @classmethod
    def load(cls, path) -> LatentFit:
        with np.load(path) as data:
            return cls(**{k: data[k] for k in ("mean", "cov", "centre", "sigma", "fwhm")})


def default_generators(bs=(0.5, 1.0, 1.5, 2.0, 3.0, 5.0)) -> list[Generator]:
    return [Generator(f"uniform b={b:g}", "uniform", {"b": float(b)}) for b in bs] + [
        Generator("standard normal", "normal"),
        Generator("per-component normal (fitted centres, sigmas)", "component"),
        Generator("multivariate normal (fitted mean, covariance)", "mvn"),
    ]


def hit_fractions(z: np.ndarray, fit: LatentFit, ks=(1.5, 2.0, 3.0, 12.0)) -> dict[str, float]:
    """Fraction of rows whose every component lies within k x half-width of the data's centre."""
    distance = np.abs(z - fit.centre) / fit.fwhm  # in half-widths
    worst = distance.max(axis=1)
    return {f"{k:g}": float(np.mean(worst <= k)) for k in ks}


def hit_counts(z: np.ndarray, fit: LatentFit, ks) -> np.ndarray:
    """Rows within k x half-width, per k (summed over chunks for a streamed fraction)."""
    worst = (np.abs(z - fit.centre) / fit.fwhm).max(axis=1)
    return np.array([(worst <= k).sum() for k in ks])
