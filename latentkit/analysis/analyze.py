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
from latentkit.analysis.passes import (
    fit_components,
    histograms_pass,
    moments_pass,
    pca_report,
    radius_report,
    region_report,
    sampling_errors,
    trim_and_hits_pass,
    usable_blocks,
)
from latentkit.analysis.regions import DEFAULT_PC_PAIRS, Ellipse, PcRegion, generators_report
from latentkit.analysis.report_schema import Report, write_report
from latentkit.analysis.samplers import fit_mixture, radius_by_dimension, shell_of
from latentkit.analysis.stats import (
    FEWEST_BINS,
    bins_for,
    component_counts,
    dominant_components,
    max_offdiagonal_correlation,
    pca_from_covariance,
    top_correlated_pairs,
)
from latentkit.analysis.trimmed import view_pass
from latentkit.core import JobEvents, LatentkitError, atomic_write, check_folder, count, own_folder
from latentkit.store import chunk_progress


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
    pc_fits: tuple[int, ...] = tuple(
        range(8)
    )  # principal components (PC0 the largest) with a histogram and a Gaussian fit
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
    quality: bool = (
        True  # coverage, fragments, intrinsic dimension, VAE health; with a model: re-encoding, reconstruction
    )
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
                raise LatentkitError(
                    f"{path} is incomplete: {len(progress.missing)} chunks not encoded yet (rerun encode)"
                )
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


def analyze(
    *,
    latents: str | os.PathLike,
    out: str | os.PathLike,
    options: AnalyzeOptions | None = None,
    events: JobEvents | None = None,
    column: str | None = None,
    run: str | os.PathLike | None = None,
    labels: str | os.PathLike | None = None,
) -> Report:
    """Write OUT/report.json, report.md, mvn.npz and figures for the latents at ``latents``
    (``column``: a parquet file's vector column). ``run``: the run the latents belong to: its
    model re-encodes generated points and measures reconstructions (``latentkit.analysis.hole_measures``)."""
    options = options or AnalyzeOptions()
    events = events or JobEvents()
    check_folder(out, "--out")
    array, mask = open_latents(latents, column)
    generated = _open_generated(options.generated, array.shape[1])
    n_rows, dim = array.shape
    for flag, given, what in (
        ("--pairs", options.pairs, "components"),
        ("--pc-pairs", options.pc_pairs, "principal components"),
    ):
        outside = [f"{i}:{j}" for i, j in given or () if not (0 <= i < dim and 0 <= j < dim) or i == j]
        if outside:
            raise LatentkitError(
                f"{flag} {','.join(outside)}: give two different {what} of the {dim} in {latents} (0..{dim - 1})"
            )
    if any(not f > 0 for f in options.trim_facts):
        raise LatentkitError(
            f"--trim takes factors above 0 (half-widths), e.g. 1.35,1.5,1.8, not "
            f"{','.join(f'{f:g}' for f in options.trim_facts)}"
        )
    pc_pairs = (
        options.pc_pairs if options.pc_pairs is not None else tuple((i, j) for i, j in DEFAULT_PC_PAIRS if j < dim)
    )
    rng = np.random.default_rng(options.seed)
    valid = np.ones(n_rows, bool) if mask is None else mask
    n = int(valid.sum())
    if n < 2:
        raise LatentkitError(f"{latents} has {n} usable rows: at least 2 are needed")
    if 0 < options.bins < FEWEST_BINS:
        raise LatentkitError(
            f"--bins takes at least {FEWEST_BINS} bins, or 0 for bins by the data's size, not {options.bins}"
        )
    options = replace(options, bins=options.bins or bins_for(n))
    sample_rows = np.sort(rng.choice(np.flatnonzero(valid), size=min(options.sample, n), replace=False))

    passes = 4 if options.trim_facts and pc_pairs else 3
    events.start(f"analyze: {passes} passes over {n_rows:,} rows", total=passes * n_rows)
    moments, sample = moments_pass(array, valid, sample_rows, options, events, latents)
    eigenvalues, eigenvectors = pca_from_covariance(moments.cov_)
    histograms = histograms_pass(array, valid, moments, eigenvalues, eigenvectors, options, events)
    fit, per_component, widths = fit_components(moments, histograms.standard)
    fit = replace(fit, shell=shell_of(sample, fit))
    pairs = list(options.pairs) or [(i, j) for i, j, _ in top_correlated_pairs(moments.corr_)[:3]]
    ellipses = [Ellipse.of_components(pair, moments) for pair in pairs]
    pc_ellipses = [Ellipse.of_pcs(pair, moments.mean_, eigenvalues, eigenvectors) for pair in pc_pairs]
    pc_region = PcRegion(moments.mean_, eigenvalues, eigenvectors)
    trimmed, data_hits, pc_hits, shell_hit = trim_and_hits_pass(
        array, valid, fit, options, events, ellipses + pc_ellipses, pc_region
    )
    for trim in trimmed:
        trim.solve()
    if passes == 4:
        view_pass(
            trimmed,
            usable_blocks(array, valid, options.read_rows),
            fit,
            pc_pairs,
            bins=options.bins,
            seed=options.seed,
            advance=events.advance,
        )
    events.finish()
    if options.mixture and len(sample) >= 4:
        points = sample[rng.permutation(len(sample))[: options.mixture_sample]]
        events.start(f"Gaussian mixtures (BIC) on {len(points):,} points", total=len(options.mixture_components))
        mixture = fit_mixture(points, options.mixture_components, seed=options.seed, progress=events.advance)
        untried = len(options.mixture_components) - len(mixture.bic)
        if untried > 0:  # the bar ends full, and says why
            events.advance(untried)
            events.message(
                f"mixture: BIC stopped improving at {count(len(mixture.weights), 'component')}: the "
                f"{untried} larger candidates were not fitted"
            )
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
        "latents": str(latents),
        "n": n,
        "dim": dim,
        "options": asdict(options),
        "components": per_component,
        "dominant": dominant_components(fit.centre, widths, errors=sampling_errors(moments)),
        "component_counts": component_counts(fit.centre, widths),
        "radius": radius_report(histograms.radius),
        "data_hit_fraction": {f"{k:g}": float(h / n) for k, h in zip(options.ks, data_hits)},
        "region": region_report(fit, options.ks, shell_hit, n, len(sample)),
        "generators": generators_report(fit, options, rng, pc_region),
        "radius_by_dimension": radius_by_dimension(options.uniform_bs, seed=options.seed),
        "correlations": {"top_pairs": [{"i": i, "j": j, "r": r} for i, j, r in top_correlated_pairs(moments.corr_)]},
        "ellipses": [e.result() for e in ellipses],
        "pca": {
            **pca_report(eigenvalues, trimmed, options, histograms.pcs, histograms.pc_scale, n),
            "data_hit_fraction": {f"{k:g}": float(h / n) for k, h in zip(options.ks, pc_hits)},
            "max_offdiagonal_correlation": max_offdiagonal_correlation(moments.cov_, eigenvectors),
            "ellipses": [e.result() for e in pc_ellipses],
        },
        "mvn": {"path": str(out / "mvn.npz")},
    }
    if fit.kde is not None:
        report["kde"] = {"bandwidth": fit.kde.bandwidth, "points": len(fit.kde.points), "units": "standardised"}
    if fit.mixture is not None:
        m = fit.mixture
        report["mixture"] = {
            "components": len(m.weights),
            "weights": m.weights.tolist(),
            "bic": m.bic,
            "points": min(options.mixture_sample, len(sample)),
        }
    if options.nn_sample and len(sample) >= 3:
        from latentkit.analysis.neighbours import neighbours_report

        report["nearest_neighbours"] = neighbours_report(
            sample[rng.permutation(len(sample))[: options.nn_sample]], fit, rng
        )
    if options.quality:
        from latentkit.analysis.holes import holes_report

        report.update(
            holes_report(
                latents=latents,
                valid=valid,
                sample=sample,
                fit=fit,
                options=options,
                rng=rng,
                generated=generated,
                run=run,
                out=out,
                events=events,
            )
        )
    if options.quality and (run is not None or labels is not None):
        from latentkit.analysis.disentanglement import of_labels, of_run

        events.start("disentanglement: MIG, DCI, SAP against known factors", total=1)
        found = (
            of_labels(array, valid, labels, sample=options.disentanglement_sample, seed=options.seed)
            if labels is not None
            else of_run(array, valid, run, sample=options.disentanglement_sample, seed=options.seed)
        )
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

        report["figures"] = draw_all(
            out,
            report=report,
            components=histograms.components,
            radius=histograms.radius,
            pcs=histograms.pcs,
            pc_scale=histograms.pc_scale,
            fit=fit,
            corr=moments.corr_,
            sample=sample,
            projected=projected,
            pairs=pairs,
            options=options,
            trims=trimmed,
        )
        report["figures"] += report.pop("quality_figures", [])
    write_report(out / "report.json", report)
    from latentkit.analysis.report_markdown import write_markdown

    write_markdown(out / "report.md", report)
    return report
