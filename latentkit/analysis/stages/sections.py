"""analyze's stages after the passes, in report order: each a function of the ``Cloud`` that
returns its own section of report.json and the figures it drew."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from latentkit.analysis.generators import radius_by_dimension
from latentkit.analysis.measures.regions import generators_report
from latentkit.analysis.measures.stats import (
    component_counts,
    dominant_components,
    max_offdiagonal_correlation,
    top_correlated_pairs,
)
from latentkit.analysis.report.cloud_schema import Correlations, KdeSection, MixtureSection
from latentkit.analysis.report.peer_schema import Tsne
from latentkit.analysis.stages.context import Cloud, Section
from latentkit.analysis.stages.passes import pca_report, radius_report, region_report, sampling_errors
from latentkit.core import AnalysisPaths, atomic_write


def statistics(c: Cloud) -> Section:
    """The studies' statistics: components, radius, hit fractions, the region, the generators, PCA."""
    options, n, fit, moments = c.options, c.n, c.fit, c.moments
    correlations: Correlations = {
        "top_pairs": [{"i": i, "j": j, "r": r} for i, j, r in top_correlated_pairs(moments.corr_)],
        "pairs_shown": [list(p) for p in c.pairs],
    }
    pca = pca_report(c.eigenvalues, c.trimmed, options, c.histograms.pcs, c.histograms.pc_scale, n)
    pca["data_hit_fraction"] = {f"{k:g}": float(h / n) for k, h in zip(options.ks, c.pc_hits)}
    pca["max_offdiagonal_correlation"] = max_offdiagonal_correlation(moments.cov_, c.eigenvectors)
    pca["ellipses"] = [e.result() for e in c.pc_ellipses]
    return Section(
        {
            "latents": c.latents,
            "n": n,
            "dim": c.dim,
            "options": asdict(options),
            "components": c.per_component,
            "dominant": dominant_components(fit.centre, c.widths, errors=sampling_errors(moments)),
            "component_counts": component_counts(fit.centre, c.widths),
            "radius": radius_report(c.histograms.radius),
            "data_hit_fraction": {f"{k:g}": float(h / n) for k, h in zip(options.ks, c.data_hits)},
            "region": region_report(fit, options.ks, c.shell_hit, n, len(c.sample)),
            "generators": generators_report(fit, options, c.rng, c.pc_region),
            "radius_by_dimension": radius_by_dimension(options.uniform_bs, seed=options.seed),
            "correlations": correlations,
            "ellipses": [e.result() for e in c.ellipses],
            "pca": pca,
            "mvn": {"path": str(AnalysisPaths(c.out).fit)},
        }
    )


def fitted(c: Cloud) -> Section:
    """The kernel density's bandwidth and the mixture's components, where they were fitted."""
    keys: dict = {}
    if c.fit.kde is not None:
        kde: KdeSection = {"bandwidth": c.fit.kde.bandwidth, "points": len(c.fit.kde.points), "units": "standardised"}
        keys["kde"] = kde
    if c.fit.mixture is not None:
        m = c.fit.mixture
        mixture: MixtureSection = {
            "components": len(m.weights),
            "weights": m.weights.tolist(),
            "bic": m.bic,
            "points": min(c.options.mixture_sample, len(c.sample)),
        }
        keys["mixture"] = mixture
    return Section(keys)


def neighbours(c: Cloud) -> Section:
    """Nearest-neighbour distances of the data against the fitted normal and mixture."""
    if not (c.options.nn_sample and len(c.sample) >= 3):
        return Section()
    from latentkit.analysis.measures.neighbours import neighbours_report

    points = c.sample[c.rng.permutation(len(c.sample))[: c.options.nn_sample]]
    return Section({"nearest_neighbours": neighbours_report(points, c.fit, c.rng)})


def disentanglement(c: Cloud) -> Section:
    """MIG, DCI and SAP against known factors: a labels file's, or the run's store's."""
    if not (c.options.quality and (c.run is not None or c.labels is not None)):
        return Section()
    from latentkit.analysis.measures.disentanglement import of_labels, of_store

    options = c.options
    c.events.start("disentanglement: MIG, DCI, SAP against known factors", total=1)
    if c.labels is not None:
        found = of_labels(c.array, c.valid, c.labels, sample=options.disentanglement_sample, seed=options.seed)
    else:
        assert c.run is not None
        found = of_store(c.array, c.valid, c.run.data, sample=options.disentanglement_sample, seed=options.seed)
    c.events.finish()
    return Section({} if found is None else {"disentanglement": found})


def tsne(c: Cloud) -> Section:
    """The t-SNE map of a sample (openTSNE), its points saved as tsne.npy and their rows."""
    if not (c.options.tsne and len(c.sample) >= 10):
        return Section()
    from latentkit.analysis.measures.embedding import run_tsne

    embedding, summary, take = run_tsne(c.sample, c.projected, c.options, c.events)
    files = AnalysisPaths(c.out)
    for path, values in ((files.tsne, embedding), (files.tsne_rows, c.sample_rows[take])):
        with atomic_write(path) as handle:
            np.save(handle, values)
    found: Tsne = {**summary, "embedding": str(files.tsne), "rows": str(files.tsne_rows)}
    return Section({"tsne": found})


def kmeans(c: Cloud) -> Section:
    """MiniBatchKMeans over a range of k on a sample."""
    if not (c.options.kmeans and len(c.sample) >= 4):
        return Section()
    from latentkit.analysis.measures.embedding import run_kmeans

    return Section({"kmeans": run_kmeans(c.sample[: c.options.kmeans_sample], c.options, c.events)})


def cloud_figures(c: Cloud) -> Section:
    """The cloud's figures, drawn from the report so far and the passes' histograms."""
    if not c.options.figures:
        return Section()
    from latentkit.analysis.report.cloud_figures import draw_all

    drawn = draw_all(
        c.out,
        report=c.report,
        components=c.histograms.components,
        radius=c.histograms.radius,
        pcs=c.histograms.pcs,
        pc_scale=c.histograms.pc_scale,
        fit=c.fit,
        corr=c.moments.corr_,
        sample=c.sample,
        projected=c.projected,
        pairs=c.pairs,
        options=c.options,
        trims=c.trimmed,
    )
    return Section(figures=drawn)
