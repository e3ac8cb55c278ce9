"""The analyze job's quality stage: where the holes are (``latentkit.analysis.measures.holes``'s measures
applied to a run). What needs no model runs on any vectors: coverage of every generator,
fragments of the data cloud, intrinsic dimensions, a VAE's health from its stored mean and
log-variance. With a run whose model has a decoder, also: every generator's z-points decoded and
encoded again, and the reconstructions' MSE, PSNR and SSIM per partition. Each part says
what it skipped and why; samples are bounded, so memory does not grow with the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np

from latentkit.analysis.generators import Posterior, generators_of
from latentkit.analysis.measures.holes import (
    ReconstructionQuality,
    VaeHealthStream,
    fragments,
    kth_neighbour_radii,
    prdc,
    reencoding_distances,
    summary,
)
from latentkit.analysis.measures.holes import two_nn as intrinsic_dimension
from latentkit.analysis.report.quality_schema import (
    Coverage,
    IntrinsicDimension,
    Mismatch,
    Reconstruction,
    Reencoding,
    Skipped,
    VaeHealth,
)
from latentkit.analysis.stages.context import Cloud, Section
from latentkit.core import JobEvents
from latentkit.model.opened import OpenedRun
from latentkit.store import get_array
from latentkit.store.latents import block_ranges

FACES_SHOWN = 6  # best and worst decoded faces per generator in reencoded_faces.png
FACE_GENERATORS = ("normal", "uniform_b1.5", "uniform_b3", "mvn", "gmm")


def quality(c: Cloud) -> Section:
    """report.json's ``coverage``, ``intrinsic_dimension``, ``fragments``, ``vae``, ``mismatch``,
    ``reencoding``, ``reconstruction`` and ``quality_skipped`` (what was not measured, and why),
    and the figures of what it measured."""
    if not c.options.quality:
        return Section()
    latents, valid, sample, fit, options, rng = c.latents, c.valid, c.sample, c.fit, c.options, c.rng
    generated, run, out, events = c.generated, c.run, c.out, c.events
    n = min(options.quality_sample, len(sample))
    data = sample[rng.permutation(len(sample))[:n]]
    generators = {g.key: g for g in generators_of(fit, options.uniform_bs)}
    drawn = {name: g.sample(rng, n, fit) for name, g in generators.items()}
    for name, array_ in generated.items():
        rows = np.sort(rng.choice(array_.shape[0], size=min(n, array_.shape[0]), replace=False))
        drawn[name] = np.asarray(array_.get_orthogonal_selection((rows,)), np.float64)
    skipped: list[Skipped] = []
    report: dict[str, Any] = {"quality_skipped": skipped}

    def skip(what: str, why: str) -> None:
        skipped.append({"what": what, "why": why})
        events.message(f"analyze: {what} skipped: {why}")

    if n < options.k + 2:
        skip("coverage, fragments and intrinsic dimension", f"{n} points: at least {options.k + 2} are needed")
        return Section(report)
    events.start(
        f"coverage and intrinsic dimension of {len(drawn)} generators ({n:,} points each, k = {options.k})",
        total=len(drawn) + 2,
    )
    coverage: dict[str, Coverage] = {}
    dimensions: IntrinsicDimension = {"data": intrinsic_dimension(data), "generators": {}, "n": n}
    report["coverage"], report["intrinsic_dimension"] = coverage, dimensions
    radii: dict[int, np.ndarray] = {}  # the data's k-NN radii, per sample size
    for name, z in drawn.items():
        equal = data[: len(z)]  # equal sample sizes (a user's sample may be smaller)
        if len(z) not in radii:
            radii[len(z)] = kth_neighbour_radii(equal, options.k)
        coverage[name] = {**prdc(equal, z, k=options.k, real_radii=radii[len(z)]), "k": options.k, "n": len(z)}
        dimensions["generators"][name] = intrinsic_dimension(z)
        events.advance()
    report["fragments"] = fragments(data, k=options.k)
    events.advance()
    vae = _vae_health(latents, valid, options)
    if vae is not None:
        report["vae"] = vae
    events.advance()
    events.finish()
    report["mismatch"] = _mismatch(fit.posterior, data, drawn, options, events)

    figures: list[str] = []
    if run is None:
        skip("re-encoding and reconstruction quality", "no model with these vectors (analyze --run RUN measures them)")
    elif not run.described.has_decoder:
        skip("re-encoding and reconstruction quality", f"{run.root} has no decoder")
    else:
        reencoding, reconstruction, figures = _model_quality(run, data, drawn, options, rng, out, events)
        report["reencoding"], report["reconstruction"] = reencoding, reconstruction
    if not options.figures:
        return Section(report)
    from latentkit.analysis.report.run_figures import quality_figures

    return Section(report, quality_figures(out, report) + figures)


def _mismatch(
    posterior: Posterior | None, data: np.ndarray, drawn: dict[str, np.ndarray], options, events: JobEvents
) -> Mismatch:
    """MMD between the data and every generator (standard normal: N(0, I)), equal samples of
    ``options.mmd_sample``; for a VAE's latents also I(x; z) and KL(q(z) || p(z))."""
    from latentkit.analysis.measures.mismatch import mmd, vae_information

    m = min(options.mmd_sample, len(data))
    found: Mismatch = {"mmd": {}, "n": m}
    events.start(
        f"prior mismatch: MMD of {len(drawn)} generators ({m:,} points each, permutation test)", total=len(drawn)
    )
    for i, (name, z) in enumerate(drawn.items()):
        found["mmd"][name] = mmd(data[:m], z[:m], seed=options.seed + i)
        events.advance()
    events.finish()
    if posterior is not None:  # the fit's sample of (mu, log-variance) rows, read once by the passes
        rows = np.random.default_rng(options.seed).permutation(len(posterior.mu))[: options.mmd_sample]
        found["vae"] = vae_information(posterior.mu[rows], posterior.logvar[rows], seed=options.seed)
    return found


def _vae_health(latents, valid: np.ndarray, options) -> VaeHealth | None:
    """KL per dimension and active units from the latents' ``mu`` and ``logvar`` (a VAE's), streamed."""
    import zarr

    if not (Path(latents) / "zarr.json").exists():
        return None
    group = zarr.open(latents, mode="r")
    if not isinstance(group, zarr.Group) or "mu" not in group or "logvar" not in group:
        return None
    mu, logvar = get_array(group, "mu"), get_array(group, "logvar")
    z = get_array(group, "z") if "z" in group and get_array(group, "z").shape == mu.shape else None
    drawn = group.attrs.get("use") == "z"  # the encode drew z with clipped noise (not z = mu)
    eps_factor = cast(float | None, group.attrs.get("eps_factor"))  # the encode writes its spec's float
    health = VaeHealthStream(mu.shape[1], eps_factor=eps_factor if drawn else None)
    for start, stop in block_ranges(mu, options.read_rows):
        keep = valid[start:stop]
        health.update(
            np.asarray(mu[start:stop])[keep],
            np.asarray(logvar[start:stop])[keep],
            None if z is None else np.asarray(z[start:stop])[keep],
        )
    return health.result()


def _model_quality(
    run: OpenedRun, data: np.ndarray, drawn: dict[str, np.ndarray], options, rng, out: Path, events: JobEvents
) -> tuple[Reencoding, dict[str, Reconstruction], list[str]]:
    """Re-encoding distances of every generator against the data's own, and reconstruction
    quality per partition, with the run's model; and the names of the figures of faces drawn."""
    from latentkit import store
    from latentkit.store import PARTITIONS, sample_rows, select_rows, to_unit_float

    codec = run.codec()
    encode, decode = codec.encode, codec.decode

    group = store.open_store(run.data, holds="images")
    images = store.get_array(group, "images")
    m = min(options.reencode_sample, len(data))
    usable = np.flatnonzero(store.read_all(group, "ok").astype(bool))
    rows = np.sort(rng.choice(usable, size=min(m, len(usable)), replace=False))
    events.start(f"re-encoding: {m:,} z-points per generator decoded and encoded again", total=len(drawn) + 1)
    own = encode(to_unit_float(images.get_orthogonal_selection((rows,))))  # E(x) of data images
    data_distances = reencoding_distances(own, decode, encode)
    events.advance()
    reencoding: Reencoding = {"data": summary(data_distances), "generators": {}, "n": m}
    kept: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, z in drawn.items():
        distances = reencoding_distances(z[:m], decode, encode)
        reencoding["generators"][name] = {
            **summary(distances),
            "median_ratio": float(np.median(distances) / max(np.median(data_distances), 1e-12)),
        }
        kept[name] = (z[:m], distances)
        events.advance()
    events.finish()

    reconstruction: dict[str, Reconstruction] = {}
    worst: list[tuple[float, int, np.ndarray, np.ndarray]] = []  # the partitions' worst, merged
    limit = options.reconstruction_images or None  # a random sample across each partition, not its first rows
    partitions = {name: sample_rows(select_rows(group, name), limit, seed=options.seed) for name in PARTITIONS}
    total = sum(len(r) for r in partitions.values())
    events.start(f"reconstruction quality: {total:,} images (MSE, PSNR, SSIM)", total=total, unit="images")
    for name, part_rows in partitions.items():
        if len(part_rows) == 0:
            continue
        quality = ReconstructionQuality()
        for start in range(0, len(part_rows), 256):
            chosen = part_rows[start : start + 256]
            originals = to_unit_float(images.get_orthogonal_selection((chosen,)))
            quality.update(chosen, originals, codec.reconstruct(originals))
            events.advance(len(chosen))
        reconstruction[name] = quality.result()
        worst = sorted(worst + quality.worst(), key=lambda item: -item[0])[: quality.keep]
    events.finish()
    figures = []
    if options.figures:
        from latentkit.analysis.report.run_figures import reencoded_faces_figure, worst_reconstructions_figure

        faces = {name: kept[name] for name in kept if name in FACE_GENERATORS or name.startswith("yours")}
        figures = [reencoded_faces_figure(out, faces, decode, FACES_SHOWN), worst_reconstructions_figure(out, worst)]
    return reencoding, reconstruction, [name for name in figures if name]
