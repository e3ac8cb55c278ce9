"""t-SNE (openTSNE) and MiniBatchKMeans on a sample of the latent cloud, with progress."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from latentkit.core import JobEvents

KMEANS_KS = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 70, 80)


def run_tsne(points: np.ndarray, options, events: JobEvents) -> tuple[np.ndarray, dict[str, Any], np.ndarray]:
    """2-D openTSNE embedding of up to ``options.tsne_sample`` rows, a summary, and which rows of ``points``."""
    from openTSNE import TSNE

    rng = np.random.default_rng(options.seed)
    take = np.sort(rng.choice(len(points), size=min(options.tsne_sample, len(points)), replace=False))
    data = np.ascontiguousarray(points[take], dtype=np.float64)
    early, late = 250, 500
    events.start(f"t-SNE of {len(data):,} points", total=early + late)

    def progress(iteration, error, embedding):
        events.advance(50)
        return False  # keep going

    tsne = TSNE(n_components=2, perplexity=min(30.0, max(2.0, (len(data) - 1) / 3.5)), n_jobs=os.cpu_count() or 1,
                random_state=options.seed, early_exaggeration_iter=early, n_iter=late,
                callbacks=progress, callbacks_every_iters=50, verbose=False)  # fmt: skip
    fitted = tsne.fit(data)
    events.finish()
    kl = getattr(fitted, "kl_divergence", None)
    summary = {"points": len(data), "input_dims": int(data.shape[1]), "kl_divergence": None if kl is None else float(kl)}
    return np.asarray(fitted), summary, take


def run_kmeans(points: np.ndarray, options, events: JobEvents) -> dict[str, Any]:
    """MiniBatchKMeans inertia for k = 2 .. kmeans_max (the elbow of the studies)."""
    from sklearn.cluster import MiniBatchKMeans

    ks = [k for k in KMEANS_KS if k <= min(options.kmeans_max, len(points) - 1)]
    events.start(f"MiniBatchKMeans on {len(points):,} points", total=len(ks))
    inertia = []
    for k in ks:
        model = MiniBatchKMeans(n_clusters=k, random_state=options.seed, n_init=3, batch_size=2048)
        model.fit(points)
        inertia.append(float(model.inertia_))
        events.advance()
    events.finish()
    return {"points": len(points), "k": ks, "inertia": inertia}
