"""analyze's stage of the numbers other latent-space tools report (issue 50, ``measures.peers``):
on every cloud the latents' Gaussian total correlation and (with ``--quality``) the local
intrinsic dimension per point; with a run whose model decodes, a traversal grid per latent
dimension, memorization (generated images against their nearest training images) and, for
latentkit's own VAE, the importance-weighted log-likelihood of images of its store. Each on a
bounded sample, drawn from a generator of its own (the other stages' draws stay as they were).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentkit.analysis.generators import make_generator
from latentkit.analysis.measures.peers import (
    TRAVERSAL_STEPS,
    local_dimension,
    local_dimension_summary,
    memorization,
    total_correlation,
    traversal_order,
    traversal_points,
)
from latentkit.analysis.report.quality_schema import Skipped
from latentkit.analysis.stages.context import Cloud, Section
from latentkit.core import AnalysisPaths
from latentkit.model.opened import OpenedRun

LOCAL_K = 20  # neighbours per point for the local dimension
TRAVERSAL_ROWS = 8  # latent dimensions in traversal.png
MEMORIZATION_DRAWS = 256  # generated images per generator
MEMORIZATION_GENERATORS = ("mvn", "gmm")  # the fitted normal and the mixture
SEED_OFFSET = 5_000  # this stage's generator: seed + this


def peer_numbers(c: Cloud) -> Section:
    """report.json's ``total_correlation`` (always), and with ``--quality`` ``local_dimension``,
    ``traversal``, ``memorization`` and ``log_likelihood`` (each where it applies;
    ``peers_skipped`` says what did not, and why)."""
    options, events = c.options, c.events
    rng = np.random.default_rng(options.seed + SEED_OFFSET)
    keys: dict[str, Any] = {"total_correlation": total_correlation(c.moments.cov_)}
    skipped: list[Skipped] = []

    def skip(what: str, why: str) -> None:
        skipped.append({"what": what, "why": why})
        events.message(f"analyze: {what} skipped: {why}")

    figures: list[str] = []
    local: tuple[np.ndarray, np.ndarray, str] | None = None
    if options.quality and len(c.sample) > LOCAL_K + 1:
        points, where, plane = _local_points(c, rng)
        events.start(f"local intrinsic dimension of {len(points):,} points (k = {LOCAL_K})", total=1)
        dimensions = local_dimension(points, LOCAL_K)
        keys["local_dimension"] = {**local_dimension_summary(dimensions, LOCAL_K), "map": plane}
        local = (dimensions, where, plane)
        events.finish()
    run = c.run
    if not options.quality:
        pass  # --no-quality: no model loaded for these either
    elif run is None:
        skip("traversal, memorization and log-likelihood", "no model with these vectors (analyze --run RUN)")
    elif not run.described.has_decoder:
        skip("traversal, memorization and log-likelihood", f"{run.root} has no decoder")
    else:
        codec = run.codec()
        keys["traversal"], grid = _traversal(c, codec.decode)
        memorized, pairs = _memorization(c, run, codec.decode, rng, skip)
        if memorized:
            keys["memorization"] = memorized
        likelihood = _likelihood(c, codec, skip)
        if likelihood is not None:
            keys["log_likelihood"] = likelihood
        if options.figures:
            from latentkit.analysis.report.peer_figures import memorization_figure, traversal_figure

            figures += [traversal_figure(c.out, grid, keys["traversal"])]
            if pairs:
                figures.append(memorization_figure(c.out, pairs))
    if skipped:
        keys["peers_skipped"] = skipped
    if options.figures and local is not None:
        from latentkit.analysis.report.peer_figures import local_dimension_figure

        figures.append(local_dimension_figure(c.out, *local))
    return Section(keys, figures)


def _local_points(c: Cloud, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """Up to ``quality_sample`` points of the sample, the 2-D places they are drawn at and which
    map that is: the t-SNE map's points where it was made, else the first two principal axes."""
    m = min(c.options.quality_sample, len(c.sample))
    files = AnalysisPaths(c.out)
    if "tsne" in c.report and files.tsne.exists() and files.tsne_rows.exists():
        embedding, rows = np.load(files.tsne), np.load(files.tsne_rows)
        chosen = np.sort(rng.choice(len(rows), size=min(m, len(rows)), replace=False))
        at = np.searchsorted(c.sample_rows, rows[chosen])  # the t-SNE's points are rows of the sample
        return c.sample[at], embedding[chosen], "t-SNE"
    chosen = np.sort(rng.choice(len(c.sample), size=m, replace=False))
    return c.sample[chosen], c.projected[chosen][:, :2], "PC0, PC1"


def _traversal(c: Cloud, decode) -> tuple[dict[str, Any], np.ndarray]:
    """The dimensions a traversal grid shows (by a VAE's KL where the quality stage measured it,
    else by variance) and their decoded rows: -3 ... +3 standard deviations around the mean."""
    kl = c.report.get("vae", {}).get("kl_per_dim")
    variances = np.diag(c.moments.cov_)
    dims, by = traversal_order(variances, None if kl is None else np.asarray(kl), TRAVERSAL_ROWS)
    sd = np.sqrt(variances)
    z = traversal_points(c.moments.mean_, sd, dims, TRAVERSAL_STEPS)
    values = np.asarray(kl) if kl is not None else variances
    found = {
        "ordered_by": by,
        "dims": dims,
        "values": [float(values[d]) for d in dims],
        "steps": list(TRAVERSAL_STEPS),
    }
    return found, np.asarray(decode(z))


def _memorization(c: Cloud, run: OpenedRun, decode, rng: np.random.Generator, skip) -> tuple[dict[str, Any], list]:
    """Per fitted generator (the normal, the mixture): its decoded draws against a sample of the
    training partition's images; and the nearest pairs' images, for the figure."""
    from latentkit import store
    from latentkit.store import sample_rows, select_rows, to_unit_float

    group = store.open_store(run.data, holds="images")
    rows = sample_rows(select_rows(group, "train"), c.options.memorization_images, seed=c.options.seed)
    if len(rows) < 3:
        skip("memorization", f"{len(rows)} training images in {run.data}: at least 3 are needed")
        return {}, []
    training = to_unit_float(store.get_array(group, "images").get_orthogonal_selection((rows,)))
    found: dict[str, Any] = {"training_images": len(rows), "draws": MEMORIZATION_DRAWS, "generators": {}}
    pairs = []
    keys = [key for key in MEMORIZATION_GENERATORS if key != "gmm" or c.fit.mixture is not None]
    c.events.start(f"memorization: {len(keys)} generators against {len(rows):,} training images", total=len(keys))
    for key in keys:
        z = make_generator(key, {}).sample(rng, MEMORIZATION_DRAWS, c.fit)
        images = np.asarray(decode(z))
        result = memorization(images, training)
        pairs.append((key, [(images[i], training[j], d) for (i, j), d in zip(result["pairs"], result["distances"])]))
        result["pairs"] = [[i, int(rows[j])] for i, j in result["pairs"]]  # (draw, the training image's store row)
        found["generators"][key] = result
        c.events.advance()
    c.events.finish()
    return found, pairs


def _likelihood(c: Cloud, codec, skip) -> dict[str, Any] | None:
    """latentkit's own VAE: the importance-weighted log p(x) of ``likelihood_images`` test images
    (valid, then any, where the test partition is empty), k = ``likelihood_k`` draws each."""
    run, options = c.run, c.options
    assert run is not None
    described = run.described
    if described.kind != "vae":
        return None
    if options.likelihood_k < 1:
        skip("log-likelihood", "--likelihood-k 0")
        return None
    if described.saved is None:
        skip("log-likelihood", "an imported VAE: the likelihood it was trained with is not known")
        return None
    from latentkit import store
    from latentkit.model.likelihood import importance_weighted, trained_likelihood
    from latentkit.model.spec import spec_from_dict
    from latentkit.store import sample_rows, select_rows, to_unit_float

    model = spec_from_dict(described.saved.meta["spec"]).model
    if not model.kl_factor > 0:
        skip("log-likelihood", "kl_factor 0: the loss has no KL term, so it is no ELBO")
        return None
    log_px, words = trained_likelihood(model.loss, model.kl_factor)
    group = store.open_store(run.data, holds="images")
    for partition in ("test", "valid", "all"):
        rows = select_rows(group, partition)
        if len(rows) >= 2:
            break
    else:
        skip("log-likelihood", f"fewer than 2 images in {run.data}")
        return None
    rows = sample_rows(rows, max(2, options.likelihood_images), seed=options.seed)
    images = to_unit_float(store.get_array(group, "images").get_orthogonal_selection((rows,)))
    c.events.start(
        f"log-likelihood: {len(rows):,} {partition} images, k = {options.likelihood_k} (importance-weighted)", total=1
    )
    mu, logvar = codec.posterior(images)
    found = importance_weighted(images, mu, logvar, codec.decode, log_px, k=options.likelihood_k, seed=options.seed)
    c.events.finish()
    return {**found, "partition": partition, "likelihood": words, "units": "nats per image"}
