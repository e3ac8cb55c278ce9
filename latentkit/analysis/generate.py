"""The picture commands' jobs beyond the grids of ``report.decoded`` (``generate`` and
``reconstruct``): reconstruction errors over a partition, interpolations between two images and
walks along an attribute's direction (PNG, atomic)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from latentkit import store
from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.hits import hit_fractions
from latentkit.analysis.measures.planes import straight_path
from latentkit.analysis.report.decoded import store_images
from latentkit.core import AnalysisPaths, LatentkitError
from latentkit.model import check_picture, grid, save_png
from latentkit.model.codec import Codec
from latentkit.model.opened import OpenedRun
from latentkit.store import chunk_progress, sample_rows, select_rows, to_unit_float


def reconstruction_rmse(
    *,
    run: str | os.PathLike | OpenedRun,
    partition: str = "valid",
    data=None,
    batch: int = 256,
    limit: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Root-mean-square pixel error (pixels in [0, 1]) of the run's reconstructions over a whole
    partition, with a 95 % interval from the spread of the images' own errors.

    Streams ``batch`` images at a time, so memory does not grow with the partition; ``limit``
    caps the images (a seeded random sample across the partition). The model is called as
    ``reconstruct`` calls it.
    """
    opened = OpenedRun.of(run)
    run, described = opened.root, opened.described
    described.need_decoder("reconstruction errors")
    data = Path(data or opened.data)
    group = store.open_store(data, holds="images")
    rows = sample_rows(select_rows(group, partition), limit, seed=seed)
    if len(rows) == 0:
        raise LatentkitError(f"no images in partition {partition!r} of {data}")
    codec = opened.codec(mu_only=False)
    total, total2, images = (
        0.0,
        0.0,
        store.get_array(group, "images"),
    )  # the images' mean squared errors, summed and squared
    for start in range(0, len(rows), batch):
        originals = to_unit_float(images.get_orthogonal_selection((rows[start : start + batch],)))
        rebuilt = codec.reconstruct(originals)
        each = np.mean((originals.astype(np.float64) - rebuilt) ** 2, axis=(1, 2, 3))
        total, total2 = total + float(each.sum()), total2 + float((each * each).sum())
    n = len(rows)
    mse = total / n
    half = 1.96 * np.sqrt(max(total2 / n - mse * mse, 0.0) / max(n - 1, 1))  # the mean's 95 % half-width
    return {
        "partition": partition,
        "n": int(n),
        "rmse": float(np.sqrt(mse)),
        "rmse_interval": [float(np.sqrt(max(mse - half, 0.0))), float(np.sqrt(mse + half))],
    }


def interpolate(
    *,
    run: str | os.PathLike | OpenedRun,
    out: str | os.PathLike,
    start: int | None = None,
    stop: int | None = None,
    steps: int = 10,
    partition: str = "valid",
    seed: int = 0,
    data=None,
    force: bool = False,
    path: str = "straight",
    k: int = 10,
    weights: str = "latent",
    graph_points: int = 2000,
) -> dict[str, Any]:
    """Decode the straight path between the z-points of store rows ``start`` and ``stop``; an end
    not given is drawn at random (``seed``) from ``partition`` (all rows when it has too few).
    ``path`` "geodesic": the straight line and the shortest path over the ``k``-NN graph of
    ``graph_points`` of the data's latents (``_geodesic``), both decoded and scored."""
    if steps < 2:
        raise LatentkitError(f"--steps must be at least 2, got {steps}")
    _check_path_options(path, weights, k, graph_points, out)
    check_picture(out, force=force)
    opened = OpenedRun.of(run)
    run, described = opened.root, opened.described
    described.need_decoder("interpolate")
    data = Path(data or opened.data)
    if start is None or stop is None:
        start, stop = _two_rows(data, partition, seed, start, stop)
    _check_rows(data, [start, stop])
    codec = opened.codec()
    ends = _z_points(opened, codec, data, [start, stop])
    if path == "geodesic":
        return _geodesic(opened, codec, data, (start, stop), ends, out, steps, k, weights, graph_points, seed)
    line = straight_path(ends[0], ends[1], steps)
    originals = store_images(data, [start, stop])
    row = np.concatenate([originals[:1], codec.decode(line), originals[1:]])
    save_png(grid(row, columns=len(row)), out)
    return {
        "out": str(out),
        "steps": steps,
        "from": int(start),
        "to": int(stop),
        "distance": float(np.linalg.norm(ends[1] - ends[0])),
    }


def _two_rows(data: Path, partition: str, seed: int, start: int | None, stop: int | None) -> tuple[int, int]:
    """The ends not given: drawn at random from the partition's rows (else every row), not the
    first ones (a folder sorted by class would interpolate between two of its first class)."""
    group = store.open_store(data, holds="images")
    rows = select_rows(group, partition)
    if len(rows) < 2:
        rows = select_rows(group, None)
    rows = rows[~np.isin(rows, [r for r in (start, stop) if r is not None])]  # one end given: the other differs
    if len(rows) < 2:
        raise LatentkitError(f"{data} has fewer than 2 images to interpolate between")
    drawn = np.random.default_rng(seed).choice(rows, size=2, replace=False).tolist()
    return (drawn.pop() if start is None else start), (drawn.pop() if stop is None else stop)


def attribute_walk(
    *,
    run: str | os.PathLike | OpenedRun,
    attribute: str,
    out: str | os.PathLike,
    strength: float = 1.0,
    image: int = 0,
    steps: int = 8,
    data=None,
    analysis=None,
    force: bool = False,
) -> dict[str, Any]:
    """Latent arithmetic: decode image ``image``'s z-point moved along an attribute's direction.

    The path is z + t * strength * d for t from 0 to 1, d the attribute's centroid direction
    (present minus absent, from ``latentkit attributes``): strength 1 moves a z-point by the
    distance between the two classes' centroids; a negative strength takes the attribute away.
    """
    from latentkit.analysis.report.files import load_direction

    if steps < 2:
        raise LatentkitError(f"--steps must be at least 2, got {steps}")
    check_picture(out, force=force)
    opened = OpenedRun.of(run)
    run, described = opened.root, opened.described
    described.need_decoder("an attribute walk")
    analysis = Path(analysis or opened.paths.analysis)
    direction = load_direction(analysis, attribute)
    data = Path(data or opened.data)
    _check_rows(data, [image])
    codec = opened.codec()
    start = _z_points(opened, codec, data, [image])[0]
    path = start + np.linspace(0.0, 1.0, steps)[:, None] * strength * direction
    row = np.concatenate([store_images(data, [image]), codec.decode(path)])
    save_png(grid(row, columns=len(row)), out)
    fit_path = AnalysisPaths(analysis).fit
    hits = hit_fractions(path, LatentFit.load(fit_path)) if fit_path.exists() else None
    return {
        "out": str(out),
        "steps": steps,
        "attribute": attribute,
        "distance": float(abs(strength) * np.linalg.norm(direction)),
        "hit_fraction": hits,
    }


def _check_rows(data: Path, rows: list[int]) -> None:
    n = store.get_array(store.open_store(data, holds="images"), "images").shape[0]
    for row in rows:
        if not 0 <= row < n:
            raise LatentkitError(f"image {row} is outside the store (0..{n - 1})")


def _z_points(opened, codec: Codec, data: Path, rows: list[int]) -> np.ndarray:
    """The z-points of store rows: from the run's latents when encoded, else encoded now (means for a VAE)."""
    latents = opened.paths.latents
    if (latents / "zarr.json").exists() and chunk_progress(group := store.open_store(latents, holds="z")).complete:
        return np.asarray(store.get_array(group, "z").get_orthogonal_selection((np.array(rows),)))
    return codec.encode(store_images(data, rows))


def _check_path_options(path: str, weights: str, k: int, graph_points: int, out) -> None:
    if path not in ("straight", "geodesic"):
        raise LatentkitError(f"--path takes straight or geodesic, got {path!r}")
    if path == "geodesic" and Path(out).suffix.lower() != ".png":
        raise LatentkitError(
            f"--path geodesic draws a PNG (both paths, each step scored): give --out ending in .png, got {out}"
        )
    if weights not in ("latent", "images"):
        raise LatentkitError(f"--weights takes latent or images, got {weights!r}")
    if k < 1 or graph_points < 3:
        raise LatentkitError(f"--k takes at least 1 and --graph-points at least 3, got {k} and {graph_points}")


def _geodesic(
    opened, codec: Codec, data: Path, rows, ends, out, steps: int, k: int, weights: str, points: int, seed: int
):
    """The straight line and the geodesic over the k-NN graph of ``points`` of the data's latents
    (a seeded sample of the store's rows besides the two ends, then the ends), each resampled to
    ``steps``, decoded and scored (``measures.paths``): a figure of both strips, the numbers returned."""
    from latentkit.analysis.measures.paths import knn_geodesic, path_scores, resample
    from latentkit.analysis.report.path_figures import paths_figure

    every = select_rows(store.open_store(data, holds="images"), None)
    sample = sample_rows(every[~np.isin(every, list(rows))], points, seed=seed)
    cloud = np.concatenate([_z_points(opened, codec, data, sample.tolist()), ends]).astype(np.float64)
    images = codec.decode(cloud) if weights == "images" else None
    nodes = knn_geodesic(cloud, len(cloud) - 2, len(cloud) - 1, k=k, image_weights=images)
    paths = {"straight": straight_path(ends[0], ends[1], steps), "geodesic": resample(cloud[nodes], steps)}
    scored = {name: path_scores(z, codec.decode, codec.encode) for name, z in paths.items()}
    strips = [(name, decoded, scores) for name, (decoded, scores) in scored.items()]
    paths_figure(Path(out), store_images(data, list(rows)), strips)
    return {
        "out": str(out),
        "steps": steps,
        "from": int(rows[0]),
        "to": int(rows[1]),
        "distance": float(np.linalg.norm(ends[1] - ends[0])),
        "path": "geodesic",
        "graph": {"points": len(cloud), "k": k, "weights": weights, "hops": len(nodes) - 1},
        "paths": {name: scores for name, (_, scores) in scored.items()},
    }
