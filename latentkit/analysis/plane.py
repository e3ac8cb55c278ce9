"""``latentkit plane``: the cloud in one plane (two principal components, or two components) at
any zoom around a centre, with the fitted normal's points in another colour and the data's
nearest-neighbour distances in that plane. The studies zoomed about 50x into PC planes to see
the filaments a smooth normal does not have.

Two streamed passes: moments (for the principal axes and the fitted normal's 2-D marginal),
then every row projected into the plane, each zoom's window keeping at most ``max_points``
points (a random subset, chosen by a seeded key per row), so memory does not grow with N.
The default zooms are the studies' 1, 10 and 50 when the data are many enough for a x50 window
to hold points; on fewer, the deepest zoom is the one whose window holds about
``WINDOW_POINTS`` at the fitted normal's density, and a window left nearly empty is said so.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from latentkit.analysis.measures.stats import Moments, pca_from_covariance
from latentkit.analysis.report.files import write_report
from latentkit.analysis.report.schema import PlaneMagnification, PlaneReport, PlaneZoom
from latentkit.core import JobEvents, LatentkitError, check_folder, own_folder
from latentkit.model.opened import OpenedRun
from latentkit.store.latents import open_latents, read_blocks

GROUP_EPS = 1 / 60  # points closer than this share of the window's width are one group (DBSCAN)
GROUP_SHARE = 0.05  # a group holds at least this share of the window's points (sparse outskirts are none)
STUDY_ZOOMS = (1.0, 10.0, 50.0)  # the studies saw filaments at about x50
WINDOW_POINTS = 50  # the deepest default zoom's window expects about this many points at the fitted density
NEARLY_EMPTY = 20  # a window holding fewer points than this is said to be nearly empty


@dataclass(frozen=True)
class PlaneOptions:
    """What ``plane`` draws: ``latentkit plane``'s flags (``pcs`` is ``--pcs``, ``zooms`` ``--zoom``,
    ``max_points`` ``--max-points``)."""

    pcs: tuple[int, int] | None = (0, 1)  # principal components (PC0 the largest); None: ``axes``
    axes: tuple[int, int] | None = None  # two components instead
    zooms: tuple[float, ...] | None = None  # None: from the data's size (``default_zooms``)
    centre: tuple[float, float] | None = (
        None  # in the plane's coordinates (PCs: 0,0 is the data's mean); None: the mean
    )
    max_points: int = 200_000  # points kept per zoom's window
    nn_points: int = 20_000  # points per set for the nearest-neighbour distances
    read_rows: int = 20_000
    seed: int = 0
    magnification: int = 0  # ``--magnification``: the decoder's log magnification on a grid this many a side (0: off)
    magnification_points: int = 16  # the data's own z-points it is measured at too (a seeded sample)


class _Window:
    """The points of one zoom's window: at most ``limit``, the ones with the smallest keys."""

    def __init__(self, centre: np.ndarray, half: float, limit: int):
        self.centre, self.half, self.limit = centre, half, limit
        self.keys, self.points = np.empty(0), np.empty((0, 2))

    def add(self, points: np.ndarray, keys: np.ndarray) -> None:
        inside = (np.abs(points - self.centre) <= self.half).all(axis=1)
        self.keys = np.concatenate([self.keys, keys[inside]])
        self.points = np.concatenate([self.points, points[inside]])
        if len(self.keys) > self.limit:
            keep = np.argpartition(self.keys, self.limit)[: self.limit]
            self.keys, self.points = self.keys[keep], self.points[keep]


def plane(
    *,
    latents: str | os.PathLike,
    out: str | os.PathLike,
    options: PlaneOptions | None = None,
    column: str | None = None,
    events: JobEvents | None = None,
    run: OpenedRun | None = None,
) -> PlaneReport:
    """Write OUT/plane_<pcs|axes>_I-J.png and .json for the latents at ``latents``; with
    ``options.magnification`` also the decoder's magnification over the plane (``run``'s model)."""
    options, events = options or PlaneOptions(), events or JobEvents()
    check_folder(out, "--out")
    if options.magnification:
        if run is None:
            raise LatentkitError("--magnification needs --run (a run whose model has a decoder)")
        run.described.need_decoder("plane --magnification")
    array, mask = open_latents(latents, column)
    n_rows, dim = array.shape
    pair = options.pcs if options.axes is None else options.axes
    what = "pcs" if options.axes is None else "axes"
    if pair is None or len(pair) != 2 or pair[0] == pair[1] or not all(0 <= p < dim for p in pair):
        flag = "--pcs" if what == "pcs" else "--axes"
        raise LatentkitError(
            f"{flag} takes two different indices of the {dim} dimensions of {latents} (0..{dim - 1}), e.g. {flag} 0:1"
        )
    if options.zooms is not None and (not options.zooms or any(z < 1 for z in options.zooms)):
        raise LatentkitError("--zoom takes factors of at least 1, e.g. 1,10,50")
    valid = np.ones(n_rows, bool) if mask is None else mask

    events.start(f"plane: 2 passes over {n_rows:,} rows", total=2 * n_rows)
    moments = Moments()
    for start, block in read_blocks(array, options.read_rows):
        moments.partial_fit(block[valid[start : start + len(block)]])
        events.advance(len(block))
    if getattr(moments, "n_", 0) < 3:
        raise LatentkitError(f"{latents} has fewer than 3 usable rows")
    # PC coordinates are analyze's: (z - the data's mean) on the principal axes, so the PCA's
    # origin is the data's mean (post IX's moved and rotated system); components are z_j as they are.
    if what == "pcs":
        _, vectors = pca_from_covariance(moments.cov_)
        basis, origin = vectors[:, list(pair)], moments.mean_
    else:
        basis, origin = np.eye(dim)[:, list(pair)], np.zeros(dim)
    mean2 = (moments.mean_ - origin) @ basis
    cov2 = basis.T @ moments.cov_ @ basis
    centre = np.asarray(options.centre if options.centre is not None else mean2, np.float64)
    extent = 4.0 * float(np.sqrt(max(cov2[0, 0], cov2[1, 1])))  # zoom 1: the data's +-4 sigma
    n = int(moments.n_)
    deepest = deepest_zoom(n, mean2, cov2, centre, extent)
    zooms = options.zooms
    if zooms is None:
        zooms = default_zooms(deepest)
        if zooms != STUDY_ZOOMS:
            events.message(
                f"plane: zooms {', '.join(f'x{z:g}' for z in zooms)} for {n:,} points (x{zooms[-1]:g}: the "
                f"deepest whose window holds about {WINDOW_POINTS} at the fitted normal's density; the "
                f"studies' x50 needs more points)"
            )
    windows = [_Window(centre, extent / zoom, options.max_points) for zoom in zooms]
    rng = np.random.default_rng(options.seed)
    measured = _Sample(options.magnification_points)  # whole z-points, for --magnification
    for start, block in read_blocks(array, options.read_rows):
        usable = block[valid[start : start + len(block)]]
        points = (usable - origin) @ basis
        keys = rng.random(len(points))
        for window in windows:
            window.add(points, keys)
        if options.magnification:
            measured.add(usable, keys)
        events.advance(len(block))
    events.finish()

    # the fitted normal's 2-D marginal, as many points as the data has, drawn window by window
    normal = _normal_windows(mean2, cov2, n, windows, options, rng)
    rows: list[PlaneZoom] = []
    notes: list[str] = []
    for zoom, window, drawn in zip(zooms, windows, normal):
        rows.append(
            {
                "zoom": float(zoom),
                "half_side": float(window.half),
                "points": int(len(window.points)),
                "normal_points": int(len(drawn)),
                "groups": _groups(window.points, window.half),
            }
        )
        empty = len(window.points) < min(NEARLY_EMPTY, n)
        notes.append(_remedy(deepest) if empty else "")
        if empty:
            expected = expected_points(n, mean2, cov2, centre, window.half)
            events.message(f"plane: zoom x{zoom:g} {_emptiness(len(window.points), n, expected)}; {notes[-1]}")
    nn = _nn_report(windows[0].points, normal[0], options.nn_points, rng)
    name = f"plane_{what}_{pair[0]}-{pair[1]}"
    labels = [f"PC{p}" for p in pair] if what == "pcs" else [f"z{p}" for p in pair]
    out = own_folder(out)
    from latentkit.analysis.report.plane_figures import plane_figure

    figure = plane_figure(out / f"{name}.png", windows, normal, zooms, labels, nn, notes)
    report: PlaneReport = {
        "latents": str(latents),
        "n": int(moments.n_),
        "dim": dim,
        "plane": what,
        "pair": [int(p) for p in pair],
        "centre": centre.tolist(),
        "mean": mean2.tolist(),
        "cov": cov2.tolist(),
        "zooms": rows,
        "nearest_neighbours": nn,
        "figure": figure,
    }
    if options.magnification:
        assert run is not None  # checked first
        at = _Mapping(origin, basis, moments.mean_, labels)
        picture = out / f"magnification_{what}_{pair[0]}-{pair[1]}.png"
        sample = measured.rows if measured.rows is not None else np.empty((0, dim))
        report["magnification"] = _magnification(run, picture, at, windows[0], sample, options, events)
    write_report(out / f"{name}.json", report, PlaneReport)
    return report


def expected_points(n: int, mean2: np.ndarray, cov2: np.ndarray, centre: np.ndarray, half: float) -> float:
    """Points that ``n`` draws of the fitted normal N(mean2, cov2) put in the square window of
    half-side ``half`` around ``centre`` (each axis's marginal: exact for a PC plane, whose
    covariance is diagonal; for two components it leaves out their correlation)."""
    share = 1.0
    for axis in range(2):
        sd = math.sqrt(max(float(cov2[axis, axis]), 1e-300)) * math.sqrt(2)
        low, high = (centre[axis] - half - mean2[axis]) / sd, (centre[axis] + half - mean2[axis]) / sd
        share *= max(0.0, (math.erf(high) - math.erf(low)) / 2)
    return n * share


def deepest_zoom(n: int, mean2: np.ndarray, cov2: np.ndarray, centre: np.ndarray, extent: float) -> float:
    """The largest zoom (at least 1) whose window around ``centre`` expects ``WINDOW_POINTS``
    of the ``n`` points at the fitted normal's density (the windows are nested: the count only
    falls as the zoom grows)."""
    if expected_points(n, mean2, cov2, centre, extent) < WINDOW_POINTS:
        return 1.0
    low, high = 1.0, 1e7
    for _ in range(80):  # bisection on the logarithm
        middle = math.sqrt(low * high)
        enough = expected_points(n, mean2, cov2, centre, extent / middle) >= WINDOW_POINTS
        low, high = (middle, high) if enough else (low, middle)
    return low


def default_zooms(deepest: float) -> tuple[float, ...]:
    """The studies' 1, 10 and 50 when a x50 window holds points enough; else 1, the geometric
    middle and ``deepest``, each to two significant digits rounded down (1 alone when no zoom
    in leaves a window with points)."""
    if deepest >= STUDY_ZOOMS[-1]:
        return STUDY_ZOOMS
    if deepest < 1.5:
        return (1.0,)
    top = _two_digits(deepest)
    middle = _two_digits(math.sqrt(top))
    return (1.0, middle, top) if middle >= 1.2 else (1.0, top)


def _two_digits(x: float) -> float:
    scale = 10 ** (math.floor(math.log10(x)) - 1)
    return float(math.floor(x / scale) * scale) if x >= 10 else math.floor(x * 10) / 10


def _emptiness(points: int, n: int, expected: float) -> str:
    """Why a window is nearly empty: too deep for this many points, or a centre where the data
    are sparser than the fitted normal."""
    why = (
        f"at the fitted normal's density {n:,} points put {expected:.1f} there"
        if expected < NEARLY_EMPTY
        else f"the fitted normal puts {expected:.0f} there: the data are sparser at this centre"
    )
    return f"holds only {points} point{'s' * (points != 1)}: nearly empty ({why})"


def _remedy(deepest: float) -> str:
    if deepest <= 1:
        return f"no window here holds {WINDOW_POINTS}: a --centre nearer the data"
    return f"zoom x{deepest:.3g} or less holds about {WINDOW_POINTS}"


def _normal_windows(mean2, cov2, n: int, windows: list[_Window], options: PlaneOptions, rng) -> list[np.ndarray]:
    """``n`` points of N(mean2, cov2), drawn in batches; each window keeps what falls inside it
    (at most ``max_points``): the density the data would have if it were this normal."""
    root = np.linalg.cholesky(cov2 + 1e-12 * np.eye(2))
    kept = [_Window(w.centre, w.half, w.limit) for w in windows]
    for start in range(0, n, 100_000):
        points = mean2 + rng.standard_normal((min(100_000, n - start), 2)) @ root.T
        keys = rng.random(len(points))
        for window in kept:
            window.add(points, keys)
    return [w.points for w in kept]


def _groups(points: np.ndarray, half: float) -> int:
    """Separate groups of points in a window, each holding at least ``GROUP_SHARE`` of them
    (DBSCAN; eps the larger of a 60th of the window's width and 3 median nearest-neighbour
    distances, so a blob of any density is one group): filaments a zoom resolves count one each."""
    if len(points) < 5:
        return 0
    from sklearn.cluster import DBSCAN

    from latentkit.analysis.measures.neighbours import nn_distances

    take = (
        points if len(points) <= 20_000 else points[np.random.default_rng(0).choice(len(points), 20_000, replace=False)]
    )
    eps = max(2 * half * GROUP_EPS, 3 * float(np.median(nn_distances(take))))
    labels = DBSCAN(eps=eps, min_samples=5).fit_predict(take)
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, int)
    return int((sizes >= GROUP_SHARE * len(take)).sum())


def _nn_report(data: np.ndarray, normal: np.ndarray, count: int, rng) -> dict[str, Any]:
    """Each point's distance to its nearest neighbour in the plane, data against the normal's
    points (equal counts: the distance scales with the density)."""
    from latentkit.analysis.measures.neighbours import nn_distances

    m = min(count, len(data), len(normal))
    if m < 3:
        return {"points": m}
    d = nn_distances(data[rng.choice(len(data), m, replace=False)])
    g = nn_distances(normal[rng.choice(len(normal), m, replace=False)])
    return {
        "points": m,
        "data_median": float(np.median(d)),
        "normal_median": float(np.median(g)),
        "median_ratio": float(np.median(d) / max(np.median(g), 1e-300)),
        "data": np.quantile(d, [0.1, 0.5, 0.9]).tolist(),
        "normal": np.quantile(g, [0.1, 0.5, 0.9]).tolist(),
    }


@dataclass(frozen=True)
class _Mapping:
    """How the plane's coordinates become z-points: the data's mean with its coordinates along
    the plane's axes (``basis``'s columns, measured from ``origin``) set (``with_coordinates``)."""

    origin: np.ndarray
    basis: np.ndarray
    mean: np.ndarray
    labels: list[str]


class _Sample:
    """At most ``limit`` whole rows, the ones with the smallest keys (a seeded sample in one pass)."""

    def __init__(self, limit: int):
        self.limit, self.keys = limit, np.empty(0)
        self.rows: np.ndarray | None = None

    def add(self, rows: np.ndarray, keys: np.ndarray) -> None:
        rows = np.asarray(rows, np.float64)
        self.keys = np.concatenate([self.keys, keys])
        self.rows = rows if self.rows is None else np.concatenate([self.rows, rows])
        if len(self.keys) > self.limit:
            keep = np.argpartition(self.keys, self.limit)[: self.limit]
            self.keys, self.rows = self.keys[keep], self.rows[keep]


def _magnification(
    run: OpenedRun, path, at: _Mapping, window: _Window, measured, options: PlaneOptions, events: JobEvents
) -> PlaneMagnification:
    """The decoder's log sqrt(det JᵀJ) at the centres of a grid over the first zoom's window
    (``options.magnification`` a side) and at a sample of the data's own z-points."""
    import time

    from latentkit.analysis.measures.planes import with_coordinates
    from latentkit.analysis.report.path_figures import magnification_figure

    side, (cx, cy), half = options.magnification, window.centre, window.half
    ticks = -half + (np.arange(side) + 0.5) * (2 * half / side)
    xs, ys = np.meshgrid(cx + ticks, cy + ticks)  # rows: the second coordinate, from the lowest up
    grid = with_coordinates(at.mean, at.origin, at.basis.T, np.column_stack([xs.ravel(), ys.ravel()]))
    events.message(f"plane: the decoder's magnification at {side * side} grid points and {len(measured)} of the data's")
    codec, began = run.codec(), time.perf_counter()
    values = codec.log_magnification(np.concatenate([grid, measured]))
    seconds = time.perf_counter() - began
    on_grid, on_data = values[: len(grid)].reshape(side, side), values[len(grid) :]
    shown = window.points[: min(len(window.points), 5000)]
    figure = magnification_figure(path, on_grid, half, (cx, cy), shown, at.labels)
    finite, data = on_grid[np.isfinite(on_grid)], on_data[np.isfinite(on_data)]
    if len(finite) == 0 or len(data) == 0:
        raise LatentkitError(
            "the decoder is flat along some direction everywhere measured: det JᵀJ = 0, no magnification"
        )
    return {
        "grid": side,
        "half_side": float(half),
        "values": [[float(v) if np.isfinite(v) else None for v in row] for row in on_grid],
        "grid_median": float(np.median(finite)),
        "grid_min": float(finite.min()),
        "grid_max": float(finite.max()),
        "data_points": int(len(on_data)),
        "data_median": float(np.median(data)),
        "seconds": float(seconds),
        "figure": figure,
    }
