"""A Gaussian mixture fitted to the cloud (full covariances, its components chosen by BIC)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import sqrt

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator


def matrix_root(cov: np.ndarray) -> np.ndarray:
    """A matrix A with A A^T = cov (eigen-based, so a singular covariance still works)."""
    values, vectors = np.linalg.eigh(cov)
    return vectors * np.sqrt(np.clip(values, 0, None))


@dataclass(frozen=True)
class Mixture:
    """A Gaussian mixture fitted to the cloud: weights (K,), means (K, d), covariances (K, d, d)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    bic: dict = field(default_factory=dict)  # components -> BIC of each candidate tried

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        component = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        z = np.empty((n, self.means.shape[1]))
        for k in range(len(self.weights)):
            rows = np.flatnonzero(component == k)
            z[rows] = self.means[k] + rng.standard_normal((len(rows), z.shape[1])) @ matrix_root(self.covariances[k]).T
        return z


def fit_mixture(
    points: np.ndarray, candidates=(1, 2, 3, 4, 6, 8), *, seed: int = 0, progress: Callable[[], None] = lambda: None
) -> Mixture:
    """Full-covariance Gaussian mixtures with more and more components; the one with the lowest BIC.

    Candidates are tried in increasing order and the search stops once BIC has risen twice in a
    row past its best (in hundreds of dimensions every extra component costs tens of thousands
    of parameters, so BIC turns early and the large fits would be wasted time).
    """
    from sklearn.mixture import GaussianMixture

    points = np.asarray(points, np.float64)
    best, bic, worse = None, {}, 0
    for k in sorted({int(c) for c in candidates if 1 <= c <= len(points) // 2}) or [1]:
        # reg_covar relative to the cloud's scale: the default 1e-6 is absolute.
        model = GaussianMixture(
            k,
            covariance_type="full",
            random_state=seed,
            n_init=2 if k > 1 else 1,
            reg_covar=1e-6 * float(points.var(axis=0).mean() or 1.0),
        ).fit(points)
        bic[str(k)] = float(model.bic(points))
        progress()
        if best is None or bic[str(k)] < bic[str(best.n_components)]:
            best, worse = model, 0
        else:
            worse += 1
            if worse == 2:
                break
    assert best is not None  # one candidate at least was fitted
    return Mixture(best.weights_, best.means_, best.covariances_, bic)


@dataclass(frozen=True)
class FittedMixture(Generator):
    """Draws from the run's fitted mixture (``LatentFit.mixture``)."""

    method = "gmm"
    title = "gaussian mixture (BIC-chosen components)"
    needs = "mixture"
    missing = "the fitted mixture: rerun `latentkit analyze` (mixture on)"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        assert fit.mixture is not None
        return fit.mixture.sample(rng, n)

    def expected_radius(self, fit: Fit) -> tuple[float | None, float | None]:
        m = fit.mixture
        assert m is not None
        second = (m.weights * ((m.means**2).sum(axis=1) + np.trace(m.covariances, axis1=1, axis2=2))).sum()
        return sqrt(float(second)), None
