"""A Gaussian kernel density on the standardised cloud, its bandwidth chosen by cross-validated
likelihood on a sample (scikit-learn's ``KFold`` splits). The held-out log-likelihood is what
``KernelDensity.score`` defines, computed exactly from one matrix of distances per fold for all
bandwidths: scikit-learn's trees visit every point in 100+ dimensions (12 s for 2,000 points of
256; this takes well under a second) and their bounds give wrong values there at small
bandwidths (scikit-learn issues 25799 and 27186), which chose a bandwidth too small;
a test holds the two equal where the tree sums every kernel. Drawing picks a
kept point and adds the kernel's noise. It keeps a bounded sample of the cloud, saved in mvn.npz
with the other fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator

BANDWIDTHS = np.logspace(-1.5, 0.5, 12)  # candidates, in the standardised cloud's units


@dataclass(frozen=True)
class Kde:
    points: np.ndarray  # (n, d) standardised sample
    bandwidth: float
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, points: np.ndarray, *, folds: int = 3, seed: int = 0) -> Kde:
        """Bandwidth by ``folds``-fold cross-validated log-likelihood over ``BANDWIDTHS`` (the
        first of the best, as ``GridSearchCV`` picks)."""
        points = np.asarray(points, np.float64)
        mean, scale = points.mean(axis=0), np.where(points.std(axis=0) > 0, points.std(axis=0), 1.0)
        standard = (points - mean) / scale
        scores = cross_validated_scores(standard, BANDWIDTHS, folds=folds, seed=seed)
        return cls(standard.astype(np.float32), float(BANDWIDTHS[int(np.argmax(scores))]), mean, scale)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        picked = self.points[rng.integers(0, len(self.points), n)]
        return self.mean + self.scale * (picked + self.bandwidth * rng.standard_normal(picked.shape))


def kde_score(train: np.ndarray, test: np.ndarray, bandwidths, block: int = 1024) -> np.ndarray:
    """Per bandwidth, the total log-density of ``test`` under a Gaussian kernel density on
    ``train``: ``KernelDensity(bandwidth=h).fit(train).score(test)`` for each h. ``block`` test
    rows at a time: memory holds a block's distances to ``train``, whatever the sizes."""
    from scipy.special import logsumexp

    d, total = train.shape[1], np.zeros(len(bandwidths))
    train_norms = (train * train).sum(axis=1)[None, :]
    for start in range(0, len(test), block):
        rows = test[start : start + block]
        squared = np.maximum((rows * rows).sum(axis=1)[:, None] + train_norms - 2.0 * rows @ train.T, 0.0)
        total += [float(logsumexp(-squared / (2.0 * h * h), axis=1).sum()) for h in bandwidths]
    return total - len(test) * (np.log(len(train)) + 0.5 * d * np.log(2.0 * np.pi * np.asarray(bandwidths) ** 2))


def cross_validated_scores(points: np.ndarray, bandwidths, *, folds: int = 3, seed: int = 0) -> np.ndarray:
    """Per bandwidth, the mean over ``folds`` shuffled folds (scikit-learn's ``KFold``) of the
    held-out fold's log-likelihood: ``GridSearchCV(KernelDensity(), ...)``'s mean test score."""
    from sklearn.model_selection import KFold

    scores = [
        kde_score(points[train], points[test], bandwidths)
        for train, test in KFold(folds, shuffle=True, random_state=seed).split(points)
    ]
    return np.mean(scores, axis=0)


@dataclass(frozen=True)
class FittedKde(Generator):
    """Draws from the run's kernel density (``LatentFit.kde``)."""

    method = "kde"
    title = "kernel density (bandwidth by cross-validation)"
    needs = "kde"
    missing = "the fitted kernel density: rerun `latentkit analyze` (kde on)"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        assert fit.kde is not None
        return fit.kde.sample(rng, n)
