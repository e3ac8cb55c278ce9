"""Samplers that follow the data, beside the normal and the mixture (``samplers``):

- ``Kde``: a Gaussian kernel density on the standardised cloud, its bandwidth chosen by
  cross-validated likelihood (scikit-learn's ``KernelDensity`` in ``GridSearchCV``) on a
  sample; drawing picks a kept point and adds the kernel's noise.
- ``Posterior``: a VAE's aggregate posterior, q(z) = mean over x of q(z|x): drawing picks a kept
  data point's (mu, log-variance) and draws from that Gaussian.

Both keep a bounded sample of the cloud (``points`` rows), so they are saved in mvn.npz with
the other fits and ``generate --method kde|posterior`` draws from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BANDWIDTHS = np.logspace(-1.5, 0.5, 12)  # candidates, in the standardised cloud's units


@dataclass(frozen=True)
class Kde:
    points: np.ndarray  # (n, d) standardised sample
    bandwidth: float
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, points: np.ndarray, *, folds: int = 3, seed: int = 0) -> Kde:
        """Bandwidth by ``folds``-fold cross-validated log-likelihood over ``BANDWIDTHS``."""
        from sklearn.model_selection import GridSearchCV, KFold
        from sklearn.neighbors import KernelDensity

        points = np.asarray(points, np.float64)
        mean, scale = points.mean(axis=0), np.where(points.std(axis=0) > 0, points.std(axis=0), 1.0)
        standard = (points - mean) / scale
        search = GridSearchCV(KernelDensity(kernel="gaussian"), {"bandwidth": BANDWIDTHS},
                              cv=KFold(folds, shuffle=True, random_state=seed)).fit(standard)  # fmt: skip
        return cls(standard.astype(np.float32), float(search.best_params_["bandwidth"]), mean, scale)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        picked = self.points[rng.integers(0, len(self.points), n)]
        return self.mean + self.scale * (picked + self.bandwidth * rng.standard_normal(picked.shape))


@dataclass(frozen=True)
class Posterior:
    mu: np.ndarray  # (n, d) of a sample of data points
    logvar: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        picked = rng.integers(0, len(self.mu), n)
        mu, logvar = self.mu[picked].astype(np.float64), self.logvar[picked].astype(np.float64)
        return mu + np.exp(logvar / 2) * rng.standard_normal(mu.shape)


def read_posterior(latents, valid: np.ndarray, count: int, seed: int) -> Posterior | None:
    """``count`` rows of a VAE's (mu, log-variance) from its latents, or None for latents without them."""
    from pathlib import Path

    import zarr

    if not (Path(latents) / "zarr.json").exists():
        return None
    group = zarr.open(latents, mode="r")
    if not isinstance(group, zarr.Group) or "mu" not in group or "logvar" not in group:
        return None
    rows = np.flatnonzero(valid)
    rows = np.sort(np.random.default_rng(seed).choice(rows, size=min(count, len(rows)), replace=False))
    return Posterior(np.asarray(group["mu"].get_orthogonal_selection((rows,)), np.float32),
                     np.asarray(group["logvar"].get_orthogonal_selection((rows,)), np.float32))  # fmt: skip
