"""The figures of the numbers other tools report (``stages.peers``): the traversal grid
(``traversal.png``), the local intrinsic dimension on the map (``local_dimension.png``) and the
generated images nearest a training image beside it (``memorization.png``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from latentkit.analysis.report.drawing import plt, save_figure


def traversal_figure(out: Path, images: np.ndarray, traversal: dict[str, Any]) -> str:
    """One row per latent dimension (most KL or variance first), one column per step in
    standard deviations from the data's mean; the other dimensions at their means."""
    dims, steps, values = traversal["dims"], traversal["steps"], traversal["values"]
    fig, axes = plt.subplots(len(dims), len(steps), figsize=(len(steps) * 0.95 + 0.8, len(dims) * 0.95), squeeze=False)
    label = "KL" if traversal["ordered_by"] == "kl" else "var"
    for r, dim in enumerate(dims):
        for col, step in enumerate(steps):
            ax = axes[r, col]
            ax.imshow(np.clip(images[r * len(steps) + col], 0, 1))
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{step:+g} sd", fontsize=7)
        axes[r, 0].set_ylabel(f"z{dim}\n{label} {values[r]:.3g}", fontsize=7, rotation=0, ha="right", va="center")
    by = "KL per dimension" if traversal["ordered_by"] == "kl" else "variance"
    fig.suptitle(f"Traversals: one latent dimension at a time, ordered by {by}", fontsize=9)
    return save_figure(fig, out / "traversal.png")


def local_dimension_figure(out: Path, dimensions: np.ndarray, where: np.ndarray, plane: str) -> str:
    """The points on the map coloured by their local intrinsic dimension, and its histogram."""
    fig, (ax, hist) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.4, 1]})
    kept = np.isfinite(dimensions)
    if kept.any():
        low, high = np.quantile(dimensions[kept], [0.02, 0.98])
        shown = ax.scatter(
            where[kept, 0],
            where[kept, 1],
            c=dimensions[kept],
            s=float(np.clip(6000 / kept.sum(), 2, 12)),
            cmap="viridis",
            vmin=low,
            vmax=high,
            linewidths=0,
        )
        fig.colorbar(shown, ax=ax, label="local dimension")
        hist.hist(dimensions[kept], bins=40, color="tab:blue")
        hist.axvline(float(np.median(dimensions[kept])), color="black", lw=1, label="median")
        hist.legend(fontsize=7, frameon=False)
    ax.set_title(f"Local intrinsic dimension on the {plane} map", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    hist.set_xlabel("local dimension (Levina-Bickel, k nearest neighbours)")
    hist.set_ylabel("points")
    return save_figure(fig, out / "local_dimension.png")


def memorization_figure(out: Path, pairs: list[tuple[str, list[tuple[np.ndarray, np.ndarray, float]]]]) -> str:
    """Per generator, the generated images nearest a training image (top) above that training
    image (bottom), nearest first, with their pixel distance."""
    columns = max(len(shown) for _, shown in pairs)
    fig, axes = plt.subplots(2 * len(pairs), columns, figsize=(columns * 1.0, 2.1 * len(pairs)), squeeze=False)
    for g, (name, shown) in enumerate(pairs):
        for col in range(columns):
            for r in (0, 1):
                ax = axes[2 * g + r, col]
                ax.set_xticks([]), ax.set_yticks([])
                if col < len(shown):
                    ax.imshow(np.clip(shown[col][r], 0, 1))
                else:
                    ax.axis("off")
            if col < len(shown):
                axes[2 * g, col].set_title(f"{shown[col][2]:.3g}", fontsize=6)
        axes[2 * g, 0].set_ylabel(f"{name}\ngenerated", fontsize=7, rotation=0, ha="right", va="center")
        axes[2 * g + 1, 0].set_ylabel("nearest\ntraining", fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle("Generated images nearest a training image (pixel distance above each pair)", fontsize=9)
    return save_figure(fig, out / "memorization.png")
