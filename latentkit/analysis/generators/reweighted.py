"""The fitted normal reweighted by the atlas's density ratio: draws of the normal q kept by
accept/reject with probability min(1, w(z) / M), w = 1 / r = p / q (p: the data), so that what
is kept follows q r^-1 ~ p where the ratio holds: the normal's draws in the data's holes (r high)
are dropped, those where the data outweighs the normal are kept. As NCP-VAE reweights a VAE's
prior by a classifier (Aneja et al. 2021) and LARS accepts its draws by a learned, truncated
acceptance (Bauer & Mnih 2019); M is a high quantile of w (``LatentFit.ratio.log_bound``: LARS's
truncation), so a few draws above it are kept with probability 1.

The ratio is the atlas's classifier, fitted by ``measures.atlas`` between analyze's data sample
and the normal's draws. What drawing needs of it (the feature map, the ratio, the acceptance)
is defined here, below the measures, and kept in mvn.npz (``LatentFit.ratio``): ``generate
--method reweighted`` draws with it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator
from latentkit.analysis.generators.kernel import gaussian_kernel
from latentkit.analysis.generators.normal import FittedNormal
from latentkit.core import LatentkitError

BATCH = 50_000  # base draws at a time, at most
MOST_DRAWN = 20_000_000  # base draws before giving up
LEADING = 16  # whitened principal coordinates (and their squares) among the ratio's features


@dataclass(frozen=True)
class Features:
    """The feature map the classifier reads: whitened leading coordinates and their squares, two
    log radii, and the Gaussian kernel to landmarks: (LEADING + 1 + landmarks) x d operations a
    point, not d x d (a full whitening's)."""

    mean: np.ndarray  # (d,) both sets' mean
    whitening: np.ndarray  # (d, LEADING at most) to unit variance along both sets' leading directions
    landmarks: np.ndarray  # (L, d)
    bandwidth: float

    @classmethod
    def of(cls, pooled: np.ndarray, landmarks: np.ndarray, bandwidth: float) -> Features:
        """Whitened by the ``pooled`` points of both sets (by one set's alone, that set's own
        points would sit inside its sample covariance and the other's outside: a difference in
        radius that is only the sample's); ``landmarks``: points no model is scored on (a
        landmark's kernel to itself, 1, would give its class away)."""
        mean = pooled.mean(axis=0)
        centred = pooled - mean
        values, vectors = np.linalg.eigh(centred.T @ centred / max(len(pooled) - 1, 1))
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order]
        kept = values > max(float(values[0]), 0.0) * 1e-10
        kept[LEADING:] = False
        return cls(mean, vectors[:, kept] / np.sqrt(values[kept]), landmarks, bandwidth)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        centred = np.asarray(z, np.float64) - self.mean
        leading = centred @ self.whitening
        radii = np.log1p(np.stack([(leading * leading).sum(axis=1), (centred * centred).sum(axis=1)], axis=1))
        return np.hstack([leading, leading * leading, radii, gaussian_kernel(z, self.landmarks, self.bandwidth)])


@dataclass(frozen=True)
class DensityRatio:
    """log r(z) = log q(z) / p(z) at any point: the fold models' mean log-odds, corrected for the
    classes' sizes (``prior``: log of the draws over the data points each model was fitted on).
    Each fold's model is linear in the standardised features, so their mean is one weight vector
    and one intercept on the raw features."""

    features: Features
    weights: np.ndarray  # (features,) on the raw features
    intercept: float
    prior: float

    def log_ratio(self, z: np.ndarray, block: int = 10_000) -> np.ndarray:
        out = np.empty(len(z))
        for start in range(0, len(z), block):
            out[start : start + block] = self.features(z[start : start + block]) @ self.weights
        return out + self.intercept - self.prior


BOUND_QUANTILE = 0.9  # the accept/reject bound M: this quantile of w = 1 / r over the base's draws


@dataclass(frozen=True)
class Reweighting:
    """What ``generators.reweighted`` draws with (``LatentFit.ratio``): accept a draw z of the base
    with probability min(1, w(z) / M), w = 1 / r = p / q; M (``log_bound``) is the
    ``BOUND_QUANTILE`` of w over the base's draws the ratio was fitted on (LARS's truncation: the
    few draws above it are kept with probability 1)."""

    ratio: DensityRatio
    log_bound: float
    acceptance_rate: float  # the mean acceptance over those draws: base draws per kept point, inverted
    c2st_accuracy: float  # the ratio's cross-fitted accuracy: 0.5 says the base already is the data

    def acceptance(self, z: np.ndarray) -> np.ndarray:
        return np.exp(np.minimum(-self.ratio.log_ratio(z) - self.log_bound, 0.0))

    @classmethod
    def of(cls, fitted) -> Reweighting:
        """From a ratio fitted between the data and the base's draws (``measures.atlas.RatioFit``:
        their out-of-fold log r)."""
        log_w = -fitted.log_ratio_drawn
        bound = float(np.quantile(log_w, BOUND_QUANTILE))
        rate = float(np.mean(np.exp(np.minimum(log_w - bound, 0.0))))
        return cls(fitted.ratio, bound, rate, fitted.accuracy)


@dataclass(frozen=True)
class Reweighted(Generator):
    """The fitted normal's draws accepted with probability min(1, (1 / r(z)) / M)."""

    method = "reweighted"
    title = "fitted normal reweighted by the density ratio (accept/reject)"
    needs = "ratio"
    missing = "the atlas's density ratio: rerun `latentkit analyze` (atlas on, with the quality stage)"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        kept: list[np.ndarray] = []
        have, tried = 0, 0
        # as many base draws as should give n at the acceptance seen when fitting, in one batch
        # (the base's matrix root is computed once a batch), at most BATCH rows at a time
        batch = min(int(1.2 * n / max(fit.ratio.acceptance_rate, 1e-3)) + 64, BATCH)
        while have < n:
            if tried >= MOST_DRAWN:
                raise LatentkitError(f"the reweighted normal accepted {have} of {tried:,} draws: too few for {n}")
            z = FittedNormal().draw(rng, batch, fit)
            accept = rng.random(batch) < fit.ratio.acceptance(z)
            kept.append(z[accept])
            have, tried = have + int(accept.sum()), tried + batch
        return np.concatenate(kept)[:n]
