"""The figures of paths through the latent space and of the decoder's stretching:
``interpolate --path geodesic`` (the straight line and the geodesic decoded, each step scored)
and ``plane --magnification`` (the decoder's log magnification over a plane, the data on it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentkit.analysis.report.drawing import plt, save_figure


def paths_figure(path: Path, originals: np.ndarray, strips: list[tuple[str, np.ndarray, dict]]) -> str:
    """Two strips of decoded steps between the two originals, one per path (``strips``: name,
    images, ``path_scores``'s numbers), with each step's re-encoding distance (r) and the pixel
    distance from the step before (Δ) under it."""
    steps = len(strips[0][1])
    columns = steps + 2
    fig, axes = plt.subplots(len(strips), columns, figsize=(1.15 * columns, 1.75 * len(strips)), squeeze=False)
    for (name, images, scores), row in zip(strips, axes):
        tiles = [originals[0], *images, originals[1]]
        for column, (ax, tile) in enumerate(zip(row, tiles)):
            ax.imshow(np.clip(tile, 0, 1))
            ax.set(xticks=[], yticks=[])
            if column in (0, columns - 1):
                ax.set_xlabel("original", fontsize=7)
                continue
            step = column - 1
            label = f"r {scores['reencoding'][step]:.3g}"
            if step > 0:
                label += f"\nΔ {scores['step_size'][step - 1]:.2g}"
            ax.set_xlabel(label, fontsize=6.5)
        row[0].set_ylabel(name, fontsize=9)
        row[columns // 2].set_title(
            f"{name}: re-encoding r median {scores['reencoding_median']:.3g}, max {scores['reencoding_max']:.3g}; "
            f"decoded step Δ mean {scores['step_size_mean']:.2g}, max {scores['step_size_max']:.2g}",
            fontsize=8,
        )
    fig.text(
        0.5,
        0.0,
        "r: re-encoding distance ||E(D(z)) - z||;  Δ: RMS pixel change from the step before",
        ha="center",
        fontsize=7,
    )
    fig.subplots_adjust(wspace=0.05, hspace=0.55)
    return save_figure(fig, path)


def magnification_figure(path: Path, values: np.ndarray, half: float, centre, points: np.ndarray, labels) -> str:
    """The decoder's log magnification on a square grid (``values`` (n, n), rows from the
    bottom) of half-side ``half`` around ``centre`` in the plane, the data's ``points`` over it."""
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    (cx, cy), shown = centre, np.where(np.isfinite(values), values, np.nan)
    image = ax.imshow(
        shown,
        origin="lower",
        extent=(cx - half, cx + half, cy - half, cy + half),
        cmap="viridis",
        interpolation="nearest",
    )
    fig.colorbar(image, ax=ax, label=r"log magnification, $\log\sqrt{\det J^{T}J}$")
    ax.scatter(points[:, 0], points[:, 1], s=2, color="white", edgecolors="black", linewidths=0.2, alpha=0.7)
    ax.set(
        xlim=(cx - half, cx + half),
        ylim=(cy - half, cy + half),
        xlabel=labels[0],
        ylabel=labels[1],
        title=f"The decoder's magnification over the {labels[0]}-{labels[1]} plane ({len(values)}x{len(values)})",
    )
    ax.title.set_fontsize(9)
    return save_figure(fig, path)
