"""The analyze job's quality stage: where the holes are (``latentkit.analysis.hole_measures``'s measures
applied to a run). What needs no model runs on any vectors: coverage of every generator,
fragments of the data cloud, intrinsic dimensions, a VAE's health from its stored mean and
log-variance. With a run whose model has a decoder, also: every generator's z-points decoded and
encoded again, and the reconstructions' MSE, PSNR and SSIM per partition. Each part says
what it skipped and why; samples are bounded, so memory does not grow with the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.analysis.hole_measures import (ReconstructionQuality, VaeHealth, fragments, kth_neighbour_radii, prdc,
                                              reencoding_distances, summary)
from latentkit.analysis.hole_measures import two_nn as intrinsic_dimension
from latentkit.analysis.samplers import LatentFit, generators_of
from latentkit.core import JobEvents

FACES_SHOWN = 6  # best and worst decoded faces per generator in reencoded_faces.png
FACE_GENERATORS = ("normal", "uniform_b1.5", "uniform_b3", "mvn", "gmm")


def holes_report(*, latents: str | os.PathLike, valid: np.ndarray, sample: np.ndarray, fit: LatentFit, options,
                   rng: np.random.Generator, generated: dict[str, Any], run: str | os.PathLike | None, out: Path,
                   events: JobEvents) -> dict[str, Any]:  # fmt: skip
    """report.json's ``coverage``, ``intrinsic_dimension``, ``fragments``, ``vae``, ``reencoding``,
    ``reconstruction`` and ``quality_skipped`` (what was not measured, and why)."""
    n = min(options.quality_sample, len(sample))
    data = sample[rng.permutation(len(sample))[:n]]
    generators = {g.key: g for g in generators_of(fit, options.uniform_bs)}
    drawn = {name: g.sample(rng, n, fit) for name, g in generators.items()}
    for name, array_ in generated.items():
        rows = np.sort(rng.choice(array_.shape[0], size=min(n, array_.shape[0]), replace=False))
        drawn[name] = np.asarray(array_.get_orthogonal_selection((rows,)), np.float64)
    report: dict[str, Any] = {"quality_skipped": []}
    skipped = report["quality_skipped"]

    def skip(what: str, why: str) -> None:
        skipped.append({"what": what, "why": why})
        events.message(f"analyze: {what} skipped: {why}")

    if n < options.k + 2:
        skip("coverage, fragments and intrinsic dimension", f"{n} points: at least {options.k + 2} are needed")
        return report
    events.start(f"coverage and intrinsic dimension of {len(drawn)} generators ({n:,} points each, k = {options.k})",
                 total=len(drawn) + 2)  # fmt: skip
    report["coverage"] = {}
    report["intrinsic_dimension"] = {"data": intrinsic_dimension(data), "generators": {}, "n": n}
    radii: dict[int, np.ndarray] = {}  # the data's k-NN radii, per sample size
    for name, z in drawn.items():
        equal = data[: len(z)]  # equal sample sizes (a user's sample may be smaller)
        if len(z) not in radii:
            radii[len(z)] = kth_neighbour_radii(equal, options.k)
        report["coverage"][name] = {**prdc(equal, z, k=options.k, real_radii=radii[len(z)]), "k": options.k,
                                    "n": len(z)}  # fmt: skip
        report["intrinsic_dimension"]["generators"][name] = intrinsic_dimension(z)
        events.advance()
    report["fragments"] = fragments(data, k=options.k)
    events.advance()
    vae = _vae_health(latents, valid, options)
    if vae is not None:
        report["vae"] = vae
    events.advance()
    events.finish()
    report["mismatch"] = _mismatch(latents, valid, data, drawn, options, events)

    figures = []
    if run is None:
        skip("re-encoding and reconstruction quality", "no model with these vectors (analyze --run RUN measures them)")
    else:
        from latentkit.model.runs import read_run

        described = read_run(run)
        if not described.has_decoder:
            skip("re-encoding and reconstruction quality", f"{run} has no decoder")
        else:
            numbers, figures = _model_quality(run, described, data, drawn, options, rng, out, events)
            report.update(numbers)
    if options.figures:
        report["quality_figures"] = _figures(out, report) + figures
    return report


def _mismatch(latents, valid: np.ndarray, data: np.ndarray, drawn: dict[str, np.ndarray], options,
              events: JobEvents) -> dict[str, Any]:  # fmt: skip
    """MMD between the data and every generator (standard normal: N(0, I)), equal samples of
    ``options.mmd_sample``; for a VAE's latents also I(x; z) and KL(q(z) || p(z))."""
    from latentkit.analysis.mismatch import mmd, vae_information

    m = min(options.mmd_sample, len(data))
    found: dict[str, Any] = {"mmd": {}, "n": m}
    events.start(f"prior mismatch: MMD of {len(drawn)} generators ({m:,} points each, permutation test)",
                 total=len(drawn))  # fmt: skip
    for i, (name, z) in enumerate(drawn.items()):
        found["mmd"][name] = mmd(data[:m], z[:m], seed=options.seed + i)
        events.advance()
    events.finish()
    from latentkit.analysis.data_samplers import read_posterior

    posterior = read_posterior(latents, valid, options.mmd_sample, options.seed)
    if posterior is not None:
        found["vae"] = vae_information(posterior.mu, posterior.logvar, seed=options.seed)
    return found


def _vae_health(latents, valid: np.ndarray, options) -> dict[str, Any] | None:
    """KL per dimension and active units from the latents' ``mu`` and ``logvar`` (a VAE's), streamed."""
    import zarr

    if not (Path(latents) / "zarr.json").exists():
        return None
    group = zarr.open(latents, mode="r")
    if not isinstance(group, zarr.Group) or "mu" not in group or "logvar" not in group:
        return None
    mu, logvar = group["mu"], group["logvar"]
    z = group["z"] if "z" in group and group["z"].shape == mu.shape else None
    health = VaeHealth(mu.shape[1])
    step = max(mu.chunks[0], options.read_rows // mu.chunks[0] * mu.chunks[0])
    for start in range(0, mu.shape[0], step):
        keep = valid[start : start + step]
        health.update(np.asarray(mu[start : start + step])[keep], np.asarray(logvar[start : start + step])[keep],
                      None if z is None else np.asarray(z[start : start + step])[keep])  # fmt: skip
    return health.result()


def _model_quality(run, described, data: np.ndarray, drawn: dict[str, np.ndarray], options, rng, out: Path,
                   events: JobEvents) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
    """Re-encoding distances of every generator against the data's own, and reconstruction
    quality per partition, with the run's model; and the names of the figures of faces drawn."""
    from latentkit import store
    from latentkit.model.codec import open_codec
    from latentkit.model.runs import latents_store
    from latentkit.store import PARTITIONS, select_rows, to_unit_float

    codec = open_codec(run, described)
    encode, decode = codec.encode, codec.decode

    group = store.open_store(latents_store(run, described), holds="images")
    images = group["images"]
    m = min(options.reencode_sample, len(data))
    usable = np.flatnonzero(group["ok"][:].astype(bool))
    rows = np.sort(rng.choice(usable, size=min(m, len(usable)), replace=False))
    events.start(f"re-encoding: {m:,} z-points per generator decoded and encoded again", total=len(drawn) + 1)
    own = encode(to_unit_float(images.get_orthogonal_selection((rows,))))  # E(x) of data images
    data_distances = reencoding_distances(own, decode, encode)
    events.advance()
    reencoding: dict[str, Any] = {"data": summary(data_distances), "generators": {}, "n": m}
    kept: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, z in drawn.items():
        distances = reencoding_distances(z[:m], decode, encode)
        reencoding["generators"][name] = {**summary(distances),
                                          "median_ratio": float(np.median(distances) / max(np.median(data_distances),
                                                                                         1e-12))}  # fmt: skip
        kept[name] = (z[:m], distances)
        events.advance()
    events.finish()

    reconstruction: dict[str, Any] = {}
    worst: list[tuple[float, int, np.ndarray, np.ndarray]] = []  # the partitions' worst, merged
    partitions = {name: select_rows(group, name) for name in PARTITIONS}
    limit = options.reconstruction_images or None
    total = sum(len(r[:limit]) for r in partitions.values())
    events.start(f"reconstruction quality: {total:,} images (MSE, PSNR, SSIM)", total=total, unit="images")
    for name, part_rows in partitions.items():
        part_rows = part_rows[:limit]
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
    figures = [_faces_figure(out, kept, decode), _worst_figure(out, worst)] if options.figures else []
    return {"reencoding": reencoding, "reconstruction": reconstruction}, [name for name in figures if name]


# -- figures ---------------------------------------------------------------------------


def _figures(out: Path, report: dict[str, Any]) -> list[str]:
    from latentkit.analysis.figures import plt, save_figure

    names = []
    if "coverage" in report:
        coverage = report["coverage"]
        fig, ax = plt.subplots(figsize=(10, 4.8))
        keys, width = ("precision", "recall", "density", "coverage"), 0.2
        x = np.arange(len(coverage))
        for i, key in enumerate(keys):
            ax.bar(x + (i - 1.5) * width, [min(c[key], 1.5) for c in coverage.values()], width, label=key)
        ax.set_xticks(x, list(coverage), rotation=30, ha="right", fontsize=8)
        top = max(max(c[key] for c in coverage.values() for key in keys), 1.0)
        ax.set(ylim=(0, min(top, 1.5) * 1.05), ylabel="fraction (density: balls per point / k, capped at 1.5)",
               title=f"How much of the data each generator covers (k = {next(iter(coverage.values()))['k']}, "
                     f"{next(iter(coverage.values()))['n']:,} points per set)")  # fmt: skip
        ax.legend(ncol=4, fontsize=8)
        names.append(save_figure(fig, out / "coverage.png"))
    if "reencoding" in report:
        re = report["reencoding"]
        fig, ax = plt.subplots(figsize=(10, 4.8))
        items = list(re["generators"].items())
        ax.barh(range(len(items)), [g["median"] for _, g in items], color="tab:orange", label="median")
        ax.scatter([g["p90"] for _, g in items], range(len(items)), color="black", marker="|", s=120, label="90th percentile")
        ax.axvline(re["data"]["median"], color="tab:blue", ls="--", label=f"data's own median {re['data']['median']:.3g}")
        ax.set_yticks(range(len(items)), [name for name, _ in items], fontsize=8)
        ax.set_xscale("log")
        ax.set(xlabel="||E(D(z)) - z||", title=f"Re-encoding distance: points in holes come back far away "
                                               f"({re['n']:,} per generator)")  # fmt: skip
        ax.legend(fontsize=8)
        names.append(save_figure(fig, out / "reencoding.png"))
    if "vae" in report:
        vae = report["vae"]
        kl, variance = np.array(vae["kl_per_dim"]), np.array(vae["mean_variance"])
        order = np.argsort(kl)[::-1]
        fig, axes = plt.subplots(1, 3 if "logvar" in vae else 2, figsize=(16.5 if "logvar" in vae else 11, 4.2))
        axes[0].bar(range(len(kl)), kl[order], color="tab:purple")
        axes[0].set(title="KL per dimension (sorted)", xlabel="dimensions, largest KL first", ylabel="nats")
        axes[1].bar(range(len(variance)), variance[order], color=np.where(variance[order] > vae["threshold"],
                                                                          "tab:green", "tab:gray"))  # fmt: skip
        axes[1].axhline(vae["threshold"], color="black", ls="--", lw=0.8)
        axes[1].set_yscale("symlog", linthresh=1e-3)
        axes[1].set(title=f"Var over the data of E[z|x]: {vae['active_units']} of {vae['dims']} active (> "
                          f"{vae['threshold']:g})", xlabel="same order")  # fmt: skip
        if "logvar" in vae:
            low, high, mean = (np.array(vae["logvar"][key])[order] for key in ("min", "max", "mean"))
            x = np.arange(len(mean))
            axes[2].vlines(x, low, high, color="tab:blue", lw=1, label="min to max over the data")
            axes[2].plot(x, mean, "o", ms=2.5, color="black", label="mean")
            axes[2].axhline(0, color="tab:red", ls="--", lw=0.8, label="log 1: the prior's variance")
            title = "log-variance per dimension (same order)"
            if "radius" in vae:
                r, gap = vae["radius"], vae["z_minus_mu"]
                title += (f"\nradius of z {r['z']['mean']:.2f} vs of mu {r['mu']['mean']:.2f}; "
                          f"mean |z - mu| {gap['mean_abs']:.3f}")
            axes[2].set(title=title, xlabel="same order")
            axes[2].xaxis.get_major_locator().set_params(integer=True)
            axes[2].legend(fontsize=7, frameon=False)
        names.append(save_figure(fig, out / "vae_health.png"))
    return names


def _faces_figure(out: Path, kept: dict[str, tuple[np.ndarray, np.ndarray]], decode) -> str | None:
    """Per generator: the decoded faces of the z-points that came back nearest and farthest."""
    from latentkit.analysis.figures import plt, save_figure

    chosen = [name for name in kept if name in FACE_GENERATORS or name.startswith("yours")]
    if not chosen:
        return None
    fig, axes = plt.subplots(len(chosen), 2 * FACES_SHOWN, figsize=(2 * FACES_SHOWN * 0.9, len(chosen) * 1.05),
                             squeeze=False)  # fmt: skip
    for row, name in enumerate(chosen):
        z, distances = kept[name]
        order = np.argsort(distances)
        picks = list(order[:FACES_SHOWN]) + list(order[::-1][:FACES_SHOWN][::-1])
        faces = np.clip(decode(z[picks]), 0, 1)
        for col, (face, i) in enumerate(zip(faces, picks)):
            ax = axes[row, col]
            ax.imshow(face)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"{distances[i]:.2g}", fontsize=6)
        axes[row, 0].set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle("Decoded z-points that re-encode nearest (left) and farthest (right) from where they were drawn",
                 fontsize=9)  # fmt: skip
    return save_figure(fig, out / "reencoded_faces.png")


def _worst_figure(out: Path, worst: list[tuple[float, int, np.ndarray, np.ndarray]]) -> str | None:
    """``worst``: (mse, row, original, reconstruction), worst first (``ReconstructionQuality.worst``)."""
    from latentkit.analysis.figures import plt, save_figure

    if not worst:
        return None
    fig, axes = plt.subplots(2, len(worst), figsize=(len(worst) * 1.2, 2.7), squeeze=False)
    for col, (mse, row, original, rebuilt) in enumerate(worst):
        for r, image in enumerate((original, rebuilt)):
            axes[r, col].imshow(np.clip(image, 0, 1))
            axes[r, col].set_xticks([]), axes[r, col].set_yticks([])
        axes[0, col].set_title(f"row {row}\nMSE {mse:.3g}", fontsize=7)
    axes[0, 0].set_ylabel("image", fontsize=8)
    axes[1, 0].set_ylabel("rebuilt", fontsize=8)
    fig.suptitle("The worst reconstructions (highest MSE)", fontsize=9, y=1.06)
    return save_figure(fig, out / "worst_reconstructions.png")
