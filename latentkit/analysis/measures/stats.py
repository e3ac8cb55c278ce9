"""Streaming statistics of latent vectors: exact chunk-by-chunk accumulators and fits.

Each accumulator follows scikit-learn: parameters in ``__init__``, ``partial_fit(X)`` per
chunk, ``fit(X)`` = reset + one ``partial_fit``, learned state ending in ``_``. Streaming
gives the one-shot result: moments merge with Chan's formula (float64), histograms add.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

if TYPE_CHECKING:
    from latentkit.analysis.report.cloud_schema import ComponentCounts

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))  # 2.3548
CACHE_ELEMENTS = 65_536  # a histogram's slice of a block: its temporaries stay in the CPU's cache


class Moments:
    """Count, mean, covariance, min, max and largest norm of rows seen so far."""

    def fit(self, X: np.ndarray) -> Moments:
        self.__dict__.clear()
        return self.partial_fit(X)

    def partial_fit(self, X: np.ndarray) -> Moments:
        X = np.asarray(X, np.float64)
        n_b = len(X)
        if n_b == 0:
            return self
        mean_b = X.mean(axis=0)
        centred = X - mean_b
        m2_b = centred.T @ centred
        norms = np.sqrt((X * X).sum(axis=1))
        if not hasattr(self, "n_"):
            self.n_, self.mean_, self.m2_ = n_b, mean_b, m2_b
            self.min_, self.max_, self.max_norm_ = X.min(axis=0), X.max(axis=0), norms.max()
            return self
        n = self.n_ + n_b
        delta = mean_b - self.mean_
        self.m2_ = self.m2_ + m2_b + np.outer(delta, delta) * (self.n_ * n_b / n)
        self.mean_ = self.mean_ + delta * (n_b / n)
        self.n_ = n
        self.min_, self.max_ = np.minimum(self.min_, X.min(axis=0)), np.maximum(self.max_, X.max(axis=0))
        self.max_norm_ = max(self.max_norm_, norms.max())
        return self

    @property
    def cov_(self) -> np.ndarray:
        return self.m2_ / max(self.n_ - 1, 1)

    @property
    def std_(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov_))

    @property
    def corr_(self) -> np.ndarray:
        std = self.std_
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = self.cov_ / np.outer(std, std)
        return np.nan_to_num(corr)


class Histograms:
    """One histogram per column on a common range [low, high) with ``bins`` bins."""

    def __init__(self, low: float, high: float, bins: int = 100) -> None:
        self.low, self.high, self.bins = float(low), float(high), bins

    def fit(self, X: np.ndarray) -> Histograms:
        self.__dict__.pop("counts_", None)
        return self.partial_fit(X)

    def partial_fit(self, X: np.ndarray) -> Histograms:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[:, None]
        width = (self.high - self.low) / self.bins
        offsets = np.arange(X.shape[1]) * self.bins  # one bincount for every column at once
        counts = np.zeros(X.shape[1] * self.bins, np.int64)
        rows = max(1, CACHE_ELEMENTS // X.shape[1])  # numpy's own histogram works in such slices too
        for start in range(0, len(X), rows):
            index = ((X[start : start + rows].astype(np.float64) - self.low) / width).astype(np.intp)
            np.clip(index, 0, self.bins - 1, out=index)
            index += offsets
            counts += np.bincount(index.ravel(), minlength=len(counts))
        counts = counts.reshape(X.shape[1], self.bins)
        self.counts_: np.ndarray = counts if not hasattr(self, "counts_") else self.counts_ + counts
        return self

    @property
    def edges_(self) -> np.ndarray:
        return np.linspace(self.low, self.high, self.bins + 1)

    @property
    def centres_(self) -> np.ndarray:
        edges = self.edges_
        return (edges[:-1] + edges[1:]) / 2


def gaussian(x, centre, sigma, amplitude):
    return amplitude * np.exp(-0.5 * ((x - centre) / sigma) ** 2)


MOST_BINS = 100  # the studies' bin count: what a large cloud gets
FEWEST_BINS = 10


def bins_for(n: int) -> int:
    """Histogram bins over the standardised range [-6, 6] for ``n`` points: the Freedman-Diaconis
    width 2 IQR n^(-1/3) of a Gaussian (IQR 1.349 sigma) gives 12 / (2.698 n^(-1/3)) = 4.45 n^(1/3)
    bins, between FEWEST_BINS and MOST_BINS: 21 for 100 points, 55 for 1,797, 100 from 11,300 on.
    More bins than that leave a few points a bin, and a half-width read off their spikes."""
    return int(np.clip(np.ceil(12 / (2 * 1.349) * n ** (1 / 3)), FEWEST_BINS, MOST_BINS))


def fwhm(centres: np.ndarray, counts: np.ndarray) -> float:
    """Full width at half maximum of a histogram, with linear interpolation at both edges."""
    peak = int(np.argmax(counts))
    half = counts[peak] / 2.0
    if counts[peak] == 0:
        return float("nan")
    left = peak
    while left > 0 and counts[left - 1] >= half:
        left -= 1
    right = peak
    while right < len(counts) - 1 and counts[right + 1] >= half:
        right += 1

    def crossing(inside: int, outside: int) -> float:
        if outside < 0 or outside >= len(counts):
            return centres[inside]
        y0, y1 = counts[outside], counts[inside]
        t = (half - y0) / (y1 - y0) if y1 != y0 else 0.5
        return centres[outside] + t * (centres[inside] - centres[outside])

    return float(crossing(right, right + 1) - crossing(left, left - 1))


def fit_gaussian(centres: np.ndarray, counts: np.ndarray, mean: float, std: float) -> dict[str, float]:
    """Least-squares Gaussian through a histogram: centre, sigma, amplitude and their errors."""
    guess = (mean, max(std, 1e-12), max(float(counts.max()), 1.0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, pcov = curve_fit(gaussian, centres, counts, p0=guess, maxfev=5000)
        errors = np.sqrt(np.clip(np.diag(pcov), 0, None))
        residual = float(np.sqrt(np.mean((gaussian(centres, *params) - counts) ** 2)) / max(counts.max(), 1))
    except (RuntimeError, ValueError):  # no convergence: report the moments, flag it
        params, errors, residual = np.array(guess), np.full(3, np.nan), float("nan")
    return {
        "centre": float(params[0]),
        "sigma": float(abs(params[1])),
        "amplitude": float(params[2]),
        "centre_err": float(errors[0]),
        "sigma_err": float(errors[1]),
        "amplitude_err": float(errors[2]),
        "rms_residual": residual,
    }


CENTRE_LIMITS = (0.25, 1.0)  # post II counts the components whose |centre| reaches these
WIDTH_LIMITS = (1.0, 1.5, 3.0)  # and those whose half-width (FWHM) reaches these
POST_II_CASE_II = {
    "centre": {"0.25": 25, "1": 10},
    "half_width": {"1": 40, "1.5": 20, "3": 5},
}  # its "at most", 256 dims


def component_counts(centres: np.ndarray, widths: np.ndarray) -> ComponentCounts:
    """Post II's table: how many components have a fitted centre |mu| >= 0.25 and >= 1, and a
    half-width >= 1, 1.5 and 3, beside the post's own upper bounds for its case II (256 dims)."""
    return {
        "dims": len(centres),
        "centre": {f"{v:g}": int((np.abs(centres) >= v).sum()) for v in CENTRE_LIMITS},
        "half_width": {f"{v:g}": int((widths >= v).sum()) for v in WIDTH_LIMITS},
        "post_ii_at_most": POST_II_CASE_II,
    }


def dominant_components(
    centres: np.ndarray, widths: np.ndarray, threshold: float = 3.5, errors: tuple[np.ndarray, np.ndarray] | None = None
) -> list[int]:
    """Components whose centre or width is far from the rest: a robust z-score over the
    median/MAD above ``threshold`` and, given the fits' standard ``errors`` (centre, width), a
    distance from the median of more than ``threshold`` of its own errors too (on 100 points the
    spread of the centres is mostly each fit's noise, and chance alone would flag some)."""

    def far(values: np.ndarray, error: np.ndarray | None) -> np.ndarray:
        median = np.median(values)
        mad = np.median(np.abs(values - median)) * 1.4826
        robust = np.abs(values - median) / mad if mad > 0 else np.zeros_like(values)
        beyond_noise = True if error is None else np.abs(values - median) > threshold * error
        return (robust > threshold) & beyond_noise

    centre_error, width_error = errors if errors is not None else (None, None)
    return np.flatnonzero(far(centres, centre_error) | far(widths, width_error)).tolist()


def pca_from_covariance(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of a covariance matrix."""
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    return np.clip(values[order], 0, None), vectors[:, order]


def max_offdiagonal_correlation(cov: np.ndarray, vectors: np.ndarray) -> float:
    """The largest |r| between two different coordinates after the transformation to ``vectors``
    (a PCA's axes): the correlation matrix of V^T C V off its diagonal, 0 for an exact PCA
    (post IX found all below 2e-7). Coordinates without variance count as uncorrelated."""
    c = vectors.T @ cov @ vectors
    d = np.sqrt(np.clip(np.diag(c), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.nan_to_num(c / np.outer(d, d), nan=0.0, posinf=0.0, neginf=0.0)
    np.fill_diagonal(r, 0.0)
    return float(np.abs(r).max()) if r.size else 0.0


def ellipse_points(mean: np.ndarray, cov2: np.ndarray, n_sigma: float, points: int = 200) -> np.ndarray:
    """(points, 2) outline of the n-sigma ellipse (Mahalanobis distance n) of a 2-D Gaussian."""
    values, vectors = np.linalg.eigh(cov2)
    t = np.linspace(0, 2 * np.pi, points)
    circle = np.stack([np.cos(t), np.sin(t)])
    return (vectors @ (np.sqrt(np.clip(values, 0, None))[:, None] * circle) * n_sigma).T + mean


def top_correlated_pairs(corr: np.ndarray, count: int = 10) -> list[tuple[int, int, float]]:
    upper = np.triu_indices_from(corr, k=1)
    values = corr[upper]
    order = np.argsort(-np.abs(values))[:count]
    return [(int(upper[0][i]), int(upper[1][i]), float(values[i])) for i in order]


SIGMAS = (1, 2, 3)  # the ellipses drawn and counted: 1, 2 and 3 sigma


def gaussian_ellipse_share(k: float) -> float:
    """The share of a 2-D Gaussian's mass inside its k-sigma ellipse: 1 - exp(-k^2 / 2)
    (39.35 %, 86.47 %, 98.89 % for k = 1, 2, 3; not the 1-D 68/95/99.7 %)."""
    return float(1.0 - np.exp(-k * k / 2.0))


def mahalanobis2(xy: np.ndarray, mean2: np.ndarray, cov2: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of each (x, y) row from a 2-D Gaussian: inside its k-sigma
    ellipse when <= k^2."""
    d = np.asarray(xy, np.float64) - mean2
    return np.einsum("ni,ij,nj->n", d, np.linalg.pinv(cov2), d)


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's score interval of a binomial share (95 % at z = 1.96): sound at 0 hits too,
    where the plain p +- z sqrt(p(1 - p) / n) collapses to [0, 0]."""
    if n <= 0:
        return (0.0, 1.0)
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def histogram_density(histogram: dict) -> tuple[np.ndarray, np.ndarray]:
    """A report's histogram (``edges``, ``counts``) as bin centres and a density (area 1)."""
    edges, counts = np.asarray(histogram["edges"]), np.asarray(histogram["counts"], float)
    return (edges[:-1] + edges[1:]) / 2, counts / max(counts.sum(), 1) / np.diff(edges)
