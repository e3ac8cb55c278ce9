"""Paths between two z-points that follow the data (``interpolate --path geodesic``), and how
a path fares when decoded.

- ``knn_geodesic``: the shortest path over the k-nearest-neighbour graph of a sample of the
  data's latents (plus the two ends), by Dijkstra (``scipy.sparse.csgraph``); edges weigh their
  latent distance, or the distance of the two ends' decoded images (``image_weights``).
- ``resample``: a polyline resampled to evenly spaced points along its length, so a geodesic
  has as many steps as the straight line it is compared with.
- ``path_scores``: a path decoded, and per step its re-encoding distance ||E(D(z)) - z||
  (``holes.decoded_and_reencoded``, the measure ``analyze`` uses) and the pixel distance between
  consecutive decoded steps (``pixel_distance``: root-mean-square over the pixels, in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from latentkit.analysis.measures.holes import decoded_and_reencoded
from latentkit.core import LatentkitError

EDGE_BLOCK = 512  # edges whose two images are compared at once (``image_weights``)
MIN_WEIGHT = 1e-12  # a zero-weight edge is no edge to scipy's sparse graphs: two equal points still join


def pixel_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root-mean-square difference of images ``a`` and ``b`` (n, ...) pair by pair, pixels in [0, 1]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.sqrt(np.mean((a - b).reshape(len(a), -1) ** 2, axis=1))


def knn_geodesic(
    points: np.ndarray,
    start: int,
    stop: int,
    *,
    k: int = 10,
    image_weights: np.ndarray | None = None,
) -> np.ndarray:
    """The rows of ``points`` (n, d) on the shortest path from row ``start`` to row ``stop`` over
    their symmetric k-NN graph (an edge where either point is among the other's k nearest);
    edge weights: the latent distance, or with ``image_weights`` (n, ...: the points' decoded
    images) the images' ``pixel_distance``. One ``LatentkitError`` line when the graph does not
    join the two ends."""
    from scipy.sparse.csgraph import dijkstra
    from sklearn.neighbors import NearestNeighbors

    points = np.asarray(points, np.float64)
    n = len(points)
    if not 1 <= k < n:
        raise LatentkitError(f"--k takes 1 to {n - 1} neighbours for a graph of {n} points, got {k}")
    graph = NearestNeighbors(n_neighbors=k).fit(points).kneighbors_graph(mode="distance").tocoo()
    if image_weights is not None:  # in blocks of edges: a pair of images each, not every edge's at once
        graph.data = np.concatenate(
            [
                pixel_distance(
                    image_weights[graph.row[i : i + EDGE_BLOCK]], image_weights[graph.col[i : i + EDGE_BLOCK]]
                )
                for i in range(0, graph.nnz, EDGE_BLOCK)
            ]
        )
    graph.data = np.maximum(graph.data, MIN_WEIGHT)
    graph = graph.tocsr()
    graph = graph.maximum(graph.T)
    distance, previous = dijkstra(graph, directed=False, indices=start, return_predecessors=True)
    if not np.isfinite(distance[stop]):
        raise LatentkitError(
            f"the {k}-nearest-neighbour graph of {n} latents does not join the two ends (they lie in "
            f"different components): raise --k (e.g. --k {2 * k}) or --graph-points"
        )
    rows = [stop]
    while rows[-1] != start:
        rows.append(int(previous[rows[-1]]))
    return np.asarray(rows[::-1])


def resample(nodes: np.ndarray, steps: int) -> np.ndarray:
    """(steps, d): points evenly spaced by length along the polyline through ``nodes`` (m, d),
    both ends included."""
    nodes = np.asarray(nodes, np.float64)
    lengths = np.linalg.norm(np.diff(nodes, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    if len(nodes) < 2 or along[-1] <= 0:
        return np.repeat(nodes[:1], steps, axis=0)
    targets = np.linspace(0.0, along[-1], steps)
    segment = np.clip(np.searchsorted(along, targets, side="right") - 1, 0, len(nodes) - 2)
    t = (targets - along[segment]) / np.maximum(lengths[segment], 1e-300)
    return nodes[segment] + np.clip(t, 0.0, 1.0)[:, None] * (nodes[segment + 1] - nodes[segment])


def path_scores(
    path: np.ndarray, decode: Callable[[np.ndarray], np.ndarray], encode: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, dict[str, Any]]:
    """The decoded steps of ``path`` (steps, d) and their scores: per step the re-encoding
    distance, per pair of consecutive steps the decoded step size, and their summaries."""
    images, reencoding = decoded_and_reencoded(np.asarray(path, np.float32), decode, encode)
    step = pixel_distance(images[1:], images[:-1])
    return images, {
        "reencoding": reencoding.tolist(),
        "step_size": step.tolist(),
        "reencoding_median": float(np.median(reencoding)),
        "reencoding_max": float(reencoding.max()),
        "step_size_mean": float(step.mean()),
        "step_size_max": float(step.max()),
        "z_length": float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum()),
    }
