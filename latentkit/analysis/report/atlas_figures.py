"""The hole atlas's figures: per generator, the t-SNE map of the data and the PC0-PC1 plane of
the data and the generator's draws, coloured by the density ratio's log r and by the MMD witness
(``atlas_KEY.png``); and the most over- and under-covered points decoded (``atlas_faces.png``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentkit.analysis.report.drawing import plt, save_figure
from latentkit.core import AnalysisPaths


def _panel(
    ax, xy: np.ndarray, values: np.ndarray, title: str, cmap: str, limit: float, markers=None, axes_names=None
) -> None:
    """A scatter coloured by ``values`` on a symmetric scale of +-``limit`` (0 white); ``axes_names``:
    the plane's axes, with their ticks (None: a t-SNE map, whose axes mean nothing)."""
    if markers is None:
        image = ax.scatter(xy[:, 0], xy[:, 1], c=values, s=3, cmap=cmap, vmin=-limit, vmax=limit, linewidths=0)
    else:
        for shown, marker in markers:
            image = ax.scatter(
                xy[shown, 0], xy[shown, 1], c=values[shown], s=4, marker=marker, cmap=cmap, vmin=-limit, vmax=limit
            )
    plt.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=9)
    if axes_names is None:
        ax.set_xticks([]), ax.set_yticks([])
    else:
        ax.set(xlabel=axes_names[0], ylabel=axes_names[1])


def _limit(values: np.ndarray) -> float:
    return float(np.percentile(np.abs(values), 98)) or 1.0


def atlas_figure(
    out: Path,
    key: str,
    name: str,
    *,
    plane: tuple[np.ndarray, np.ndarray],
    log_ratio: tuple[np.ndarray, np.ndarray],
    witness: tuple[np.ndarray, np.ndarray],
    tsne: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> str:
    """``plane``: the data's and the draws' PC0-PC1 coordinates, ``log_ratio`` and ``witness`` at
    them; ``tsne``: the map's points and the log r and witness there (None: no map)."""
    panels = 2 if tsne is None else 4
    fig, axes = plt.subplots(panels // 2, 2, figsize=(11, 4.8 * panels // 2), squeeze=False)
    fig.subplots_adjust(hspace=0.3)  # room for the PC panels' axis labels above the t-SNE titles
    xy = np.concatenate(plane)
    n_data = len(plane[0])
    is_data = np.arange(len(xy)) < n_data
    markers = [(~is_data, "x"), (is_data, "o")]
    r, w = np.concatenate(log_ratio), np.concatenate(witness)
    pcs = ("PC0", "PC1")
    title = "PC0-PC1: log r (red: the generator's mass the data lacks)"
    _panel(axes[0, 0], xy, r, title, "RdBu_r", _limit(r), markers, pcs)
    title = "PC0-PC1: MMD witness (blue: the generator's, red: the data's)"
    _panel(axes[0, 1], xy, w, title, "RdBu_r", _limit(w), markers, pcs)
    if tsne is not None:
        embedding, tr, tw = tsne
        _panel(axes[1, 0], embedding, tr, "t-SNE map of the data: log r", "RdBu_r", _limit(tr))
        _panel(axes[1, 1], embedding, tw, "t-SNE map of the data: MMD witness", "RdBu_r", _limit(tw))
    fig.suptitle(f"Hole atlas: {name} against the data (o: data, x: its draws)", fontsize=10)
    return save_figure(fig, AnalysisPaths(out).figure(f"atlas_{key}"))


def atlas_faces_figure(out: Path, name: str, over: np.ndarray, under: np.ndarray, decode) -> str:
    """The ``over``-covered z-points (a generator's draws where r is highest: the data's holes)
    and the ``under``-covered (the data's points where r is lowest: what the generator misses), decoded."""
    shown = max(len(over), len(under))
    fig, axes = plt.subplots(2, shown, figsize=(shown * 0.9, 2.4), squeeze=False)
    for row, (points, label) in enumerate(((over, "over-covered\n(holes)"), (under, "under-covered\n(missed)"))):
        faces = np.clip(decode(points), 0, 1) if len(points) else []
        for col in range(shown):
            ax = axes[row, col]
            ax.set_xticks([]), ax.set_yticks([])
            if col < len(points):
                ax.imshow(faces[col])
        axes[row, 0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(
        f"Hole atlas of {name}: its draws where r = q/p is highest (top), data where lowest (bottom)", fontsize=9
    )
    return save_figure(fig, AnalysisPaths(out).figure("atlas_faces"))
