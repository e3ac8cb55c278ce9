"""Structure at small scales: nearest-neighbour distances of the data against fitted generators.

A cloud that is one smooth blob has the same nearest-neighbour distances as an equal number
of points drawn from the normal fitted to it. A cloud made of filaments or fragments has
much shorter ones: its points crowd along thin structures the normal smears out. Equal
counts matter (the distance scales with the density), so every set has ``n`` points; memory
holds three such sets, whatever the size of the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentkit.analysis.generators import FittedMixture, FittedNormal, LatentFit

if TYPE_CHECKING:
    from latentkit.analysis.report.cloud_schema import Neighbours, NeighbourSet

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def nn_distances(points: np.ndarray) -> np.ndarray:
    """Each point's distance to its nearest other point in the same set."""
    from sklearn.neighbors import NearestNeighbors

    points = np.asarray(points, np.float64)
    distances, _ = NearestNeighbors(n_neighbors=2).fit(points).kneighbors(points)
    return distances[:, 1]


def neighbours_report(data: np.ndarray, fit: LatentFit, rng: np.random.Generator, *, bins: int = 60) -> Neighbours:
    """Nearest-neighbour distances of ``data`` and of as many points from the fitted normal (and mixture).

    Per set: quantiles, mean and a histogram on common log-spaced bins; per generator the
    ratio of medians (data / generator: well below 1 means filaments or fragments) and the
    two-sample Kolmogorov-Smirnov statistic against the data.
    """
    from scipy.stats import ks_2samp

    n = len(data)
    sets = {"data": nn_distances(data), "multivariate normal": nn_distances(FittedNormal().sample(rng, n, fit))}
    if fit.mixture is not None:
        sets["gaussian mixture"] = nn_distances(FittedMixture().sample(rng, n, fit))
    everything = np.concatenate(list(sets.values()))
    positive = everything[everything > 0]
    low, high = (positive.min(), everything.max()) if len(positive) else (1e-12, 1.0)
    edges = np.geomspace(low, high * (1 + 1e-9), bins + 1)
    report: Neighbours = {"points": n, "edges": edges.tolist(), "sets": {}}
    for name, d in sets.items():
        row: NeighbourSet = {
            "mean": float(d.mean()),
            "quantiles": {f"{q:g}": float(np.quantile(d, q)) for q in QUANTILES},
            "counts": np.histogram(d, edges)[0].tolist(),
        }
        if name != "data":
            ks = ks_2samp(sets["data"], d)
            row["median_ratio"] = float(np.median(sets["data"]) / max(np.median(d), 1e-300))
            row["ks_statistic"] = float(ks.statistic)
            row["ks_pvalue"] = float(ks.pvalue)
        report["sets"][name] = row
    return report
