"""The numbers other latent-space tools report that the rest of analyze does not (issue 50):
arrays in, numbers out, on bounded samples.

- ``local_dimension``: the intrinsic dimension around each point from its k nearest
  neighbours (Levina & Bickel 2004, maximum likelihood; with MacKay & Ghahramani's k - 2, the
  estimate scikit-dimension's ``MLE(unbiased=True)`` gives per point).
- ``total_correlation``: the latents' Gaussian total correlation, -1/2 log det R (R their
  correlation matrix): 0 for independent components, a label-free measure of entanglement.
- ``memorization``: each generated image's distance to its nearest training image against the
  training images' own nearest-neighbour distances.
- ``traversal_order`` and ``traversal_points``: the latent dimensions in the order a traversal
  grid shows them, and the z-points of its rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TRAVERSAL_STEPS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)  # standard deviations from the data's mean


def neighbour_distances(points: np.ndarray, k: int) -> np.ndarray:
    """(n, k): each point's distances to its k nearest other points, ascending (scikit-learn's
    search, as ``holes.two_nn`` and ``holes.kth_neighbour_radii`` use it)."""
    from sklearn.neighbors import NearestNeighbors

    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return distances[:, 1:]


def local_dimension(points: np.ndarray, k: int = 20) -> np.ndarray:
    """Each point's intrinsic dimension from its ``k`` nearest neighbours' distances T_1 ... T_k:
    (k - 2) / sum_j log(T_k / T_j) (Levina & Bickel's maximum likelihood, MacKay & Ghahramani's
    unbiased k - 2). NaN where the neighbours are duplicates (a zero distance)."""
    if len(points) <= k:
        raise ValueError(f"{len(points)} points: local dimension with k = {k} needs more than k")
    distances = neighbour_distances(np.asarray(points, np.float64), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(distances[:, -1:] / distances).sum(axis=1)
        found = (k - 2) / logs
    found[~np.isfinite(found) | (distances[:, 0] <= 0)] = np.nan
    return found


def local_dimension_summary(dimensions: np.ndarray, k: int) -> dict[str, Any]:
    """The per-point dimensions' distribution: mean, median, 10th and 90th percentiles, the
    harmonic mean (scikit-dimension's "mle" combination) and a histogram."""
    kept = dimensions[np.isfinite(dimensions)]
    if len(kept) == 0:
        return {"k": k, "n": 0}
    counts, edges = np.histogram(kept, bins=30)
    return {
        "k": k,
        "n": int(len(kept)),
        "mean": float(kept.mean()),
        "median": float(np.median(kept)),
        "p10": float(np.quantile(kept, 0.1)),
        "p90": float(np.quantile(kept, 0.9)),
        "harmonic_mean": float(1 / np.mean(1 / kept)),
        "histogram": {"edges": edges.tolist(), "counts": counts.astype(int).tolist()},
    }


def total_correlation(cov: np.ndarray) -> dict[str, Any]:
    """The Gaussian total correlation of a covariance matrix: sum of the marginal entropies minus
    the joint's, 1/2 (sum log sigma_i^2 - log det cov) = -1/2 log det R, in nats. Components of
    zero variance carry no information and are left out; a singular R gives infinity."""
    cov = np.asarray(cov, np.float64)
    variances = np.diag(cov)
    keep = variances > 0
    if keep.sum() < 2:
        return {"gaussian": 0.0, "dims": int(keep.sum()), "per_dim": 0.0}
    sd = np.sqrt(variances[keep])
    corr = cov[np.ix_(keep, keep)] / np.outer(sd, sd)
    sign, logdet = np.linalg.slogdet(corr)
    value = float(-0.5 * logdet) if sign > 0 else float("inf")
    return {"gaussian": value, "dims": int(keep.sum()), "per_dim": value / int(keep.sum())}


def memorization(generated: np.ndarray, training: np.ndarray, shown: int = 8) -> dict[str, Any]:
    """Each generated image's distance to its nearest image of ``training`` (pixels, flattened),
    against the training images' own distances to their nearest other training image: the share
    of generated images nearer a training image than the training set's 5th percentile of those
    distances (``share``: about 0.05 for a generator that does not copy, 1 for copies) and than
    its median (``share_below_median``: about 0.5), and the index pairs (generated, training)
    nearest first (the ``shown`` nearest: ``pairs``, with their ``distances``)."""
    from sklearn.neighbors import NearestNeighbors

    train = np.asarray(training, np.float32).reshape(len(training), -1)
    made = np.asarray(generated, np.float32).reshape(len(generated), -1)
    if len(train) < 3 or len(made) < 1:
        raise ValueError(f"memorization needs 3 training images and 1 generated, got {len(train)}, {len(made)}")
    search = NearestNeighbors(n_neighbors=2).fit(train)
    own = search.kneighbors(train)[0][:, 1]  # the nearest other training image
    distances, nearest = search.kneighbors(made, n_neighbors=1)
    distances, nearest = distances[:, 0], nearest[:, 0]
    p5, median = float(np.quantile(own, 0.05)), float(np.median(own))
    order = np.argsort(distances, kind="stable")[:shown]
    return {
        "share": float(np.mean(distances < p5)),
        "share_below_median": float(np.mean(distances < median)),
        "training_p5": p5,
        "training_median": median,
        "generated_median": float(np.median(distances)),
        "median_ratio": float(np.median(distances) / median) if median > 0 else float("inf"),
        "pairs": [[int(i), int(nearest[i])] for i in order],
        "distances": [float(distances[i]) for i in order],
    }


def traversal_order(
    variances: np.ndarray, kl_per_dim: np.ndarray | None = None, rows: int = 8
) -> tuple[list[int], str]:
    """The ``rows`` dimensions a traversal grid shows, most first: by a VAE's KL per dimension
    where given, else by the latents' variance; and which of the two ordered them."""
    values, by = (np.asarray(kl_per_dim), "kl") if kl_per_dim is not None else (np.asarray(variances), "variance")
    order = np.argsort(-values, kind="stable")[: min(rows, len(values))]
    return [int(i) for i in order], by


def traversal_points(
    mean: np.ndarray, sd: np.ndarray, dims: list[int], steps: tuple[float, ...] = TRAVERSAL_STEPS
) -> np.ndarray:
    """(len(dims) * len(steps), D) z-points, row by row: the data's mean with one dimension moved
    by each step (in its standard deviations)."""
    mean, sd = np.asarray(mean, np.float64), np.asarray(sd, np.float64)
    points = np.repeat(mean[None], len(dims) * len(steps), axis=0)
    for r, dim in enumerate(dims):
        for c, step in enumerate(steps):
            points[r * len(steps) + c, dim] = mean[dim] + step * sd[dim]
    return points
