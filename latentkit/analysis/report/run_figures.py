"""The figures of what a run's model does and of runs side by side: where the holes are
(coverage, re-encoding distances, a VAE's health, the re-encoded images, the worst
reconstructions), the attribute maps, and compare's. Drawn and saved through
``cloud_figures.save_figure``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from latentkit.analysis.measures.stats import histogram_density
from latentkit.analysis.report.drawing import generator_colour, plt, save_figure


def quality_figures(out: Path, report: dict[str, Any]) -> list[str]:
    """analyze's quality stage drawn: coverage, re-encoding distances, a VAE's health."""
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
        ax.set(
            ylim=(0, min(top, 1.5) * 1.05),
            ylabel="fraction (density: balls per point / k, capped at 1.5)",
            title=f"How much of the data each generator covers (k = {next(iter(coverage.values()))['k']}, "
            f"{next(iter(coverage.values()))['n']:,} points per set)",
        )
        ax.legend(ncol=4, fontsize=8)
        names.append(save_figure(fig, out / "coverage.png"))
    if "reencoding" in report:
        re = report["reencoding"]
        fig, ax = plt.subplots(figsize=(10, 4.8))
        items = list(re["generators"].items())
        ax.barh(range(len(items)), [g["median"] for _, g in items], color="tab:orange", label="median")
        ax.scatter(
            [g["p90"] for _, g in items], range(len(items)), color="black", marker="|", s=120, label="90th percentile"
        )
        ax.axvline(
            re["data"]["median"], color="tab:blue", ls="--", label=f"data's own median {re['data']['median']:.3g}"
        )
        ax.set_yticks(range(len(items)), [name for name, _ in items], fontsize=8)
        ax.set_xscale("log")
        ax.set(
            xlabel="||E(D(z)) - z||",
            title=f"Re-encoding distance: points in holes come back far away ({re['n']:,} per generator)",
        )
        ax.legend(fontsize=8)
        names.append(save_figure(fig, out / "reencoding.png"))
    if "vae" in report:
        vae = report["vae"]
        kl, variance = np.array(vae["kl_per_dim"]), np.array(vae["mean_variance"])
        order = np.argsort(kl)[::-1]
        fig, axes = plt.subplots(1, 3 if "logvar" in vae else 2, figsize=(16.5 if "logvar" in vae else 11, 4.2))
        axes[0].bar(range(len(kl)), kl[order], color="tab:purple")
        axes[0].set(title="KL per dimension (sorted)", xlabel="dimensions, largest KL first", ylabel="nats")
        axes[1].bar(
            range(len(variance)),
            variance[order],
            color=np.where(variance[order] > vae["threshold"], "tab:green", "tab:gray"),
        )
        axes[1].axhline(vae["threshold"], color="black", ls="--", lw=0.8)
        axes[1].set_yscale("symlog", linthresh=1e-3)
        axes[1].set(
            title=f"Var over the data of E[z|x]: {vae['active_units']} of {vae['dims']} active (> "
            f"{vae['threshold']:g})",
            xlabel="same order",
        )
        if "logvar" in vae:
            low, high, mean = (np.array(vae["logvar"][key])[order] for key in ("min", "max", "mean"))
            x = np.arange(len(mean))
            axes[2].vlines(x, low, high, color="tab:blue", lw=1, label="min to max over the data")
            axes[2].plot(x, mean, "o", ms=2.5, color="black", label="mean")
            axes[2].axhline(0, color="tab:red", ls="--", lw=0.8, label="log 1: the prior's variance")
            title = "log-variance per dimension (same order)"
            if "radius" in vae:
                r, gap = vae["radius"], vae["z_minus_mu"]
                title += (
                    f"\nradius of z {r['z']['mean']:.2f} vs of mu {r['mu']['mean']:.2f}; "
                    f"mean |z - mu| {gap['mean_abs']:.3f}"
                )
            axes[2].set(title=title, xlabel="same order")
            axes[2].xaxis.get_major_locator().set_params(integer=True)
            axes[2].legend(fontsize=7, frameon=False)
        names.append(save_figure(fig, out / "vae_health.png"))
    return names


def reencoded_faces_figure(out: Path, kept: dict[str, tuple[np.ndarray, np.ndarray]], decode, shown: int) -> str | None:
    """Per generator in ``kept`` (its z-points and their re-encoding distances): the decoded
    images of the ``shown`` z-points that came back nearest and the ``shown`` farthest."""
    chosen = list(kept)
    if not chosen:
        return None
    fig, axes = plt.subplots(len(chosen), 2 * shown, figsize=(2 * shown * 0.9, len(chosen) * 1.05), squeeze=False)
    for row, name in enumerate(chosen):
        z, distances = kept[name]
        order = np.argsort(distances)
        picks = list(order[:shown]) + list(order[::-1][:shown][::-1])
        faces = np.clip(decode(z[picks]), 0, 1)
        for col, (face, i) in enumerate(zip(faces, picks)):
            ax = axes[row, col]
            ax.imshow(face)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"{distances[i]:.2g}", fontsize=6)
        axes[row, 0].set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(
        "Decoded z-points that re-encode nearest (left) and farthest (right) from where they were drawn", fontsize=9
    )
    return save_figure(fig, out / "reencoded_faces.png")


def worst_reconstructions_figure(out: Path, worst: list[tuple[float, int, np.ndarray, np.ndarray]]) -> str | None:
    """``worst``: (mse, row, original, reconstruction), worst first (``ReconstructionQuality.worst``)."""
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


# -- attributes and compare -------------------------------------------------------------


def attribute_figure(path: Path, name: str, panels, absent: str, present: str) -> str:
    """Panels of (title, 2-D points, class per point: -1 absent, 1 present) side by side,
    coloured by one attribute."""
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 5.6), squeeze=False)
    for ax, (title, xy, classes) in zip(axes[0], panels):
        for value, colour, label in ((-1, "tab:gray", absent), (1, "tab:red", present)):
            pick = classes == value
            ax.scatter(xy[pick, 0], xy[pick, 1], s=3, alpha=0.45, color=colour, label=f"{label} ({pick.sum():,})")
        ax.set(title=title, xticks=[], yticks=[])
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.02), ncol=2, fontsize=8, frameon=False, markerscale=4)
    fig.suptitle(f"Latent space coloured by {name}")
    return save_figure(fig, path)


def compare_figures(out: Path, entries, hit_k: str) -> list[str]:
    """compare's figures: each run's radius density, PCA spectrum, components' centres and
    half-widths, and hit fractions at ``hit_k`` side by side (``entries``: compare's, with each
    report)."""
    from latentkit.analysis.generators import listed_key

    # matplotlib's stub: get_cmap gives a Colormap; tab10 is a ListedColormap, whose colors are its list of colours
    colours = plt.get_cmap("tab10").colors  # type: ignore[attr-defined]
    names = []
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for colour, e in zip(colours, entries):
        x, density = histogram_density(e["report"]["radius"]["histogram"])
        ax.plot(
            x,
            density,
            color=colour,
            lw=2,
            label=f"{e['label']} ({e['summary']['kind']}, z_dim {e['summary']['z_dim']})",
        )
    ax.set(title="Radius |z| of each run's data", xlabel="radius |z| (L2 norm)", ylabel="density")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    names.append(save_figure(fig, out / "compare_radius.png"))

    fig, ax = plt.subplots(figsize=(10, 4.8))
    for colour, e in zip(colours, entries):
        cum = e["report"]["pca"]["cumulative"]
        ax.plot(np.arange(1, len(cum) + 1), cum, color=colour, lw=2, label=e["label"])
    ax.set(
        title="PCA spectra: cumulative explained variance",
        xlabel="principal components",
        ylabel="fraction of variance",
        xscale="log",
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower right", fontsize=8)
    names.append(save_figure(fig, out / "compare_pca.png"))

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for colour, e in zip(colours, entries):
        comps = e["report"]["components"]
        ax.scatter(
            [c["gauss"]["centre"] for c in comps],
            [c["fwhm"] for c in comps],
            s=10,
            color=colour,
            alpha=0.6,
            label=e["label"],
        )
    ax.set(
        title="Each component's Gaussian-fit centre and half-width (FWHM)", xlabel="centre", ylabel="half-width (FWHM)"
    )
    ax.legend(fontsize=8)
    names.append(save_figure(fig, out / "compare_components.png"))

    generators = entries[0]["report"]["generators"]
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / len(entries)
    for i, (colour, e) in enumerate(zip(colours, entries)):
        values = [e["report"]["data_hit_fraction"][hit_k]] + [
            next(
                (g["hit_fraction"][hit_k] for g in e["report"]["generators"] if listed_key(g) == listed_key(ref)),
                np.nan,
            )
            for ref in generators
        ]
        ax.bar(np.arange(len(values)) + i * width, values, width, color=colour, label=e["label"])
    ax.set_xticks(
        np.arange(len(generators) + 1) + 0.4 - width / 2,
        ["data"] + [listed_key(g).replace("_", " ") for g in generators],
        rotation=30,
        ha="right",
    )
    for tick, g in zip(ax.get_xticklabels()[1:], generators):
        tick.set_color(generator_colour(g["method"], g["params"].get("b")))
    ax.set(
        title=f"Hit fraction (every component within {hit_k} half-widths of the data's centre)",
        ylabel="fraction",
        ylim=(0, 1.05),
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    names.append(save_figure(fig, out / "compare_hits.png"))
    return names
