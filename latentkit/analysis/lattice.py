"""``latentkit lattice``: decode anywhere. A lattice of z-points over a plane of the latent space
— PC0-PC1 through the data's mean, or the plane of two attribute directions — each decoded to
an image and encoded again; each cell is coloured by its re-encoding distance ||E(D(z)) - z||
and laid on the data's density in that plane, so the holes show as places where the lattice
decodes to images unlike the data's (non-faces, on faces) that the encoder puts elsewhere.

The geometry (``plane_lattice``) and the distances (``reencode_lattice``) take plain arrays and
functions, so a test can drive them with a stand-in model; ``lattice`` wires them to a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.analysis.measures.holes import decoded_and_reencoded
from latentkit.analysis.measures.planes import orthonormal_pair, with_coordinates
from latentkit.core import JobEvents, LatentkitError, own_folder, write_json
from latentkit.model import check_picture
from latentkit.model.opened import OpenedRun


def plane_lattice(mean: np.ndarray, axes: np.ndarray, scales: np.ndarray, *, n: int, span: float) -> np.ndarray:
    """(n * n, d) z-points: mean + a * scales[0] * axes[0] + b * scales[1] * axes[1] for a, b in
    [-span, span] (rows: b from top to bottom, a from left to right, as a picture reads)."""
    steps = np.linspace(-span, span, n)
    a, b = np.meshgrid(steps, steps[::-1])
    coordinates = np.stack([a.ravel() * scales[0], b.ravel() * scales[1]], axis=1)
    return with_coordinates(mean, mean, axes, coordinates)


def reencode_lattice(z: np.ndarray, decode: Callable, encode: Callable) -> tuple[np.ndarray, np.ndarray]:
    """The decoded images and ||E(D(z)) - z|| of every lattice point."""
    return decoded_and_reencoded(z, decode, encode)


def _plane(report_dir: Path, spec: str, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The plane's two unit axes and the axis labels: principal components from the sample, or
    two attribute directions (``attributes:Smiling,Male``, from ``latentkit attributes``)."""
    if spec == "pca":
        centred = sample - sample.mean(axis=0)
        _, _, vectors = np.linalg.svd(centred, full_matrices=False)
        return vectors[:2], np.array([0, 1]), ["PC0", "PC1"]
    names = [n.strip() for n in spec.removeprefix("attributes:").split(",")] if spec.startswith("attributes:") else []
    if len(names) != 2:
        raise LatentkitError(f"--plane takes pca or attributes:NAME,NAME (two attributes), got {spec!r}")
    from latentkit.analysis.report.files import load_direction

    first, second = (load_direction(report_dir, name) for name in names)
    return orthonormal_pair(first, second, (names[0], names[1])), np.array([0, 1]), names


def lattice(
    *,
    run: str | os.PathLike | OpenedRun,
    out: str | os.PathLike | None = None,
    plane: str = "pca",
    n: int = 12,
    span: float = 3.0,
    sample: int = 20_000,
    seed: int = 0,
    force: bool = False,
    events: JobEvents | None = None,
) -> dict[str, Any]:
    """Write OUT (a PNG, default RUN/analysis/lattice.png: the decoded lattice beside the data's
    density, each cell coloured by its re-encoding distance) and RUN/analysis/lattice.json (the
    distances, the data's own re-encoding distance for scale)."""
    from latentkit.store import finished_latents

    events = events or JobEvents()
    if not 2 <= n <= 40:
        raise LatentkitError(f"--n must be 2..40 (an n x n lattice), got {n}")
    if not span > 0:
        raise LatentkitError(f"--span must be positive (in standard deviations), got {span}")
    opened = OpenedRun.of(run)
    paths = opened.paths
    out = Path(out) if out is not None else paths.analysis_files.lattice_picture
    check_picture(out, force=force)
    opened.described.need_decoder("a lattice (its cells are decoded)")
    latents = finished_latents(opened.root)
    usable = np.flatnonzero(latents["ok"][:].astype(bool))
    rows = np.sort(np.random.default_rng(seed).choice(usable, size=min(sample, len(usable)), replace=False))
    data = np.asarray(latents["z"].get_orthogonal_selection((rows,)), np.float64)
    axes, _, labels = _plane(paths.analysis, plane, data)
    mean = data.mean(axis=0)
    projected = (data - mean) @ axes.T
    scales = projected.std(axis=0)
    z = plane_lattice(mean, axes, scales, n=n, span=span)
    events.start(f"lattice: {n * n} z-points decoded and encoded again", total=2)
    codec = opened.codec()
    images, distances = reencode_lattice(z, codec.decode, codec.encode)
    events.advance()
    own = reencode_lattice(data[:256], codec.decode, codec.encode)[1]  # the data's own, for scale
    events.advance()
    events.finish()
    from latentkit.analysis.report.plane_figures import lattice_figure

    lattice_figure(
        out,
        images,
        distances,
        n=n,
        span=span,
        projected=projected / scales,
        labels=labels,
        data_median=float(np.median(own)),
    )
    found = {
        "run": str(run),
        "plane": plane,
        "axes": labels,
        "n": n,
        "span": span,
        "out": str(out),
        "distances": distances.reshape(n, n).tolist(),
        "data_median": float(np.median(own)),
        "median_ratio": float(np.median(distances) / max(np.median(own), 1e-12)),
    }
    own_folder(paths.analysis)
    write_json(paths.analysis_files.lattice, found)
    return found
