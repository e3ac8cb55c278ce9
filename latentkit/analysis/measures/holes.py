"""Where the holes are: how much of the data a generator covers, which generated points fall
between the data's filaments, how fragmented the cloud is, and whether a VAE's dimensions live.

Everything here needs no downloaded weights (FID would need InceptionV3's) and works on
bounded samples, so memory does not grow with the run:

- ``prdc``: precision, recall, density and coverage (Naeem et al. 2020) of generated z-points
  against the data's, from k-nearest-neighbour balls, on equal sample sizes; distances go
  through scikit-learn's chunked pairwise search, so memory stays at a block of rows.
- ``reencoding_distances``: ||E(D(z)) - z|| — a z-point in a hole decodes to something the
  encoder puts elsewhere; measured against the data's own ||E(D(E(x))) - E(x)||
  (``decoded_and_reencoded`` gives the images too).
- ``fragments``: connected components of the k-NN graph, HDBSCAN's noise fraction.
- ``two_nn``: the TwoNN intrinsic dimension (Facco et al. 2017).
- ``ssim``: structural similarity as scikit-image computes it (7x7 window, sample covariance),
  vectorised over a batch of images; ``ReconstructionQuality`` streams MSE, PSNR and SSIM.
- ``VaeHealthStream``: KL per dimension and active units (Var_x E[z|x] > 0.01), streamed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from latentkit.model.sampling import EPS_CLIP

if TYPE_CHECKING:
    from latentkit.analysis.report.quality_schema import Fragments, Prdc, Reconstruction, VaeHealth

ACTIVE_VARIANCE = 0.01  # a dimension whose posterior mean varies less over the data is inactive
LOGVAR_HIGH = -3.0  # post XIII: a tiny-KL VAE had only a few log-variances at or above this
GAP = 0.05  # post XIII: |z - mu| above this counts as a significant deviation


# -- coverage of generators ---------------------------------------------------------------


def kth_neighbour_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Each point's distance to its k-th nearest other point of the same set."""
    from sklearn.neighbors import NearestNeighbors

    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return distances[:, k]


def prdc(
    real: np.ndarray, fake: np.ndarray, k: int = 5, working_memory: int = 64, real_radii: np.ndarray | None = None
) -> Prdc:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (Naeem et al. 2020).

    precision: share of fakes inside some real point's k-NN ball; recall: share of reals inside
    some fake's ball; density: balls of real points holding each fake, / k, averaged; coverage:
    share of real points whose ball holds a fake. ``working_memory``: MB per block of distances.
    ``real_radii``: ``kth_neighbour_radii(real, k)`` when already known (one data set against
    many generators needs them once).
    """
    from sklearn.metrics import pairwise_distances_chunked

    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    real_radii = kth_neighbour_radii(real, k) if real_radii is None else real_radii
    fake_radii = kth_neighbour_radii(fake, k)
    inside_real = np.zeros(len(fake), np.int64)  # per fake: real balls holding it
    covered = np.zeros(len(real), bool)  # per real: a fake in its ball
    recalled = np.zeros(len(real), bool)  # per real: inside some fake's ball
    start = 0  # one pass over the (fake, real) distances serves all four
    for block in pairwise_distances_chunked(fake, real, working_memory=working_memory):
        holds = block <= real_radii[None, :]  # (fakes in block, reals)
        inside_real[start : start + len(block)] = holds.sum(axis=1)
        covered |= holds.any(axis=0)
        recalled |= (block <= fake_radii[start : start + len(block), None]).any(axis=0)
        start += len(block)
    return {
        "precision": float((inside_real > 0).mean()),
        "recall": float(recalled.mean()),
        "density": float(inside_real.sum() / (k * len(fake))),
        "coverage": float(covered.mean()),
    }


# -- holes, found by the model itself ----------------------------------------------------


def reencoding_distances(
    z: np.ndarray,
    decode: Callable[[np.ndarray], np.ndarray],
    encode: Callable[[np.ndarray], np.ndarray],
    batch: int = 256,
) -> np.ndarray:
    """||E(D(z)) - z|| per z-point, decoded and encoded again ``batch`` points at a time."""
    out = np.empty(len(z))
    for start in range(0, len(z), batch):
        part = np.asarray(z[start : start + batch], np.float32)
        out[start : start + len(part)] = decoded_and_reencoded(part, decode, encode)[1]
    return out


def decoded_and_reencoded(
    z: np.ndarray, decode: Callable[[np.ndarray], np.ndarray], encode: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The images D(z) and ||E(D(z)) - z|| of z-points, in one call each: for a caller that
    shows the images it measures (the lattice, the explorer)."""
    images = decode(z)
    again = np.asarray(encode(images), np.float64)
    return images, np.linalg.norm(again - np.asarray(z, np.float64), axis=1)


def summary(values: np.ndarray) -> dict[str, float]:
    return {"median": float(np.median(values)), "p90": float(np.quantile(values, 0.9)), "mean": float(values.mean())}


# -- fragments and intrinsic dimension -------------------------------------------------


def fragments(points: np.ndarray, k: int = 5, min_cluster_size: int | None = None) -> Fragments:
    """Connected components of the symmetric k-NN graph (and the largest one's share of the
    points), and the share of points HDBSCAN leaves as noise (with its cluster count)."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.cluster import HDBSCAN
    from sklearn.neighbors import kneighbors_graph

    points = np.asarray(points, np.float64)
    graph = kneighbors_graph(points, n_neighbors=k, include_self=False)
    count, labels = connected_components(graph, directed=False)
    largest = np.bincount(labels).max() / len(points)
    size = min_cluster_size or max(5, len(points) // 100)
    clusters = HDBSCAN(min_cluster_size=size, copy=True).fit_predict(points)
    return {
        "knn_components": int(count),
        "largest_component_fraction": float(largest),
        "hdbscan_noise_fraction": float((clusters < 0).mean()),
        "hdbscan_clusters": int(clusters.max() + 1),
        "hdbscan_min_cluster_size": size,
        "k": k,
        "n": len(points),
    }


def two_nn(points: np.ndarray) -> float:
    """TwoNN intrinsic dimension: the maximum-likelihood d = N / sum(log(r2 / r1)) over the points
    whose first neighbour is not a duplicate (Facco et al. 2017)."""
    from sklearn.neighbors import NearestNeighbors

    distances, _ = NearestNeighbors(n_neighbors=3).fit(points).kneighbors(points)
    r1, r2 = distances[:, 1], distances[:, 2]
    keep = r1 > 0
    ratios = np.log(r2[keep] / r1[keep])
    return float(keep.sum() / ratios.sum()) if ratios.sum() > 0 else float("nan")


# -- reconstruction quality ---------------------------------------------------------------


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, window: int = 7) -> np.ndarray:
    """Per-image SSIM of two batches (N, H, W, C) as ``skimage.metrics.structural_similarity(...,
    channel_axis=-1, data_range=...)`` computes it: a uniform window, sample covariances, the
    mean over the valid interior of each channel, then over channels."""
    from scipy.ndimage import uniform_filter

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    size = (1, window, window, 1)
    pixels = window * window
    cov_norm = pixels / (pixels - 1)
    ux, uy = uniform_filter(a, size), uniform_filter(b, size)
    uxx, uyy, uxy = uniform_filter(a * a, size), uniform_filter(b * b, size), uniform_filter(a * b, size)
    vx, vy, vxy = cov_norm * (uxx - ux * ux), cov_norm * (uyy - uy * uy), cov_norm * (uxy - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (window - 1) // 2
    return s[:, pad:-pad, pad:-pad, :].mean(axis=(1, 2)).mean(axis=-1)


class ReconstructionQuality:
    """MSE, PSNR and SSIM of reconstructions, accumulated batch by batch (pixels in [0, 1]), and
    the ``worst`` reconstructions seen (by MSE) kept for a figure."""

    def __init__(self, worst: int = 8):
        self.n, self.mse_sum, self.psnr_sum, self.ssim_sum = 0, 0.0, 0.0, 0.0
        self.keep, self._tie = worst, 0
        self._worst: list[tuple[float, int, int, np.ndarray, np.ndarray]] = []  # a min-heap by MSE

    def update(self, rows: np.ndarray, originals: np.ndarray, rebuilt: np.ndarray) -> None:
        originals, rebuilt = np.asarray(originals, np.float64), np.clip(np.asarray(rebuilt, np.float64), 0, 1)
        mse = ((originals - rebuilt) ** 2).mean(axis=(1, 2, 3))
        self.n += len(mse)
        self.mse_sum += float(mse.sum())
        self.psnr_sum += float((10 * np.log10(1.0 / np.maximum(mse, 1e-10))).sum())
        self.ssim_sum += float(ssim(originals, rebuilt).sum())
        for i in np.argsort(mse)[::-1][: self.keep]:
            self._tie += 1
            item = (
                float(mse[i]),
                self._tie,
                int(rows[i]),
                originals[i].astype(np.float32),
                rebuilt[i].astype(np.float32),
            )
            if len(self._worst) < self.keep:
                heapq.heappush(self._worst, item)
            elif item[0] > self._worst[0][0]:
                heapq.heapreplace(self._worst, item)

    def result(self) -> Reconstruction:
        """Means over the images: ``psnr`` is the mean of per-image PSNRs (dB, peak 1)."""
        n = max(self.n, 1)
        return {"mse": self.mse_sum / n, "psnr": self.psnr_sum / n, "ssim": self.ssim_sum / n, "n": self.n}

    def worst(self) -> list[tuple[float, int, np.ndarray, np.ndarray]]:
        """(mse, row, original, reconstruction), worst first."""
        return [(m, row, x, y) for m, _, row, x, y in sorted(self._worst, key=lambda item: -item[0])]


# -- VAE health ------------------------------------------------------------------------


class VaeHealthStream:
    """KL(q(z|x) || N(0, I)) per dimension and the variance of the posterior means; the VAE's
    internals: log-variance per dimension (min, max, mean), |z - mu| and the radius of z against
    the radius of mu (when the latents hold the z drawn). Streamed."""

    def __init__(self, dim: int, eps_factor: float | None = None):
        self.eps_factor = (
            eps_factor  # the encode's (latents.zarr attrs): clipped noise shows as |z - mu| = 5 sigma x it
        )
        self.n, self.kl = 0, np.zeros(dim)
        self.sum, self.sum_sq = np.zeros(dim), np.zeros(dim)
        self.shift: np.ndarray | None = None  # first block's mean: a stable variance by shifted sums
        self.logvar_min, self.logvar_max = np.full(dim, np.inf), np.full(dim, -np.inf)
        self.logvar_sum = np.zeros(dim)
        self.logvar_high = 0  # values >= -3: post XIII counted the few of a tiny-KL VAE above that
        self.with_z = 0  # rows whose z was given
        self.gap_abs, self.gap_sq, self.gap_max = 0.0, 0.0, 0.0  # |z - mu| over every value
        self.gap_over, self.clipped = 0, 0  # values with |z - mu| > GAP (post XIII); noise values at the clip
        self.radius = {"mu": np.zeros(2), "z": np.zeros(2)}  # sum and sum of squares of the rows' radii
        self.radius_range = {"mu": [np.inf, -np.inf], "z": [np.inf, -np.inf]}
        self.radius_gap = np.zeros(4)  # |r_z - r_mu|: sum, max; relative to r_mu: sum, max

    def update(self, mu: np.ndarray, logvar: np.ndarray, z: np.ndarray | None = None) -> None:
        mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
        if len(mu) == 0:
            return
        if self.shift is None:
            self.shift = mu.mean(axis=0)
        self.n += len(mu)
        self.kl += (0.5 * (mu * mu + np.exp(logvar) - 1.0 - logvar)).sum(axis=0)
        centred = mu - self.shift
        self.sum += centred.sum(axis=0)
        self.sum_sq += (centred * centred).sum(axis=0)
        self.logvar_min = np.minimum(self.logvar_min, logvar.min(axis=0))
        self.logvar_max = np.maximum(self.logvar_max, logvar.max(axis=0))
        self.logvar_sum += logvar.sum(axis=0)
        self.logvar_high += int((logvar >= LOGVAR_HIGH).sum())
        if z is not None:
            z = np.asarray(z, np.float64)
            gap = np.abs(z - mu)
            self.with_z += len(z)
            self.gap_abs += float(gap.sum())
            self.gap_sq += float((gap * gap).sum())
            self.gap_max = max(self.gap_max, float(gap.max()))
            self.gap_over += int((gap > GAP).sum())
            if self.eps_factor:
                self.clipped += int((gap >= EPS_CLIP * self.eps_factor * np.exp(logvar / 2) * (1 - 1e-4)).sum())
            radii = {}
            for name, values in (("mu", mu), ("z", z)):
                r = radii[name] = np.sqrt((values * values).sum(axis=1))
                self.radius[name] += [r.sum(), (r * r).sum()]
                low, high = self.radius_range[name]
                self.radius_range[name] = [min(low, float(r.min())), max(high, float(r.max()))]
            diff = np.abs(radii["z"] - radii["mu"])
            relative = diff / np.where(radii["mu"] > 0, radii["mu"], np.inf)
            self.radius_gap += [diff.sum(), 0.0, relative.sum(), 0.0]
            self.radius_gap[[1, 3]] = np.maximum(self.radius_gap[[1, 3]], [diff.max(), relative.max()])

    def internals(self, found: VaeHealth) -> None:
        """Adds to ``found`` the log-variance per dimension; with z: |z - mu| (mean, RMS, max over
        every value) and the radius of z against the radius of mu (mean, std over the rows)."""
        n = max(self.n, 1)
        found["logvar"] = {
            "min": self.logvar_min.tolist(),
            "max": self.logvar_max.tolist(),
            "mean": (self.logvar_sum / n).tolist(),
        }
        found["logvar_values"] = {
            "min": float(self.logvar_min.min()),
            "max": float(self.logvar_max.max()),
            "mean": float(self.logvar_sum.sum() / (n * len(self.kl))),
            "at_least_minus_3": self.logvar_high,
            "values": self.n * len(self.kl),
        }
        if self.with_z:
            values = self.with_z * len(self.kl)
            found["z_minus_mu"] = {
                "mean_abs": self.gap_abs / values,
                "rms": float(np.sqrt(self.gap_sq / values)),
                "max_abs": self.gap_max,
                "above_0.05": self.gap_over,
                "values": values,
            }
            found["radius"] = {
                name: {
                    "mean": float(s / self.with_z),
                    "std": float(np.sqrt(max(sq / self.with_z - (s / self.with_z) ** 2, 0.0))),
                    "min": self.radius_range[name][0],
                    "max": self.radius_range[name][1],
                }
                for name, (s, sq) in self.radius.items()
            }
            found["radius"]["difference"] = {
                "mean_abs": float(self.radius_gap[0] / self.with_z),
                "max_abs": float(self.radius_gap[1]),
                "mean_relative": float(self.radius_gap[2] / self.with_z),
                "max_relative": float(self.radius_gap[3]),
            }
            if self.eps_factor:
                found["eps_clip"] = {
                    "bound": EPS_CLIP,
                    "eps_factor": self.eps_factor,
                    "clipped": self.clipped,
                    "values": values,
                }

    def result(self) -> VaeHealth:
        """report.json's ``vae``."""
        n = max(self.n, 1)
        variance = self.sum_sq / n - (self.sum / n) ** 2
        active = variance > ACTIVE_VARIANCE
        found: VaeHealth = {
            "active_units": int(active.sum()),
            "dims": len(active),
            "kl_per_dim": (self.kl / n).tolist(),
            "kl_total": float(self.kl.sum() / n),
            "mean_variance": variance.tolist(),
            "active": np.flatnonzero(active).tolist(),
            "threshold": ACTIVE_VARIANCE,
            "collapsed": bool(active.sum() < len(active) / 2),
            "n": self.n,
        }
        self.internals(found)
        return found
