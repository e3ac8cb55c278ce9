"""Prior mismatch in numbers: how far each generator's z-points (and N(0, I)) are from the
data's, as a two-sample test, and, for a VAE, what its posterior carries.

- ``mmd``: the unbiased MMD^2 between two samples with a Gaussian kernel whose bandwidth is the
  median pairwise distance of the pooled sample (the median heuristic), and a permutation
  p-value (Gretton et al. 2012). Each permutation is one matrix product with the kernel
  matrix, so a few hundred cost about as much as the kernel itself; equal sample sizes.
- ``VaeInformation``: the mutual information I(x; z) and the aggregate KL(q(z) || p(z)) of a
  VAE, estimated from mu and log-variance on a sample (the aggregate posterior q(z) is the
  mean of the sample's q(z|x_j)). They add up to the mean KL term E_x KL(q(z|x) || N(0, I))
  (Hoffman & Johnson 2016), which ``VaeInformation`` also reports as a check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentkit.analysis.generators.kernel import kernel_of

if TYPE_CHECKING:
    from latentkit.analysis.report.quality_schema import Mmd

PERMUTATIONS = 200
LOG_2PI = np.log(2 * np.pi)


def _squared_distances(points: np.ndarray) -> np.ndarray:
    squared = (points * points).sum(axis=1)
    return np.maximum(squared[:, None] + squared[None, :] - 2.0 * points @ points.T, 0.0)


def _median_of(squared_pairs: np.ndarray) -> float:
    """The median heuristic: the median pairwise distance (1 where every point is the same)."""
    return float(np.sqrt(np.median(squared_pairs))) or 1.0


def median_bandwidth(points: np.ndarray, rng: np.random.Generator, most: int = 2000) -> float:
    """``mmd``'s bandwidth for pooled ``points``: the median pairwise distance, of a random ``most`` of them."""
    points = np.asarray(points, np.float64)
    if len(points) > most:
        points = points[rng.choice(len(points), size=most, replace=False)]
    return _median_of(_squared_distances(points)[np.triu_indices(len(points), k=1)])


def mmd(x: np.ndarray, y: np.ndarray, *, permutations: int = PERMUTATIONS, seed: int = 0) -> Mmd:
    """Unbiased MMD^2 of two equal-size samples (Gaussian kernel, median-heuristic bandwidth)
    and its permutation p-value: (1 + permutations at least as large) / (1 + permutations)."""
    n = min(len(x), len(y))
    pooled = np.concatenate([np.asarray(x[:n], np.float64), np.asarray(y[:n], np.float64)])
    distances = _squared_distances(pooled)
    off = distances[np.triu_indices(2 * n, k=1)]
    bandwidth = _median_of(off)
    kernel = kernel_of(distances, bandwidth)
    np.fill_diagonal(kernel, 0.0)
    total = kernel.sum()

    def statistic(in_y: np.ndarray) -> np.ndarray:
        """MMD^2 for each column of ``in_y`` (the indicator of the second sample's rows)."""
        in_x = 1.0 - in_y
        cross = np.einsum("ib,ib->b", in_x, kernel @ in_y)
        return (total - 2.0 * cross) / (n * (n - 1)) - 2.0 * cross / (n * n)

    observed = float(statistic(np.repeat([0.0, 1.0], n)[:, None])[0])
    rng = np.random.default_rng(seed)
    shuffled = np.stack([rng.permutation(2 * n) >= n for _ in range(permutations)], axis=1).astype(np.float64)
    null = statistic(shuffled)
    p_value = float((1 + np.sum(null >= observed)) / (1 + permutations))
    return {"mmd2": observed, "p_value": p_value, "bandwidth": bandwidth, "n": n, "permutations": permutations}


def _log_normal(z: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """log N(z_i; mu_j, diag exp(logvar_j)) for every pair (i, j): (len(z), len(mu))."""
    inv = np.exp(-logvar)  # (m, d)
    quadratic = (z * z) @ inv.T - 2.0 * z @ (mu * inv).T + ((mu * mu) * inv).sum(axis=1)[None, :]
    return -0.5 * (quadratic + logvar.sum(axis=1)[None, :] + z.shape[1] * LOG_2PI)


def vae_information(mu: np.ndarray, logvar: np.ndarray, *, seed: int = 0, block: int = 500) -> dict[str, float]:
    """I(x; z), KL(q(z) || N(0, I)) and the mean KL term, in nats, from a sample of a VAE's
    posteriors (rows of ``mu``, ``logvar``): z_i ~ q(z|x_i); log q(z_i) = logmeanexp_j log q(z_i|x_j)."""
    from scipy.special import logsumexp

    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    m, d = mu.shape
    rng = np.random.default_rng(seed)
    z = mu + np.exp(logvar / 2) * rng.standard_normal(mu.shape)
    own = -0.5 * ((((z - mu) ** 2) * np.exp(-logvar)).sum(axis=1) + logvar.sum(axis=1) + d * LOG_2PI)
    aggregate = np.concatenate(
        [logsumexp(_log_normal(z[i : i + block], mu, logvar), axis=1) - np.log(m) for i in range(0, m, block)]
    )
    prior = -0.5 * ((z * z).sum(axis=1) + d * LOG_2PI)
    kl_term = float(np.mean(0.5 * (mu * mu + np.exp(logvar) - 1.0 - logvar).sum(axis=1)))
    return {
        "mutual_information": float(np.mean(own - aggregate)),
        "aggregate_kl": float(np.mean(aggregate - prior)),
        "kl_term": kl_term,
        "log_m": float(np.log(m)),
        "n": m,
    }
