"""The hit tests: whether z-points land where the data is. The box (every component within k
half-widths of the data's centre, the studies' test) and the shell (Mahalanobis distance and
radius within the data's own 1st to 99th percentiles)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from latentkit.analysis.generators import LatentFit


class HalfWidths(Protocol):
    """What the box test reads of a fit (``LatentFit``, or a PC box): each component's centre and half-width."""

    @property
    def centre(self) -> np.ndarray: ...

    @property
    def fwhm(self) -> np.ndarray: ...


def region_distance(z: np.ndarray, fit: HalfWidths) -> np.ndarray:
    """Each row's distance from the data's region, in half-widths: the largest |z_j - centre_j| /
    half-width_j over its components. A row is inside the region at k when this is <= k (the hit test)."""
    return (np.abs(z - fit.centre) / fit.fwhm).max(axis=1)


SHELL_SHARES = (0.01, 0.99)  # the data's shell: its own distances from the 1st to the 99th percentile


def mahalanobis(z: np.ndarray, fit: LatentFit) -> np.ndarray:
    """Each row's Mahalanobis distance from the fitted normal (mean, covariance): sqrt(N) on
    average for the normal's own points in N dimensions, 0 at its mean."""
    w = (np.asarray(z, np.float64) - fit.mean) @ fit.whitening
    return np.sqrt((w * w).sum(axis=1))


def shell_of(points: np.ndarray, fit: LatentFit) -> np.ndarray:
    """The data's shell, from a sample of its ``points``: their Mahalanobis distances and their
    radii (distances from the origin) at SHELL_SHARES, [mahalanobis low, high, radius low, high].
    Unlike the box of the hit test it holds no point near an empty centre: a shell of radius 32
    in 16 dimensions, a VAE's sphere, digits whose codes lie 25 to 41 from the origin."""
    radii = np.sqrt((np.asarray(points, np.float64) ** 2).sum(axis=1))
    return np.concatenate([np.quantile(mahalanobis(points, fit), SHELL_SHARES), np.quantile(radii, SHELL_SHARES)])


def shell_hits(z: np.ndarray, fit: LatentFit) -> int:
    """Rows inside the data's shell (``fit.shell``): their Mahalanobis distance and their radius
    each between the data's own bounds."""
    distance = mahalanobis(z, fit)
    radius = np.sqrt((np.asarray(z, np.float64) ** 2).sum(axis=1))
    assert fit.shell is not None, "shell_hits needs a fit with the data's shell"
    low, high, r_low, r_high = fit.shell
    return int(((distance >= low) & (distance <= high) & (radius >= r_low) & (radius <= r_high)).sum())


def box_holds_origin(fit: LatentFit, k: float) -> bool:
    """Whether the hit test's region at ``k`` holds the origin: no component's centre lies more
    than k half-widths from 0, so every uniform box around 0 lands in it by construction."""
    return bool(region_distance(np.zeros((1, len(fit.centre))), fit)[0] <= k)


def hit_fractions(z: np.ndarray, fit: LatentFit, ks=(1.5, 2.0, 3.0, 12.0)) -> dict[str, float]:
    """Fraction of rows whose every component lies within k x half-width of the data's centre."""
    worst = region_distance(z, fit)
    return {f"{k:g}": float(np.mean(worst <= k)) for k in ks}


def hit_counts(z: np.ndarray, fit: HalfWidths, ks) -> np.ndarray:
    """Rows within k x half-width, per k (summed over chunks for a streamed fraction)."""
    worst = region_distance(z, fit)
    return np.array([(worst <= k).sum() for k in ks])


def region_test(fit_path, k: float):
    """``z -> inside?`` by the hit test at ``k`` with the fit saved at ``fit_path`` (an analysis'
    mvn.npz), or None when there is none: what an export marks as the data's region."""
    from pathlib import Path

    if not Path(fit_path).exists():
        return None
    fit = LatentFit.load(fit_path)
    return lambda z: region_distance(z, fit) <= k
