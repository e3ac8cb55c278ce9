"""analyze's streamed passes over the latents and the report sections they measure: pass 1
the moments and a row sample, pass 2 the histograms, the components' fits between them, pass 3
the trimmed clouds' moments, the hit counts and the ellipses' shares. ``analyze`` runs them in
order; memory holds one block and the d x d moments whatever N is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.hits import SHELL_SHARES, box_holds_origin, hit_counts, region_distance, shell_hits
from latentkit.analysis.measures.regions import Ellipse, PcRegion
from latentkit.analysis.measures.stats import (
    FWHM_PER_SIGMA,
    Histograms,
    Moments,
    fit_gaussian,
    fwhm,
    wilson_interval,
)
from latentkit.analysis.measures.trimmed import TrimmedPca, feed_trims, row_keys, start_trims
from latentkit.analysis.report.cloud_schema import Component, Pca, PcFit, Radius, Region
from latentkit.core import LatentkitError
from latentkit.store.latents import read_blocks, usable_blocks

PEAK_COUNT = 100  # points in a histogram's peak bin for its half-width to be read off it (noise about 10 %)


@dataclass
class PassHistograms:
    """What the second pass accumulates."""

    components: Histograms  # every component on one common range
    standard: Histograms  # every component standardised: the fits' input
    radius: Histograms
    pcs: Histograms  # projections on the leading principal components, standardised
    pc_scale: np.ndarray


def moments_pass(array, valid, sample_rows, options, events, latents) -> tuple[Moments, np.ndarray]:
    """Pass 1: mean, covariance, ranges and the largest norm; a NaN check; the row sample."""
    moments, sample = Moments(), []
    for start, block in read_blocks(array, options.read_rows):
        bad = ~np.isfinite(block).all(axis=1)
        if bad.any():
            raise LatentkitError(f"{latents} has NaN or infinite values (first at row {start + int(np.argmax(bad))})")
        moments.partial_fit(block[valid[start : start + len(block)]])
        picked = sample_rows[(sample_rows >= start) & (sample_rows < start + len(block))]
        sample.append(block[picked - start])
        events.advance(len(block))
    return moments, np.concatenate(sample)


def histograms_pass(array, valid, moments: Moments, eigenvalues, eigenvectors, options, events) -> PassHistograms:
    """Pass 2: component, standardised, radius and principal-component histograms."""
    std, mean = moments.std_, moments.mean_
    low = max(float(moments.min_.min()), float((mean - 6 * std).min()))
    high = min(float(moments.max_.max()), float((mean + 6 * std).max()))
    high = high if high > low else low + 1.0
    chosen = [i for i in options.pc_fits if i < array.shape[1]]
    h = PassHistograms(
        components=Histograms(low, high + (high - low) * 1e-9, options.bins),
        # Fits use each component's own range (standardised): on the common range a narrow
        # component would get only a few bins and a too-small half-width.
        standard=Histograms(-6.0, 6.0, options.bins),
        radius=_radius_histogram(float(moments.max_norm_), options),
        pcs=Histograms(-6.0, 6.0, options.bins),
        pc_scale=np.sqrt(np.where(eigenvalues[chosen] > 0, eigenvalues[chosen], 1.0)),
    )
    scale = _scale(moments)
    for start, raw in read_blocks(array, options.read_rows):
        block = raw[valid[start : start + len(raw)]]
        h.components.partial_fit(block)
        h.standard.partial_fit((block - mean) / scale)
        h.radius.partial_fit(np.sqrt((block * block).sum(axis=1)))
        h.pcs.partial_fit(((block - mean) @ eigenvectors[:, chosen]) / h.pc_scale)
        events.advance(len(raw))
    return h


def _radius_histogram(largest: float, options) -> Histograms:
    """Bins of ``radius_bin`` from 0 past the largest radius, else ``bins`` bins over [0, largest]."""
    if not options.radius_bin:
        return Histograms(0.0, largest * (1 + 1e-9) or 1.0, options.bins)
    count = int(largest // options.radius_bin) + 1
    if count > 1_000_000:
        raise LatentkitError(
            f"--radius-bin {options.radius_bin:g} makes {count:,} bins up to the largest radius "
            f"{largest:.4g}: use a wider bin"
        )
    return Histograms(0.0, count * options.radius_bin, count)


def _scale(moments: Moments) -> np.ndarray:
    return np.where(moments.std_ > 0, moments.std_, 1.0)


def fit_components(moments: Moments, standard: Histograms) -> tuple[LatentFit, list[Component], np.ndarray]:
    """A Gaussian fit and a half-width per component, from the standardised histograms. The
    half-width is read off the histogram where its peak bin holds at least ``PEAK_COUNT`` points;
    on fewer the bins' noise would set it, and it is a Gaussian's from the moments, 2.3548 x the
    std, the steadiest estimate on few points (``fwhm_from`` says which)."""
    mean, std, scale = moments.mean_, moments.std_, _scale(moments)
    per_component: list[Component] = []
    widths, gauss = np.empty(len(mean)), []
    for j in range(len(mean)):
        x = mean[j] + standard.centres_ * scale[j]
        gauss.append(fit_gaussian(x, standard.counts_[j], mean[j], std[j]))
        read = standard.counts_[j].max() >= PEAK_COUNT
        widths[j] = fwhm(x, standard.counts_[j]) if read else FWHM_PER_SIGMA * std[j]
        per_component.append(
            {
                "index": j,
                "mean": float(mean[j]),
                "std": float(std[j]),
                "fwhm": float(widths[j]),
                "fwhm_from": "histogram" if read else "std",
                "gauss": gauss[-1],
            }
        )
    fit = LatentFit(
        mean=mean,
        cov=moments.cov_,
        centre=np.array([g["centre"] for g in gauss]),
        sigma=np.array([g["sigma"] for g in gauss]),
        fwhm=np.maximum(widths, 1e-12),
    )
    return fit, per_component, widths


def sampling_errors(moments: Moments) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors of each component's centre (std / sqrt(n)) and half-width (2.3548 std /
    sqrt(2n)) from n points: what chance alone moves them by."""
    n = max(int(moments.n_), 1)
    return moments.std_ / np.sqrt(n), FWHM_PER_SIGMA * moments.std_ / np.sqrt(2 * n)


def trim_and_hits_pass(
    array, valid, fit: LatentFit, options, events, ellipses: list[Ellipse], pc_region: PcRegion
) -> tuple[list[TrimmedPca], np.ndarray, np.ndarray, int]:
    """Pass 3: moments of the cloud trimmed at several half-widths, the data's own hit counts (in
    components, in principal-component coordinates and in its shell), and the points inside each
    pair's 1, 2, 3 sigma ellipses."""
    trimmed = start_trims(options.trim_facts, options.trim_pca_sample)
    data_hits = np.zeros(len(options.ks), np.int64)
    pc_hits = np.zeros(len(options.ks), np.int64)
    shell = 0
    for start, block, read in usable_blocks(array, valid, options.read_rows):
        worst = region_distance(block, fit)
        feed_trims(trimmed, block, worst, row_keys(options.seed, start, len(block)))
        data_hits += hit_counts(block, fit, options.ks)
        pc_hits += pc_region.hits(block, options.ks)
        shell += shell_hits(block, fit)
        for ellipse in ellipses:
            ellipse.partial_fit(block)
        events.advance(read)
    return trimmed, data_hits, pc_hits, shell


def region_report(fit: LatentFit, ks, shell_hit: int, n: int, points: int) -> Region:
    """Two regions of the data's: whether the hit test's box holds the origin at each k (then a
    uniform box around 0 lands in it whatever the data's shape), and the shell the data fill (their
    Mahalanobis distances and radii, each 1st to 99th percentile, from ``points`` sampled rows)
    with the data's own share."""
    shell = fit.shell
    assert shell is not None, "analyze's fit measures the data's shell"
    return {
        "box_holds_origin": {f"{k:g}": box_holds_origin(fit, k) for k in ks},
        "shell": {
            "low": float(shell[0]),
            "high": float(shell[1]),
            "radius_low": float(shell[2]),
            "radius_high": float(shell[3]),
            "shares": list(SHELL_SHARES),
            "points": points,
        },
        "data_shell_fraction": shell_hit / n,
        "data_shell_interval": list(wilson_interval(shell_hit, n)),
    }


def radius_report(radius: Histograms) -> Radius:
    counts, centres = radius.counts_[0], radius.centres_
    total = counts.sum()
    mean = float((counts * centres).sum() / total)
    var = float((counts * (centres - mean) ** 2).sum() / total)
    return {
        "mean": mean,
        "std": float(np.sqrt(var)),
        "peak": float(centres[np.argmax(counts)]),
        "histogram": {"edges": radius.edges_.tolist(), "counts": counts.tolist()},
    }


def pca_report(eigenvalues, trimmed, options, pcs: Histograms, pc_scale, n) -> Pca:
    """report.json's ``pca`` as the passes measured it: the spectrum, the trimmed clouds' PCAs and
    the leading PCs' Gaussian fits (``statistics`` adds the hit test and the ellipses in PC coordinates)."""
    ratio = eigenvalues / eigenvalues.sum() if eigenvalues.sum() > 0 else eigenvalues
    trims = [trim.result(n) for trim in trimmed]
    pc_fits: list[PcFit] = []
    chosen = [i for i in options.pc_fits if i < len(eigenvalues)]
    for i, pc in enumerate(chosen):
        g = fit_gaussian(pcs.centres_, pcs.counts_[i], 0.0, 1.0)
        pc_fits.append(
            {
                "pc": pc,
                "centre": g["centre"] * pc_scale[i],
                "sigma": g["sigma"] * pc_scale[i],
                "fwhm": fwhm(pcs.centres_, pcs.counts_[i]) * pc_scale[i],
            }
        )
    return {
        "eigenvalues": eigenvalues.tolist(),
        "explained_variance_ratio": ratio.tolist(),
        "cumulative": np.cumsum(ratio).tolist(),
        "trimmed": trims,
        "pc_fits": pc_fits,
        "fwhm_per_sigma": FWHM_PER_SIGMA,
    }
