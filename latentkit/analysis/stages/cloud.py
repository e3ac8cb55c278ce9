"""The cloud opened: the options checked against the latents, the streamed passes, the fits of
every generator (saved as OUT/mvn.npz). What ``analyze``'s stages are functions of."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.analysis.generators import Kde, fit_mixture, read_posterior
from latentkit.analysis.measures.hits import shell_of
from latentkit.analysis.measures.regions import DEFAULT_PC_PAIRS, Ellipse, PcRegion
from latentkit.analysis.measures.stats import FEWEST_BINS, bins_for, pca_from_covariance, top_correlated_pairs
from latentkit.analysis.measures.trimmed import view_pass
from latentkit.analysis.stages.context import Cloud
from latentkit.analysis.stages.passes import fit_components, histograms_pass, moments_pass, trim_and_hits_pass
from latentkit.core import AnalysisPaths, JobEvents, LatentkitError, count, own_folder
from latentkit.store.latents import open_latents, usable_blocks


def open_cloud(*, latents, out: Path, options, events: JobEvents, column, run, labels) -> Cloud:
    """Check, stream the passes (3, or 4 with trim factors and PC pairs), fit the generators,
    make OUT and save the fits: every error a user can cause is raised before OUT is made."""
    array, mask = open_latents(latents, column)
    generated = _open_generated(options.generated, array.shape[1])
    n_rows, dim = array.shape
    pc_pairs = _check(options, latents, dim)
    rng = np.random.default_rng(options.seed)
    valid = np.ones(n_rows, bool) if mask is None else mask
    n = int(valid.sum())
    if n < 2:
        raise LatentkitError(f"{latents} has {n} usable rows: at least 2 are needed")
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
        blocks = usable_blocks(array, valid, options.read_rows)
        view_pass(trimmed, blocks, fit, pc_pairs, bins=options.bins, seed=options.seed, advance=events.advance)
    events.finish()
    fit = _fit_generators(fit, sample, latents, valid, run, options, rng, events)
    out = own_folder(out)
    fit.save(AnalysisPaths(out).fit)
    return Cloud(
        latents=str(latents),
        out=out,
        options=options,
        events=events,
        run=run,
        labels=labels,
        array=array,
        valid=valid,
        sample=sample,
        sample_rows=sample_rows,
        rng=rng,
        moments=moments,
        eigenvalues=eigenvalues,
        eigenvectors=eigenvectors,
        histograms=histograms,
        fit=fit,
        per_component=per_component,
        widths=widths,
        pairs=pairs,
        ellipses=ellipses,
        pc_ellipses=pc_ellipses,
        pc_region=pc_region,
        trimmed=trimmed,
        data_hits=data_hits,
        pc_hits=pc_hits,
        shell_hit=shell_hit,
        generated=generated,
    )


def _check(options, latents, dim: int) -> tuple[tuple[int, int], ...]:
    """The options that depend on the latents' width, checked; the PC pairs to draw."""
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
    if 0 < options.bins < FEWEST_BINS:
        raise LatentkitError(
            f"--bins takes at least {FEWEST_BINS} bins, or 0 for bins by the data's size, not {options.bins}"
        )
    if options.pc_pairs is not None:
        return tuple(options.pc_pairs)
    return tuple((i, j) for i, j in DEFAULT_PC_PAIRS if j < dim)


def _open_generated(paths: tuple[str, ...], dim: int) -> dict[str, Any]:
    """A user's generated z-points by name (the file's stem), checked against the data's width."""
    found = {}
    for path in paths:
        array, _ = open_latents(path)
        if array.shape[1] != dim:
            raise LatentkitError(f"--generated {path} has {array.shape[1]} dimensions, the latents {dim}")
        found[f"yours:{Path(path).stem}"] = array
    return found


def _fit_generators(fit, sample, latents, valid, run, options, rng, events: JobEvents):
    """The fit with the mixture (BIC), the kernel density, a VAE's aggregate posterior and the
    run's flow (when `latentkit flow` trained one) added, as the options ask."""
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
        points = sample[rng.permutation(len(sample))[: options.kde_sample]]
        events.start(f"kernel density: bandwidth by 3-fold cross-validation on {len(points):,} points", total=1)
        fit = replace(fit, kde=Kde.fit(points, seed=options.seed))
        events.finish()
    fit = replace(fit, posterior=read_posterior(latents, valid, options.posterior_sample, options.seed))
    if run is not None:
        from latentkit.model.flow import load_flow

        fit = replace(fit, flow=load_flow(run.paths.flow))
    if options.quality and options.atlas and len(sample) >= 40:  # the atlas is one of the quality stage's
        fit = replace(fit, ratio=_reweighting(fit, sample, options, events))
    return fit


def _reweighting(fit, sample, options, events: JobEvents):
    """The density ratio of the fitted normal against a sample of the data (``measures.atlas``): what
    the reweighted generator draws with. Its own random streams: the other draws stay as they were."""
    from latentkit.analysis.generators import FittedNormal
    from latentkit.analysis.generators.reweighted import Reweighting
    from latentkit.analysis.measures.atlas import fit_ratio

    rng = np.random.default_rng([options.seed, 51])
    points = sample[rng.permutation(len(sample))[: options.atlas_sample]]
    events.start(f"reweighted normal: density ratio on {len(points):,} points per set", total=1)
    fitted = fit_ratio(points, FittedNormal().sample(rng, len(points), fit), seed=options.seed)
    events.finish()
    return Reweighting.of(fitted)
