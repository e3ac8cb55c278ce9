"""The figures of the commands that look at one plane of the cloud: ``plane`` (the cloud at
several zooms beside the fitted normal) and ``lattice`` (decoded images on a grid over the plane's
density). ``figures`` holds analyze's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentkit.analysis.report.drawing import plt, save_figure


def plane_figure(path: Path, windows, normal, zooms, labels, nn, notes=None) -> str:
    """plane_*.png: the data's points in one plane at each zoom (black) with the fitted normal's
    (orange) in the same window, and the nearest-neighbour distances of both in that plane;
    ``notes``: per zoom, what to do about a nearly empty window ("" where it is not)."""
    fig, axes = plt.subplots(1, len(zooms) + 1, figsize=(4.6 * (len(zooms) + 1), 4.6), squeeze=False)
    for ax, zoom, window, drawn, note in zip(axes[0], zooms, windows, normal, notes or [""] * len(zooms)):
        ax.scatter(
            drawn[:, 0], drawn[:, 1], s=1, color="tab:orange", alpha=0.35, rasterized=True, label="fitted normal"
        )
        ax.scatter(
            window.points[:, 0], window.points[:, 1], s=1, color="black", alpha=0.5, rasterized=True, label="data"
        )
        (cx, cy), half = window.centre, window.half
        ax.set(xlim=(cx - half, cx + half), ylim=(cy - half, cy + half), xlabel=labels[0], ylabel=labels[1])
        ax.set_title(
            f"zoom x{zoom:g}: {len(window.points):,} points" + (f", nearly empty\n{note}" if note else ""),
            **({"fontsize": 9} if note else {}),
        )
        ax.set_aspect("equal")
    axes[0][0].legend(loc="upper right", fontsize=7, markerscale=6, frameon=False)
    ax = axes[0][-1]
    if nn.get("points", 0) >= 3:
        ax.bar(["data", "fitted normal"], [nn["data_median"], nn["normal_median"]], color=["black", "tab:orange"])
        ax.set(
            title=f"nearest-neighbour median in the plane\n(ratio {nn['median_ratio']:.2f}, {nn['points']:,} points "
            f"each)",
            ylabel=f"distance in {labels[0]}-{labels[1]}",
        )
    else:
        ax.axis("off")
    fig.suptitle(f"The cloud in the {labels[0]}-{labels[1]} plane at {len(zooms)} zooms", fontsize=11)
    fig.subplots_adjust(wspace=0.4)
    return save_figure(fig, path)


def lattice_figure(path: Path, images, distances, *, n: int, span: float, projected, labels, data_median: float) -> str:
    """lattice.png: the decoded lattice, each tile framed in the colour of its re-encoding
    distance (in units of the data's own median), beside the data's density in the plane with
    the lattice's points in the same colours."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    ratio = distances / max(data_median, 1e-12)
    norm, cmap = Normalize(0, max(5.0, float(np.quantile(ratio, 0.95)))), colormaps["magma_r"]
    side, pad = images.shape[1], max(2, images.shape[1] // 12)
    mosaic = np.ones((n * (side + 2 * pad), n * (side + 2 * pad), 3))
    for index, (image, value) in enumerate(zip(np.clip(images, 0, 1), ratio)):
        row, col = divmod(index, n)
        y, x = row * (side + 2 * pad), col * (side + 2 * pad)
        mosaic[y : y + side + 2 * pad, x : x + side + 2 * pad] = cmap(norm(value))[:3]
        mosaic[y + pad : y + pad + side, x + pad : x + pad + side] = image
    fig, axes = plt.subplots(1, 2, figsize=(15, 7), gridspec_kw={"width_ratios": [1, 1.1]})
    axes[0].imshow(mosaic)
    axes[0].set(
        title=f"decoded {labels[0]}-{labels[1]} lattice, +-{span:g} sd (frame: re-encoding distance)",
        xticks=[],
        yticks=[],
    )
    ax = axes[1]
    ax.hist2d(projected[:, 0], projected[:, 1], bins=60, range=[[-span * 1.15, span * 1.15]] * 2, cmap="Greys")
    steps = np.linspace(-span, span, n)
    a, b = np.meshgrid(steps, steps[::-1])
    points = ax.scatter(a.ravel(), b.ravel(), c=ratio, cmap=cmap, norm=norm, s=60, edgecolors="white", linewidths=0.5)
    fig.colorbar(points, ax=ax, label="||E(D(z)) - z|| / the data's own median")
    ax.set(
        xlabel=f"{labels[0]} (sd)",
        ylabel=f"{labels[1]} (sd)",
        title="the data's density and the lattice",
        aspect="equal",
    )
    return save_figure(fig, path)
