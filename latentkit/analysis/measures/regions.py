"""The data's region, measured: the fitted normal's ellipses over pairs of components or of
principal components (``Ellipse``: the points inside its 1, 2, 3 sigma ellipses, streamed), the
hit test in principal-component coordinates (``PcRegion``), and every generator's radii and
hit test at the studies' resolution (``generators_report``: ``hit_draws`` z-points streamed,
Wilson's interval beside each fraction). ``analyze`` feeds them its passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from latentkit.analysis.generators import LatentFit, generators_of
from latentkit.analysis.measures.hits import hit_counts, shell_hits
from latentkit.analysis.measures.stats import (
    FWHM_PER_SIGMA,
    SIGMAS,
    Moments,
    gaussian_ellipse_share,
    mahalanobis2,
    wilson_interval,
)

if TYPE_CHECKING:
    from latentkit.analysis.report.cloud_schema import EllipseShares, GeneratorRow

DEFAULT_PC_PAIRS = ((0, 1), (0, 2), (2, 5))  # PC0-PC1, PC0-PC2, PC2-PC5 (PC0 the largest)


@dataclass(frozen=True)
class PcRegion:
    """The hit test in principal-component coordinates: a point is inside at k when every PC
    coordinate lies within k half-widths of the data's (zero) centre there, the half-width of PC
    i being a Gaussian's, 2.3548 sqrt(eigenvalue i)."""

    mean: np.ndarray
    eigenvalues: np.ndarray
    axes: np.ndarray

    def hits(self, z: np.ndarray, ks) -> np.ndarray:
        widths = FWHM_PER_SIGMA * np.sqrt(np.clip(self.eigenvalues, 1e-24, None))
        return hit_counts((z - self.mean) @ self.axes, _Box(np.zeros(len(widths)), widths), ks)


@dataclass(frozen=True)
class _Box:
    """A centre and half-widths: what ``measures.hits.hit_counts`` reads of a fit."""

    centre: np.ndarray
    fwhm: np.ndarray


@dataclass
class Ellipse:
    """A pair of coordinates (two components, or two principal components) with the fitted
    normal's 2-D marginal there; counts, streamed, the points inside its 1, 2, 3 sigma ellipses."""

    pair: tuple[int, int]
    mean: np.ndarray  # (2,)
    cov: np.ndarray  # (2, 2)
    axes: np.ndarray | None = None  # (d, 2) principal axes for a PC pair; None: the components themselves
    centre: np.ndarray | None = None  # what the PC projection subtracts
    inside: np.ndarray = field(default_factory=lambda: np.zeros(len(SIGMAS), np.int64))
    n: int = 0

    @classmethod
    def of_components(cls, pair: tuple[int, int], moments: Moments) -> Ellipse:
        i, j = pair
        return cls(pair, moments.mean_[[i, j]], moments.cov_[np.ix_([i, j], [i, j])])

    @classmethod
    def of_pcs(
        cls, pair: tuple[int, int], mean: np.ndarray, eigenvalues: np.ndarray, eigenvectors: np.ndarray
    ) -> Ellipse:
        a, b = pair
        return cls(pair, np.zeros(2), np.diag(np.clip(eigenvalues[[a, b]], 0, None)), eigenvectors[:, [a, b]], mean)

    def project(self, block: np.ndarray) -> np.ndarray:
        if self.axes is None:
            return block[:, list(self.pair)]
        return (block - self.centre) @ self.axes

    def partial_fit(self, block: np.ndarray) -> None:
        distance = mahalanobis2(self.project(block), self.mean, self.cov)
        self.inside += [int((distance <= k * k).sum()) for k in SIGMAS]
        self.n += len(block)

    def result(self) -> EllipseShares:
        scale = np.sqrt(self.cov[0, 0] * self.cov[1, 1])
        return {
            "pair": list(self.pair),
            "r": float(self.cov[0, 1] / scale) if scale > 0 else 0.0,
            "fraction_inside": {str(k): float(c / max(self.n, 1)) for k, c in zip(SIGMAS, self.inside)},
            "gaussian": {str(k): gaussian_ellipse_share(k) for k in SIGMAS},
            "n": self.n,
        }


def generators_report(fit: LatentFit, options, rng, pc_region: PcRegion) -> list[GeneratorRow]:
    """report.json's ``generators``: each generator's radii and its hit tests (the box, in PC
    coordinates, and the data's shell where the fit holds one)."""
    rows: list[GeneratorRow] = []
    for index, generator in enumerate(generators_of(fit, options.uniform_bs)):
        z = generator.sample(rng, options.generator_samples, fit)
        hits, shell, drawn = _hit_test(generator, z, fit, options, np.random.default_rng([options.seed, 7, index]))
        r = np.sqrt((z * z).sum(axis=1))
        expected_mean, expected_std = generator.expected_radius(fit)
        row: GeneratorRow = {
            "name": generator.name,
            "method": generator.method,
            "params": generator.params,
            "samples": options.generator_samples,
            "radius_mean": float(r.mean()),
            "radius_std": float(r.std()),
            "expected_radius_mean": expected_mean,
            "expected_radius_std": expected_std,
            "hit_fraction": {f"{k:g}": float(h / drawn) for k, h in zip(options.ks, hits)},
            "hit_interval": {f"{k:g}": list(wilson_interval(int(h), drawn)) for k, h in zip(options.ks, hits)},
            "hit_draws": drawn,
            "shell_fraction": shell / drawn,
            "shell_interval": list(wilson_interval(shell, drawn)),
            "pc_hit_fraction": {f"{k:g}": float(h / len(z)) for k, h in zip(options.ks, pc_region.hits(z, options.ks))},
            "radii": np.histogram(r, bins=60)[0].tolist(),
            "radii_range": [float(r.min()), float(r.max())],
        }
        if fit.shell is None:  # no shell of the data's to land in: no share of it
            del row["shell_fraction"], row["shell_interval"]
        rows.append(row)
    return rows


def _hit_test(generator, first: np.ndarray, fit: LatentFit, options, rng) -> tuple[np.ndarray, int, int]:
    """Hits per k and hits of the data's shell (0 without one) over ``options.hit_draws``
    z-points: ``first`` and then batches of ``generator_samples`` drawn from ``rng`` (its own
    stream: the other draws stay as they were), so memory holds one batch whatever the count."""
    hits, shell, drawn = np.zeros(len(options.ks), np.int64), 0, 0
    batch = first
    while True:
        hits, drawn = hits + hit_counts(batch, fit, options.ks), drawn + len(batch)
        shell += shell_hits(batch, fit) if fit.shell is not None else 0
        if drawn >= options.hit_draws:
            return hits, shell, drawn
        batch = generator.sample(rng, min(options.generator_samples, options.hit_draws - drawn), fit)
