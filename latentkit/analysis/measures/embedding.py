"""t-SNE (openTSNE) and MiniBatchKMeans on a sample of the latent cloud, with progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentkit.core import JobEvents, LatentkitError, usable_cpus

if TYPE_CHECKING:
    from latentkit.analysis.report.peer_schema import Kmeans, TsneSummary

KMEANS_KS = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 70, 80)
EARLY_ITERATIONS = 250  # the early exaggeration phase: openTSNE's and sklearn's (the posts') first 250 iterations


def run_tsne(
    sample: np.ndarray, projected: np.ndarray, options, events: JobEvents
) -> tuple[np.ndarray, TsneSummary, np.ndarray]:
    """2-D openTSNE embedding of up to ``options.tsne_sample`` rows, a summary, and which rows: of
    the first ``options.tsne_pca`` columns of ``projected`` (the rows in PC coordinates), or with
    ``tsne_pca`` 0 of ``sample``'s raw components. ``options.tsne_iterations`` counts every iteration
    as sklearn's n_iter does (the posts' 1000): the first EARLY_ITERATIONS exaggerated, the rest
    openTSNE's ``n_iter``."""
    from openTSNE import TSNE

    points = projected[:, : options.tsne_pca] if options.tsne_pca else sample
    rng = np.random.default_rng(options.seed)
    take = np.sort(rng.choice(len(points), size=min(options.tsne_sample, len(points)), replace=False))
    data = np.ascontiguousarray(points[take], dtype=np.float64)
    early = EARLY_ITERATIONS
    late = options.tsne_iterations - early
    if late < 0:
        raise LatentkitError(
            f"t-SNE takes at least {early} iterations (the early exaggeration's), got {options.tsne_iterations}"
        )
    events.start(f"t-SNE of {len(data):,} points", total=early + late)

    def progress(iteration, error, embedding):
        events.advance(50)
        return False  # keep going

    # openTSNE needs 3 x perplexity < points: a larger perplexity is capped (and the report says so)
    perplexity = min(options.tsne_perplexity, max(2.0, (len(data) - 1) / 3.5))
    exaggeration = options.tsne_exaggeration  # openTSNE's default, 12, when None
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        n_jobs=usable_cpus(),
        random_state=options.seed,
        early_exaggeration_iter=early,
        n_iter=late,
        callbacks=progress,
        callbacks_every_iters=50,
        verbose=False,
        **({} if exaggeration is None else {"early_exaggeration": exaggeration}),
    )
    fitted = tsne.fit(data)
    events.finish()
    kl = getattr(fitted, "kl_divergence", None)
    summary: TsneSummary = {
        "points": len(data),
        "input_dims": int(data.shape[1]),
        "kl_divergence": None if kl is None else float(kl),
        "perplexity": float(perplexity),
        "early_exaggeration": float(exaggeration or 12.0),
        "iterations": early + late,
        "early_exaggeration_iterations": early,
        "input": f"PC0 ... PC{data.shape[1] - 1}" if options.tsne_pca else "the raw components",
    }
    return np.asarray(fitted), summary, take


def run_kmeans(points: np.ndarray, options, events: JobEvents) -> Kmeans:
    """MiniBatchKMeans inertia for each k (``options.kmeans_ks``, else KMEANS_KS up to
    ``kmeans_max``) and the elbow: the k whose point lies farthest below the chord from the first
    to the last (inertia and k scaled to [0, 1]; the "kneedle" rule)."""
    from sklearn.cluster import MiniBatchKMeans

    wanted = options.kmeans_ks or [k for k in KMEANS_KS if k <= options.kmeans_max]
    ks = [k for k in wanted if 2 <= k <= len(points) - 1]
    events.start(f"MiniBatchKMeans on {len(points):,} points", total=len(ks))
    inertia = []
    for k in ks:
        model = MiniBatchKMeans(n_clusters=k, random_state=options.seed, n_init=3, batch_size=2048)
        model.fit(points)
        inertia.append(float(model.inertia_))
        events.advance()
    events.finish()
    return {"points": len(points), "k": ks, "inertia": inertia, "elbow": elbow(ks, inertia)}


def elbow(ks: list[int], inertia: list[float]) -> int | None:
    """The k of largest distance below the chord of the scaled (k, inertia) curve; None for < 3 points."""
    if len(ks) < 3:
        return None
    x = (np.asarray(ks, np.float64) - ks[0]) / (ks[-1] - ks[0])
    y = np.asarray(inertia, np.float64)
    y = (y - y.min()) / ((y.max() - y.min()) or 1.0)
    chord = y[0] + (y[-1] - y[0]) * x  # the straight line from the first point to the last
    return int(ks[int(np.argmax(chord - y))])
