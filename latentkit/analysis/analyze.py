"""The analyze job: the studies' statistics of a latent cloud, streamed chunk by chunk.

Pass 1: moments (mean, covariance, min/max, largest norm), a NaN check, a row sample.
Pass 2: per-component histograms on a common range, radius histogram, projections on the
leading principal components. Pass 3: the trimmed clouds' moments and the data's own hit
counts. Pass 4 (with trim factors and PC pairs): each trimmed cloud on its own principal axes
(``latentkit.analysis.trimmed``, post IX). Memory holds one chunk, the d x d moments and the
samples, whatever N is.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from latentkit import store
from latentkit.analysis.samplers import (
    SHELL_SHARES,
    LatentFit,
    box_holds_origin,
    fit_mixture,
    hit_counts,
    radius_by_dimension,
    region_distance,
    shell_hits,
    shell_of,
)
from latentkit.analysis.stats import (
    FEWEST_BINS,
    FWHM_PER_SIGMA,
    Histograms,
    Moments,
    bins_for,
    component_counts,
    dominant_components,
    fit_gaussian,
    fwhm,
    max_offdiagonal_correlation,
    pca_from_covariance,
    top_correlated_pairs,
    wilson_interval,
)  # fmt: skip
from latentkit.analysis.regions import DEFAULT_PC_PAIRS, Ellipse, PcRegion, generators_report
from latentkit.analysis.trimmed import TrimmedPca, feed_trims, row_keys, start_trims, view_pass
from latentkit.analysis.report_schema import Report, write_report
from latentkit.core import JobEvents, LatentkitError, atomic_write, check_folder, count, own_folder
from latentkit.store import chunk_progress


PEAK_COUNT = 100  # points in a histogram's peak bin for its half-width to be read off it (noise about 10 %)


@dataclass(frozen=True)
class AnalyzeOptions:
    bins: int = 0  # histogram bins per component; 0: by the data's size (``stats.bins_for``: 100 from 11,300 points)
    radius_bin: float = 0.0  # the radius histogram's bin width (posts: 0.5, 0.05); 0: ``bins`` bins over its range
    ks: tuple[float, ...] = (1.5, 2.0, 3.0, 12.0)
    uniform_bs: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
    generator_samples: int = 10_000  # z-points per generator for its radii (and the first batch of its hit test)
    hit_draws: int = 100_000  # z-points per generator for the hit test, streamed: one hit in 10,000 shows
    pairs: tuple[tuple[int, int], ...] = ()  # empty: the three most correlated pairs
    pc_pairs: tuple[tuple[int, int], ...] | None = None  # None: PC0:PC1, PC0:PC2, PC2:PC5 (regions.DEFAULT_PC_PAIRS)
    trim_facts: tuple[float, ...] = (1.25, 1.5, 1.8)
    trim_pca_sample: int = 0  # 0: each trimmed cloud's PCA from all its points; N: from a random N (post IX: 80,000)
    pc_fits: tuple[int, ...] = tuple(range(8))  # principal components (PC0 the largest) with a histogram and a Gaussian fit
    sample: int = 20_000  # rows kept for scatter plots, t-SNE and KMeans
    tsne: bool = True
    tsne_sample: int = 20_000
    tsne_pca: int = 50  # 0: t-SNE on the raw components
    tsne_perplexity: float = 30.0
    tsne_exaggeration: float | None = None  # early exaggeration; None: openTSNE's 12
    tsne_iterations: int = 750  # all of them, as sklearn's n_iter (the posts: 1000): 250 exaggerated + openTSNE's 500
    kmeans: bool = True
    kmeans_sample: int = 20_000
    kmeans_max: int = 80
    kmeans_ks: tuple[int, ...] = ()  # the k to try; empty: 2 ... 80 (embedding.KMEANS_KS) up to kmeans_max
    pca_show: int = 40  # components whose explained variance pca.png shows as bars (post IX: 40); its curves show all
    mixture: bool = True  # a Gaussian mixture generator, components chosen by BIC
    mixture_sample: int = 5_000  # rows of the sample the mixture is fitted on
    mixture_components: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
    kde: bool = True  # a kernel density generator, its bandwidth chosen by cross-validation
    kde_sample: int = 2_000  # rows of the sample the kernel density keeps (and is cross-validated on)
    posterior_sample: int = 5_000  # a VAE's data points whose q(z|x) the aggregate posterior draws from
    nn_sample: int = 4_000  # rows per set for the nearest-neighbour distances (0: off)
    figures: bool = True
    seed: int = 0
    read_rows: int = 20_000  # rows per read when the array's chunks are smaller
    quality: bool = True  # coverage, fragments, intrinsic dimension, VAE health; with a model: re-encoding, reconstruction
    quality_sample: int = 4_000  # points per set for coverage, fragments and intrinsic dimension
    k: int = 5  # neighbours for coverage and the k-NN graph
    mmd_sample: int = 1_000  # points per set for the MMD two-sample tests and a VAE's I(x; z)
    disentanglement_sample: int = 5_000  # images for MIG, DCI and SAP (with a run whose store has factors)
    reencode_sample: int = 256  # z-points per generator decoded and encoded again (with a run's model)
    reconstruction_images: int = 2_000  # images per partition for MSE/PSNR/SSIM (0: all)
    generated: tuple[str, ...] = ()  # a user's own generated z-points (.npy, shards, parquet, zarr)


def open_latents(path: str | os.PathLike, column: str | None = None) -> tuple[zarr.Array, np.ndarray | None]:
    """A (N, D) array (or a group's ``z``) and the rows to use (``ok`` & done), or None for all.
    Also a user's vectors: a .npy file, a folder of .npy shards, a parquet file's ``column``
    (``latentkit.store.vectors``), read as a zarr array is."""
    from latentkit.store.vectors import open_vectors

    path = Path(path)
    if not path.exists():
        raise LatentkitError(f"no latents at {path}")
    vectors = open_vectors(path, column)
    if vectors is not None:
        if 0 in vectors.shape:
            raise LatentkitError(f"{path} is empty (shape {vectors.shape})")
        return vectors, None
    try:
        node = zarr.open(path, mode="r")
    except Exception as error:
        raise LatentkitError(f"{path} is not a zarr array or group ({type(error).__name__})") from None
    mask = None
    if isinstance(node, zarr.Group):
        if "z" not in node:
            raise LatentkitError(f"{path} is a group without a 'z' array")
        if store.DONE in node:
            progress = chunk_progress(node)
            if not progress.complete:
                raise LatentkitError(f"{path} is incomplete: {len(progress.missing)} chunks not encoded yet "
                                     f"(rerun encode)")  # fmt: skip
        if "ok" in node:
            mask = node["ok"][:].astype(bool)
        node = node["z"]
    if node.ndim != 2:
        raise LatentkitError(f"latents must be a 2-D array (N, D), {path} has shape {node.shape}")
    if node.shape[0] == 0 or node.shape[1] == 0:
        raise LatentkitError(f"{path} is empty (shape {node.shape})")
    return node, mask


def _open_generated(paths: tuple[str, ...], dim: int) -> dict[str, Any]:
    """A user's generated z-points by name (the file's stem), checked against the data's width."""
    found = {}
    for path in paths:
        array, _ = open_latents(path)
        if array.shape[1] != dim:
            raise LatentkitError(f"--generated {path} has {array.shape[1]} dimensions, the latents {dim}")
        found[f"yours:{Path(path).stem}"] = array
    return found


def _blocks(array: zarr.Array, read_rows: int):
    chunk = array.chunks[0]
    step = max(chunk, read_rows // chunk * chunk)
    for start in range(0, array.shape[0], step):
        yield start, np.asarray(array[start : start + step], np.float64)


def _usable_blocks(array: zarr.Array, valid: np.ndarray, read_rows: int):
    """(start, the block's usable rows, rows read) for each block: what passes 3 and 4 stream."""
    for start, raw in _blocks(array, read_rows):
        yield start, raw[valid[start : start + len(raw)]], len(raw)


@dataclass
class _Histograms:
    """What the second pass accumulates."""

    components: Histograms  # every component on one common range
    standard: Histograms  # every component standardised: the fits' input
    radius: Histograms
    pcs: Histograms  # projections on the leading principal components, standardised
    pc_scale: np.ndarray


def analyze(*, latents: str | os.PathLike, out: str | os.PathLike, options: AnalyzeOptions | None = None,
            events: JobEvents | None = None, column: str | None = None,
            run: str | os.PathLike | None = None, labels: str | os.PathLike | None = None) -> Report:  # fmt: skip
    """Write OUT/report.json, report.md, mvn.npz and figures for the latents at ``latents``
    (``column``: a parquet file's vector column). ``run``: the run the latents belong to: its
    model re-encodes generated points and measures reconstructions (``latentkit.analysis.hole_measures``)."""
    options = options or AnalyzeOptions()
    events = events or JobEvents()
    check_folder(out, "--out")
    array, mask = open_latents(latents, column)
    generated = _open_generated(options.generated, array.shape[1])
    n_rows, dim = array.shape
    for flag, given, what in (("--pairs", options.pairs, "components"), ("--pc-pairs", options.pc_pairs, "principal components")):
        outside = [f"{i}:{j}" for i, j in given or () if not (0 <= i < dim and 0 <= j < dim) or i == j]
        if outside:
            raise LatentkitError(f"{flag} {','.join(outside)}: give two different {what} of the {dim} in {latents} "
                                 f"(0..{dim - 1})")  # fmt: skip
    if any(not f > 0 for f in options.trim_facts):
        raise LatentkitError(f"--trim takes factors above 0 (half-widths), e.g. 1.35,1.5,1.8, not "
                             f"{','.join(f'{f:g}' for f in options.trim_facts)}")  # fmt: skip
    pc_pairs = options.pc_pairs if options.pc_pairs is not None else tuple(
        (i, j) for i, j in DEFAULT_PC_PAIRS if j < dim)  # fmt: skip
    rng = np.random.default_rng(options.seed)
    valid = np.ones(n_rows, bool) if mask is None else mask
    n = int(valid.sum())
    if n < 2:
        raise LatentkitError(f"{latents} has {n} usable rows: at least 2 are needed")
    if 0 < options.bins < FEWEST_BINS:
        raise LatentkitError(f"--bins takes at least {FEWEST_BINS} bins, or 0 for bins by the data's size, not "
                             f"{options.bins}")  # fmt: skip
    options = replace(options, bins=options.bins or bins_for(n))
    sample_rows = np.sort(rng.choice(np.flatnonzero(valid), size=min(options.sample, n), replace=False))

    passes = 4 if options.trim_facts and pc_pairs else 3
    events.start(f"analyze: {passes} passes over {n_rows:,} rows", total=passes * n_rows)
    moments, sample = _moments_pass(array, valid, sample_rows, options, events, latents)
    eigenvalues, eigenvectors = pca_from_covariance(moments.cov_)
    histograms = _histograms_pass(array, valid, moments, eigenvalues, eigenvectors, options, events)
    fit, per_component, widths = _fit_components(moments, histograms.standard)
    fit = replace(fit, shell=shell_of(sample, fit))
    pairs = list(options.pairs) or [(i, j) for i, j, _ in top_correlated_pairs(moments.corr_)[:3]]
    ellipses = [Ellipse.of_components(pair, moments) for pair in pairs]
    pc_ellipses = [Ellipse.of_pcs(pair, moments.mean_, eigenvalues, eigenvectors) for pair in pc_pairs]
    pc_region = PcRegion(moments.mean_, eigenvalues, eigenvectors)
    trimmed, data_hits, pc_hits, shell_hit = _trim_and_hits_pass(array, valid, fit, options, events,
                                                                 ellipses + pc_ellipses, pc_region)  # fmt: skip
    for trim in trimmed:
        trim.solve()
    if passes == 4:
        view_pass(trimmed, _usable_blocks(array, valid, options.read_rows), fit, pc_pairs, bins=options.bins,
                  seed=options.seed, advance=events.advance)  # fmt: skip
    events.finish()
    if options.mixture and len(sample) >= 4:
        points = sample[rng.permutation(len(sample))[: options.mixture_sample]]
        events.start(f"Gaussian mixtures (BIC) on {len(points):,} points", total=len(options.mixture_components))
        mixture = fit_mixture(points, options.mixture_components, seed=options.seed, progress=events.advance)
        untried = len(options.mixture_components) - len(mixture.bic)
        if untried > 0:  # the bar ends full, and says why
            events.advance(untried)
            events.message(f"mixture: BIC stopped improving at {count(len(mixture.weights), 'component')}: the "
                           f"{untried} larger candidates were not fitted")  # fmt: skip
        fit = replace(fit, mixture=mixture)
        events.finish()
    if options.kde and len(sample) >= 10:
        from latentkit.analysis.data_samplers import Kde

        points = sample[rng.permutation(len(sample))[: options.kde_sample]]
        events.start(f"kernel density: bandwidth by 3-fold cross-validation on {len(points):,} points", total=1)
        fit = replace(fit, kde=Kde.fit(points, seed=options.seed))
        events.finish()
    from latentkit.analysis.data_samplers import read_posterior

    fit = replace(fit, posterior=read_posterior(latents, valid, options.posterior_sample, options.seed))
    if run is not None:  # the run's normalising flow, when `latentkit flow` trained one
        from latentkit.core import RunPaths
        from latentkit.model.flow import FOLDER, load_flow

        fit = replace(fit, flow=load_flow(RunPaths.of(run).root / FOLDER))

    out = own_folder(out)
    fit.save(out / "mvn.npz")
    report: Report = {
        "latents": str(latents), "n": n, "dim": dim, "options": asdict(options),
        "components": per_component,
        "dominant": dominant_components(fit.centre, widths, errors=_sampling_errors(moments)),
        "component_counts": component_counts(fit.centre, widths),
        "radius": _radius_report(histograms.radius),
        "data_hit_fraction": {f"{k:g}": float(h / n) for k, h in zip(options.ks, data_hits)},
        "region": _region_report(fit, options.ks, shell_hit, n, len(sample)),
        "generators": generators_report(fit, options, rng, pc_region),
        "radius_by_dimension": radius_by_dimension(options.uniform_bs, seed=options.seed),
        "correlations": {"top_pairs": [{"i": i, "j": j, "r": r} for i, j, r in top_correlated_pairs(moments.corr_)]},
        "ellipses": [e.result() for e in ellipses],
        "pca": {**_pca_report(eigenvalues, trimmed, options, histograms.pcs, histograms.pc_scale, n),
                "data_hit_fraction": {f"{k:g}": float(h / n) for k, h in zip(options.ks, pc_hits)},
                "max_offdiagonal_correlation": max_offdiagonal_correlation(moments.cov_, eigenvectors),
                "ellipses": [e.result() for e in pc_ellipses]},
        "mvn": {"path": str(out / "mvn.npz")},
    }  # fmt: skip
    if fit.kde is not None:
        report["kde"] = {"bandwidth": fit.kde.bandwidth, "points": len(fit.kde.points), "units": "standardised"}
    if fit.mixture is not None:
        m = fit.mixture
        report["mixture"] = {"components": len(m.weights), "weights": m.weights.tolist(), "bic": m.bic,
                             "points": min(options.mixture_sample, len(sample))}  # fmt: skip
    if options.nn_sample and len(sample) >= 3:
        from latentkit.analysis.neighbours import neighbours_report

        report["nearest_neighbours"] = neighbours_report(sample[rng.permutation(len(sample))[: options.nn_sample]],
                                                            fit, rng)  # fmt: skip
    if options.quality:
        from latentkit.analysis.holes import holes_report

        report.update(holes_report(latents=latents, valid=valid, sample=sample, fit=fit, options=options, rng=rng,
                                     generated=generated, run=run, out=out, events=events))  # fmt: skip
    if options.quality and (run is not None or labels is not None):
        from latentkit.analysis.disentanglement import of_labels, of_run

        events.start("disentanglement: MIG, DCI, SAP against known factors", total=1)
        found = (of_labels(array, valid, labels, sample=options.disentanglement_sample, seed=options.seed)
                 if labels is not None else
                 of_run(array, valid, run, sample=options.disentanglement_sample, seed=options.seed))  # fmt: skip
        events.finish()
        if found is not None:
            report["disentanglement"] = found
    report["correlations"]["pairs_shown"] = [list(p) for p in pairs]
    projected = (sample - moments.mean_) @ eigenvectors
    if options.tsne and len(sample) >= 10:
        from latentkit.analysis.embedding import run_tsne

        embedding, report["tsne"], take = run_tsne(sample, projected, options, events)
        for name, values in (("tsne.npy", embedding), ("tsne_rows.npy", sample_rows[take])):
            with atomic_write(out / name) as handle:
                np.save(handle, values)
        report["tsne"].update(embedding=str(out / "tsne.npy"), rows=str(out / "tsne_rows.npy"))
    if options.kmeans and len(sample) >= 4:
        from latentkit.analysis.embedding import run_kmeans

        report["kmeans"] = run_kmeans(sample[: options.kmeans_sample], options, events)
    if options.figures:
        from latentkit.analysis.figures import draw_all

        report["figures"] = draw_all(out, report=report, components=histograms.components, radius=histograms.radius,
                                     pcs=histograms.pcs, pc_scale=histograms.pc_scale, fit=fit, corr=moments.corr_,
                                     sample=sample, projected=projected, pairs=pairs, options=options,
                                     trims=trimmed)  # fmt: skip
        report["figures"] += report.pop("quality_figures", [])
    write_report(out / "report.json", report)
    from latentkit.analysis.report_markdown import write_markdown

    write_markdown(out / "report.md", report)
    return report


def _moments_pass(array, valid, sample_rows, options, events, latents) -> tuple[Moments, np.ndarray]:
    """Pass 1: mean, covariance, ranges and the largest norm; a NaN check; the row sample."""
    moments, sample = Moments(), []
    for start, block in _blocks(array, options.read_rows):
        bad = ~np.isfinite(block).all(axis=1)
        if bad.any():
            raise LatentkitError(f"{latents} has NaN or infinite values (first at row {start + int(np.argmax(bad))})")
        moments.partial_fit(block[valid[start : start + len(block)]])
        picked = sample_rows[(sample_rows >= start) & (sample_rows < start + len(block))]
        sample.append(block[picked - start])
        events.advance(len(block))
    return moments, np.concatenate(sample)


def _histograms_pass(array, valid, moments: Moments, eigenvalues, eigenvectors, options, events) -> _Histograms:
    """Pass 2: component, standardised, radius and principal-component histograms."""
    std, mean = moments.std_, moments.mean_
    low = max(float(moments.min_.min()), float((mean - 6 * std).min()))
    high = min(float(moments.max_.max()), float((mean + 6 * std).max()))
    high = high if high > low else low + 1.0
    chosen = [i for i in options.pc_fits if i < array.shape[1]]
    h = _Histograms(
        components=Histograms(low, high + (high - low) * 1e-9, options.bins),
        # Fits use each component's own range (standardised): on the common range a narrow
        # component would get only a few bins and a too-small half-width.
        standard=Histograms(-6.0, 6.0, options.bins),
        radius=_radius_histogram(float(moments.max_norm_), options),
        pcs=Histograms(-6.0, 6.0, options.bins),
        pc_scale=np.sqrt(np.where(eigenvalues[chosen] > 0, eigenvalues[chosen], 1.0)),
    )  # fmt: skip
    scale = _scale(moments)
    for start, raw in _blocks(array, options.read_rows):
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
        raise LatentkitError(f"--radius-bin {options.radius_bin:g} makes {count:,} bins up to the largest radius "
                             f"{largest:.4g}: use a wider bin")  # fmt: skip
    return Histograms(0.0, count * options.radius_bin, count)


def _scale(moments: Moments) -> np.ndarray:
    return np.where(moments.std_ > 0, moments.std_, 1.0)


def _fit_components(moments: Moments, standard: Histograms) -> tuple[LatentFit, list[dict[str, Any]], np.ndarray]:
    """A Gaussian fit and a half-width per component, from the standardised histograms. The
    half-width is read off the histogram where its peak bin holds at least ``PEAK_COUNT`` points;
    on fewer the bins' noise would set it, and it is a Gaussian's from the moments, 2.3548 x the
    std, the steadiest estimate on few points (``fwhm_from`` says which)."""
    mean, std, scale = moments.mean_, moments.std_, _scale(moments)
    per_component, widths, gauss = [], np.empty(len(mean)), []
    for j in range(len(mean)):
        x = mean[j] + standard.centres_ * scale[j]
        gauss.append(fit_gaussian(x, standard.counts_[j], mean[j], std[j]))
        read = standard.counts_[j].max() >= PEAK_COUNT
        widths[j] = fwhm(x, standard.counts_[j]) if read else FWHM_PER_SIGMA * std[j]
        per_component.append({"index": j, "mean": float(mean[j]), "std": float(std[j]), "fwhm": float(widths[j]),
                              "fwhm_from": "histogram" if read else "std", "gauss": gauss[-1]})  # fmt: skip
    fit = LatentFit(mean=mean, cov=moments.cov_, centre=np.array([g["centre"] for g in gauss]),
                    sigma=np.array([g["sigma"] for g in gauss]), fwhm=np.maximum(widths, 1e-12))  # fmt: skip
    return fit, per_component, widths


def _sampling_errors(moments: Moments) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors of each component's centre (std / sqrt(n)) and half-width (2.3548 std /
    sqrt(2n)) from n points: what chance alone moves them by."""
    n = max(int(moments.n_), 1)
    return moments.std_ / np.sqrt(n), FWHM_PER_SIGMA * moments.std_ / np.sqrt(2 * n)


def _trim_and_hits_pass(array, valid, fit: LatentFit, options, events, ellipses: list[Ellipse], pc_region: PcRegion
                        ) -> tuple[list[TrimmedPca], np.ndarray, np.ndarray, int]:  # fmt: skip
    """Pass 3: moments of the cloud trimmed at several half-widths, the data's own hit counts (in
    components, in principal-component coordinates and in its shell), and the points inside each
    pair's 1, 2, 3 sigma ellipses."""
    trimmed = start_trims(options.trim_facts, options.trim_pca_sample)
    data_hits = np.zeros(len(options.ks), np.int64)
    pc_hits = np.zeros(len(options.ks), np.int64)
    shell = 0
    for start, block, read in _usable_blocks(array, valid, options.read_rows):
        worst = region_distance(block, fit)
        feed_trims(trimmed, block, worst, row_keys(options.seed, start, len(block)))
        data_hits += hit_counts(block, fit, options.ks)
        pc_hits += pc_region.hits(block, options.ks)
        shell += shell_hits(block, fit)
        for ellipse in ellipses:
            ellipse.partial_fit(block)
        events.advance(read)
    return trimmed, data_hits, pc_hits, shell


def _region_report(fit: LatentFit, ks, shell_hit: int, n: int, points: int) -> dict[str, Any]:
    """Two regions of the data's: whether the hit test's box holds the origin at each k (then a
    uniform box around 0 lands in it whatever the data's shape), and the shell the data fill (their
    Mahalanobis distances and radii, each 1st to 99th percentile, from ``points`` sampled rows)
    with the data's own share."""
    return {"box_holds_origin": {f"{k:g}": box_holds_origin(fit, k) for k in ks},
            "shell": {"low": float(fit.shell[0]), "high": float(fit.shell[1]), "radius_low": float(fit.shell[2]),
                      "radius_high": float(fit.shell[3]), "shares": list(SHELL_SHARES), "points": points},
            "data_shell_fraction": shell_hit / n, "data_shell_interval": list(wilson_interval(shell_hit, n))}  # fmt: skip


def _radius_report(radius: Histograms) -> dict[str, Any]:
    counts, centres = radius.counts_[0], radius.centres_
    total = counts.sum()
    mean = float((counts * centres).sum() / total)
    var = float((counts * (centres - mean) ** 2).sum() / total)
    return {"mean": mean, "std": float(np.sqrt(var)), "peak": float(centres[np.argmax(counts)]),
            "histogram": {"edges": radius.edges_.tolist(), "counts": counts.tolist()}}  # fmt: skip


def _pca_report(eigenvalues, trimmed, options, pcs: Histograms, pc_scale, n) -> dict[str, Any]:
    ratio = eigenvalues / eigenvalues.sum() if eigenvalues.sum() > 0 else eigenvalues
    trims = [trim.result(n) for trim in trimmed]
    pc_fits = []
    chosen = [i for i in options.pc_fits if i < len(eigenvalues)]
    for i, pc in enumerate(chosen):
        g = fit_gaussian(pcs.centres_, pcs.counts_[i], 0.0, 1.0)
        pc_fits.append({"pc": pc, "centre": g["centre"] * pc_scale[i], "sigma": g["sigma"] * pc_scale[i],
                        "fwhm": fwhm(pcs.centres_, pcs.counts_[i]) * pc_scale[i]})  # fmt: skip
    return {"eigenvalues": eigenvalues.tolist(), "explained_variance_ratio": ratio.tolist(),
            "cumulative": np.cumsum(ratio).tolist(), "trimmed": trims, "pc_fits": pc_fits,
            "fwhm_per_sigma": FWHM_PER_SIGMA}  # fmt: skip
