"""Decoded grids, the pictures every command shows of a run: a generator's draws decoded
(``generate``) and images above their reconstructions (``reconstruct``). The generate command's
pictures, and compare's per-run grids."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from latentkit import store
from latentkit.analysis.generators import METHODS, LatentFit, make_generator
from latentkit.analysis.measures.hits import box_holds_origin, hit_fractions, shell_hits
from latentkit.core import AnalysisPaths, LatentkitError
from latentkit.model import check_picture, grid, save_png
from latentkit.model.opened import OpenedRun
from latentkit.store import sample_rows, select_rows, to_unit_float


def generate(
    *,
    run: str | os.PathLike | OpenedRun,
    method: str,
    out: str | os.PathLike,
    n: int = 28,
    b: float = 1.5,
    sharpen: float | None = None,
    seed: int = 0,
    columns: int = 7,
    analysis: str | os.PathLike | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Decode ``n`` generated z-points into a grid; report their hit fractions. A run imported
    without a decoder draws the z-points and reports their hit fractions, and writes no image
    (``out`` None in the result)."""
    if method not in METHODS:
        raise LatentkitError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if n < 1:
        raise LatentkitError(f"--n must be positive, got {n}")
    if method == "uniform" and not b > 0:
        raise LatentkitError(f"--b must be positive (each component in [-b, b]), got {b}")
    opened = OpenedRun.of(run)
    run, described = opened.root, opened.described
    if described.has_decoder:
        check_picture(out, force=force)
    fit_path = AnalysisPaths(Path(analysis or opened.paths.analysis)).fit
    if fit_path.exists():
        fit = LatentFit.load(fit_path)
        if method == "flow":
            from latentkit.model.flow import load_flow

            fit = replace(fit, flow=load_flow(opened.paths.flow))
    elif method in ("component", "mvn", "gmm", "kde", "posterior", "flow"):
        raise LatentkitError(
            f"--method {method} needs the fitted distribution {fit_path}: run `latentkit analyze` first"
        )
    else:
        fit = None
    dim = described.z_dim
    stand_in = fit or LatentFit(np.zeros(dim), np.eye(dim), np.zeros(dim), np.ones(dim), np.ones(dim))
    z = make_generator(method, {"b": b}).sample(np.random.default_rng(seed), n, stand_in)
    if described.has_decoder:
        save_png(grid(opened.codec().decode(z), columns=columns), out, sharpen=sharpen)
    return {
        "out": str(out) if described.has_decoder else None,
        "n": n,
        "hit_fraction": hit_fractions(z, fit) if fit else None,
        **_shell(z, fit),
        "stale": opened.stale if fit else None,
    }


def _shell(z: np.ndarray, fit: LatentFit | None) -> dict[str, Any]:
    """The share of ``z`` inside the data's shell, and whether the hit test's box holds the origin
    (then a box around 0 lands in it whatever the data): where the fit records a shell."""
    if fit is None or fit.shell is None:
        return {}
    return {"shell_fraction": shell_hits(z, fit) / len(z), "box_holds_origin": box_holds_origin(fit, 1.5)}


def store_images(data: Path, rows: np.ndarray | list[int]) -> np.ndarray:
    images = store.get_array(store.open_store(data, holds="images"), "images")
    return to_unit_float(images.get_orthogonal_selection((np.asarray(rows),)))


def reconstruct(
    *,
    run: str | os.PathLike | OpenedRun,
    out: str | os.PathLike,
    n: int = 16,
    data=None,
    partition: str = "valid",
    columns: int = 8,
    seed: int = 0,
    force: bool = False,
    images: np.ndarray | None = None,
) -> dict[str, Any]:
    """``n`` images of a partition (a seeded random sample across it, in store order) above their
    reconstructions, row pair by row pair; or ``images`` (uint8, N x size x size x 3: your own
    photos, ``ingest.decode_images``). ``rows`` in the result: the store rows shown."""
    check_picture(out, force=force)
    opened = OpenedRun.of(run)
    run, described = opened.root, opened.described
    described.need_decoder("reconstruct")
    rows = None
    if images is not None:
        if images.shape[1:] != (described.image_size, described.image_size, 3):
            raise LatentkitError(
                f"the images are {images.shape[1]}x{images.shape[2]}, the model takes "
                f"{described.image_size}x{described.image_size}"
            )
        originals = to_unit_float(images[:n])
    else:
        data = Path(data or opened.data)
        rows = sample_rows(select_rows(store.open_store(data, holds="images"), partition), n, seed=seed)
        if len(rows) == 0:
            raise LatentkitError(f"no images in partition {partition!r} of {data}")
        originals = store_images(data, rows)
    codec = opened.codec(mu_only=False)
    rebuilt = codec.reconstruct(originals)
    save_png(grid(_pairs(originals, rebuilt, columns), columns=min(columns, len(originals))), out)
    rmse = float(np.sqrt(np.mean((originals - rebuilt) ** 2)))
    return {"out": str(out), "n": int(len(originals)), "rmse": rmse, "rows": None if rows is None else rows.tolist()}


def _pairs(originals: np.ndarray, rebuilt: np.ndarray, columns: int) -> np.ndarray:
    """Tiles for a grid ``columns`` wide: a row of originals, then a row of their reconstructions;
    a short last pair of rows is filled out with white tiles, so each reconstruction stays
    under its original."""
    width = min(columns, len(originals))
    blank = np.ones((width, *originals.shape[1:]), originals.dtype)
    tiles = []
    for start in range(0, len(originals), width):
        fill = blank[: max(0, start + width - len(originals))]
        tiles += [originals[start : start + width], fill, rebuilt[start : start + width], fill]
    return np.concatenate(tiles)
