"""Post IX's study: the cloud trimmed at factors f, the PCA of each trimmed cloud, and its view
in chosen pairs of principal components.

A point is trimmed at f when any component lies beyond f half-widths (FWHM) of that
component's fitted centre, the post's ``z_j < mu_j - fact * FWHM or z_j > mu_j + fact * FWHM``
(the hit test's region at k = f). For each f the PCA is done again on the points kept: on all of
them (their moments streamed in analyze's third pass), or, with ``pca_sample`` N, on a random N
of them, as the post did on 80,000. Then a fourth pass projects every kept point on that PCA's
own axes, centred at the kept points' mean, and counts, per ``--pc-pairs`` pair, the share inside
the 1, 2, 3 sigma ellipses (``regions.Ellipse``: 39.35, 86.47, 98.89 % for a Gaussian), each PC's
histogram (for a Gaussian fit) and a random sample of points for the scatter and the kernel
density contours. Memory: the factors' PCA samples (f x N x D float32) and a D x D moments per
factor, whatever the number of points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.hits import region_distance
from latentkit.analysis.measures.regions import Ellipse
from latentkit.analysis.measures.stats import Histograms, Moments, fit_gaussian, fwhm, pca_from_covariance

if TYPE_CHECKING:
    from latentkit.analysis.report.cloud_schema import PcFit, Trimmed

SCATTER_POINTS = 10_000  # per factor and pair: the scatter and the kernel density of the figure


class Keep:
    """At most ``limit`` of the rows offered, the ones with the smallest random keys: a uniform
    random subset whatever the order and the block sizes (the keys come with the rows)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.keys = np.empty(0)
        self.rows: np.ndarray | None = None

    def add(self, rows: np.ndarray, keys: np.ndarray) -> None:
        self.rows = rows if self.rows is None else np.concatenate([self.rows, rows])
        self.keys = np.concatenate([self.keys, keys])
        if len(self.keys) > self.limit:
            keep = np.argpartition(self.keys, self.limit)[: self.limit]
            self.keys, self.rows = self.keys[keep], self.rows[keep]


def row_keys(seed: int, start: int, count: int) -> np.ndarray:
    """The random key of rows ``start .. start + count``: the same for a row whatever the block."""
    return np.random.default_rng([seed, 45, start]).random(count)


class TrimmedPca:
    """One factor's cloud: its moments over every kept point (pass 3) and, with a ``pca_sample``,
    a random subset of the kept points; then its PCA and the view in PC pairs (pass 4)."""

    def __init__(self, fact: float, pca_sample: int) -> None:
        self.fact, self.pca_sample = fact, pca_sample
        self.moments = Moments()
        self.sample = Keep(pca_sample) if pca_sample else None

    @property
    def kept(self) -> int:
        return int(getattr(self.moments, "n_", 0))

    def partial_fit(self, kept: np.ndarray, keys: np.ndarray) -> None:
        """Pass 3: the rows kept at this factor and their random keys."""
        self.moments.partial_fit(kept)
        if self.sample is not None:
            self.sample.add(kept.astype(np.float32), keys)

    def solve(self) -> None:
        """The PCA of the trimmed cloud (all of it, or its sample) and its centre."""
        self.pca_points: int
        self.mean: np.ndarray | None
        self.eigenvalues: np.ndarray | None
        self.eigenvectors: np.ndarray | None
        if self.sample is not None and self.sample.rows is not None and len(self.sample.rows) > 1:
            points = Moments().fit(self.sample.rows)
            self.pca_points = len(self.sample.rows)
            self.sample = None  # its memory back before pass 4
        else:
            points, self.pca_points = self.moments, self.kept
        self.mean = points.mean_ if self.pca_points else None
        self.eigenvalues, self.eigenvectors = pca_from_covariance(points.cov_) if self.pca_points > 1 else (None, None)

    @property
    def viewable(self) -> bool:
        return self.eigenvalues is not None

    def start_view(self, pairs, pcs, bins: int) -> None:
        """Pass 4's accumulators: the ellipses of ``pairs`` and the histograms of ``pcs`` in this PCA."""
        assert self.eigenvalues is not None and self.eigenvectors is not None and self.mean is not None, "not viewable"
        self.pairs, self.pcs = list(pairs), list(pcs)
        self.ellipses = [Ellipse.of_pcs(pair, self.mean, self.eigenvalues, self.eigenvectors) for pair in self.pairs]
        self.scale = np.sqrt(np.where(self.eigenvalues[self.pcs] > 0, self.eigenvalues[self.pcs], 1.0))
        self.histograms = Histograms(-6.0, 6.0, bins)
        self.points = Keep(SCATTER_POINTS)

    def view(self, kept: np.ndarray, keys: np.ndarray) -> None:
        """Pass 4: the rows kept at this factor, on this factor's own principal axes."""
        if not len(kept):
            return
        assert self.eigenvectors is not None and self.mean is not None, "view before start_view"
        projected = (kept - self.mean) @ self.eigenvectors[:, self.pcs]
        for ellipse in self.ellipses:
            ellipse.partial_fit(kept)
        self.histograms.partial_fit(projected / self.scale)
        self.points.add(projected.astype(np.float32), keys)

    def result(self, n: int) -> Trimmed:
        """report.json's ``pca.trimmed[]`` entry."""
        values = self.eigenvalues if self.eigenvalues is not None else np.zeros(0)  # self.viewable
        found: Trimmed = {
            "fact": float(self.fact),
            "kept": self.kept,
            "kept_fraction": self.kept / max(n, 1),
            "pca_points": int(self.pca_points),
            "explained_variance_ratio": (values / values.sum()).tolist() if values.sum() > 0 else [],
        }
        if self.viewable and hasattr(self, "ellipses"):
            found["ellipses"] = [e.result() for e in self.ellipses]
            pc_fits: list[PcFit] = []
            for i, pc in enumerate(self.pcs):
                counts = self.histograms.counts_[i] if hasattr(self.histograms, "counts_") else np.zeros(1)
                g = fit_gaussian(self.histograms.centres_, counts, 0.0, 1.0) if counts.sum() else {}
                pc_fits.append(
                    {
                        "pc": int(pc),
                        "centre": float(g.get("centre", 0.0) * self.scale[i]),
                        "sigma": float(g.get("sigma", 0.0) * self.scale[i]),
                        "fwhm": float(fwhm(self.histograms.centres_, counts) * self.scale[i]) if counts.sum() else 0.0,
                    }
                )
            found["pc_fits"] = pc_fits
        return found


def start_trims(facts, pca_sample: int) -> list[TrimmedPca]:
    return [TrimmedPca(f, pca_sample) for f in facts]


def feed_trims(trims: list[TrimmedPca], block: np.ndarray, worst: np.ndarray, keys: np.ndarray) -> None:
    """Pass 3: each factor's rows of ``block`` (``worst``: each row's region distance, in half-widths)."""
    for trim in trims:
        kept = worst <= trim.fact
        trim.partial_fit(block[kept], keys[kept])


def view_pass(trims: list[TrimmedPca], blocks, fit: LatentFit, pairs, *, bins: int, seed: int, advance) -> None:
    """Pass 4: every factor's kept rows on its own principal axes (``blocks``: (start, rows) of
    the usable rows, as pass 3 read them)."""
    pcs = sorted({p for pair in pairs for p in pair})
    views = [t for t in trims if t.viewable]
    for trim in views:
        trim.start_view(pairs, pcs, bins)
    for start, block, read in blocks:
        worst = region_distance(block, fit)
        keys = row_keys(seed, start, len(block))
        for trim in views:
            kept = worst <= trim.fact
            trim.view(block[kept], keys[kept])
        advance(read)


def projected_points(trim: TrimmedPca, pair) -> np.ndarray:
    """The figure's points of ``pair`` (two PCs of the view) from the factor's random sample."""
    a, b = (trim.pcs.index(p) for p in pair)
    rows = trim.points.rows if trim.points.rows is not None else np.zeros((0, len(trim.pcs)), np.float32)
    return rows[:, [a, b]].astype(np.float64)
