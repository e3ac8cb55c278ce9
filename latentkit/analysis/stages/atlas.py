"""The analyze job's atlas stage: where each generator's draws and the data differ
(``measures.atlas``). Per generator, on ``atlas_sample`` points of each: a cross-fitted
classifier's density ratio r = q / p at every point, its two-sample test beside the MMD's (the
quality stage's), the MMD witness with the MMD's bandwidth, and the 16 most over- and most
under-covered points. Figures: the map and the PC0-PC1 plane coloured by log r and by the witness
for the generators people sample from, and, with a run's decoder, those points decoded."""

from __future__ import annotations

from typing import Any

import numpy as np

from latentkit.analysis.generators import generators_of
from latentkit.analysis.generators.reweighted import BOUND_QUANTILE
from latentkit.analysis.measures.atlas import REGIONS, extremes, fit_ratio, quantiles, witness
from latentkit.analysis.report.quality_schema import Atlas, AtlasGenerator, AtlasPoint
from latentkit.analysis.stages.context import Cloud, Section

CLASSIFIER = (
    "logistic regression (C = 0.1, standardised features) on the 16 leading whitened principal coordinates, "
    "their squares, two log radii (in those coordinates and in the raw space) and Gaussian kernels to 64 "
    "landmarks (the MMD's bandwidth)"
)
FIGURED = ("normal", "mvn", "gmm", "flow", "reweighted")  # the generators with an atlas_KEY.png
MAP_POINTS = 4_000  # the t-SNE map's points coloured (each figure evaluates r and the witness there)


def atlas(c: Cloud) -> Section:
    """report.json's ``atlas`` and the ``atlas_*.png`` figures."""
    options = c.options
    if not (options.quality and options.atlas and len(c.sample) >= 40):
        return Section()
    rng = np.random.default_rng([options.seed, 52])  # its own stream: the stages after it draw as before
    n = min(options.atlas_sample, len(c.sample))
    chosen = rng.permutation(len(c.sample))[:n]
    data = c.sample[chosen]
    generators = {g.key: g for g in generators_of(c.fit, options.uniform_bs)}
    drawn = {key: (g.name, g.sample(rng, n, c.fit)) for key, g in generators.items()}
    for key, array_ in c.generated.items():
        rows = np.sort(rng.choice(array_.shape[0], size=min(n, array_.shape[0]), replace=False))
        drawn[key] = (key, np.asarray(array_.get_orthogonal_selection((rows,)), np.float64))
    mmd = c.report.get("mismatch", {}).get("mmd", {})
    axes = c.eigenvectors[:, :2]

    def pc(points: np.ndarray) -> np.ndarray:
        return (points - c.moments.mean_) @ axes

    found: Atlas = {"classifier": CLASSIFIER, "folds": 0, "n": n, "generators": {}}
    kept: dict[str, Any] = {}
    c.events.start(
        f"hole atlas: density ratio and witness of {len(drawn)} generators ({n:,} points each)", total=len(drawn)
    )
    for key, (_, z) in drawn.items():
        fitted = fit_ratio(data, z, bandwidth=mmd.get(key, {}).get("bandwidth"), seed=options.seed)
        m, bandwidth = fitted.n, fitted.ratio.features.bandwidth
        ours, theirs = data[:m], z[:m]
        w_data = witness(ours, ours, theirs, bandwidth, leave_out="data")
        w_drawn = witness(theirs, ours, theirs, bandwidth, leave_out="drawn")
        over = extremes(fitted.log_ratio_drawn, REGIONS, highest=True)
        under = extremes(fitted.log_ratio_data, REGIONS, highest=False)
        entry: AtlasGenerator = {
            "c2st_accuracy": fitted.accuracy,
            "c2st_p_value": fitted.p_value,
            "cross_fitted_accuracy": fitted.cross_fitted_accuracy,
            "n": m,
            "bandwidth": bandwidth,
            "log_ratio_data": quantiles(fitted.log_ratio_data),
            "log_ratio_generator": quantiles(fitted.log_ratio_drawn),
            "witness_data": quantiles(w_data),
            "witness_generator": quantiles(w_drawn),
            "over": _points(over, theirs, fitted.log_ratio_drawn, w_drawn, pc, None),
            "under": _points(under, ours, fitted.log_ratio_data, w_data, pc, c.sample_rows[chosen[:m]]),
        }
        if key in mmd:
            entry["mmd_p_value"] = mmd[key]["p_value"]
        found["generators"][key] = entry
        found["folds"] = fitted.folds
        kept[key] = (fitted, ours, theirs, w_data, w_drawn, over, under)
        c.events.advance()
    c.events.finish()
    reweighting = c.fit.ratio
    if reweighting is not None:
        found["sampler"] = {
            "base": "mvn",
            "acceptance_rate": reweighting.acceptance_rate,
            "log_bound": reweighting.log_bound,
            "bound_quantile": BOUND_QUANTILE,
            "c2st_accuracy": reweighting.c2st_accuracy,
        }
    faces = "normal" if c.fit.posterior is not None else "mvn"  # a VAE's prior; an autoencoder's fitted normal
    decodes = c.run is not None and c.run.described.has_decoder and faces in kept
    if decodes:
        found["faces"] = faces
    if not options.figures:
        return Section({"atlas": found})
    from latentkit.analysis.report.atlas_figures import atlas_faces_figure, atlas_figure

    figures = []
    tsne = _tsne_points(c, rng)
    for key in FIGURED:
        if key not in kept:
            continue
        fitted, ours, theirs, w_data, w_drawn, _, _ = kept[key]
        on_map = None
        if tsne is not None:
            embedding, points = tsne
            on_map = (
                embedding,
                fitted.ratio.log_ratio(points),
                witness(points, ours, theirs, fitted.ratio.features.bandwidth),
            )
        figures.append(
            atlas_figure(
                c.out,
                key,
                drawn[key][0],
                plane=(pc(ours), pc(theirs)),
                log_ratio=(fitted.log_ratio_data, fitted.log_ratio_drawn),
                witness=(w_data, w_drawn),
                tsne=on_map,
            )
        )
    if decodes:
        assert c.run is not None
        _, ours, theirs, _, _, over, under = kept[faces]
        figures.append(atlas_faces_figure(c.out, drawn[faces][0], theirs[over], ours[under], c.run.codec().decode))
    return Section({"atlas": found}, figures)


def _points(indices, points, log_ratio, witness_, pc, rows) -> list[AtlasPoint]:
    found: list[AtlasPoint] = []
    coordinates = pc(points[indices])
    for i, xy in zip(indices, coordinates):
        point: AtlasPoint = {
            "index": int(i),
            "log_ratio": float(log_ratio[i]),
            "witness": float(witness_[i]),
            "pc": [float(xy[0]), float(xy[1])],
        }
        if rows is not None:
            point["row"] = int(rows[i])
        found.append(point)
    return found


def _tsne_points(c: Cloud, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
    """The t-SNE map's 2-D points and the latents they are of (rows of the cloud's sample), a
    random ``MAP_POINTS`` of them at most."""
    if "tsne" not in c.report:
        return None
    embedding = np.load(c.report["tsne"]["embedding"])
    rows = np.load(c.report["tsne"]["rows"])
    shown = np.sort(rng.permutation(len(rows))[:MAP_POINTS])
    return embedding[shown], c.sample[np.searchsorted(c.sample_rows, rows[shown])]
