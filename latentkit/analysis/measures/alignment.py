"""Two runs over the same images, aligned: is one latent space a rotation of the other?

``align(a, b)``: both clouds centred and scaled to unit size, ``b`` rotated onto ``a`` by the
orthogonal Procrustes solution (scipy), the disparity left (0: a rotation, up to scale; 2: as
far as it gets), each image's distance after alignment (the images that moved most), and the
alignment-free check: the share of each image's k nearest neighbours that are its neighbours
in both runs. Runs of different widths are compared in the leading principal components of
the narrower one's width.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MOVED = 8  # the images shown as "moved most"


def _unit(points: np.ndarray, dims: int) -> np.ndarray:
    """Centred, projected on its ``dims`` leading principal axes when wider, scaled to Frobenius norm 1."""
    centred = np.asarray(points, np.float64) - np.mean(points, axis=0)
    if centred.shape[1] > dims:
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        centred = centred @ axes[:dims].T
    return centred / (np.linalg.norm(centred) or 1.0)


def knn_kept(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean over points of the share of their k nearest neighbours in ``a`` that are also among
    their k nearest in ``b`` (rows are the same images)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(a) - 1)
    near_a = NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(a, return_distance=False)[:, 1:]
    near_b = NearestNeighbors(n_neighbors=k + 1).fit(b).kneighbors(b, return_distance=False)[:, 1:]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(near_a, near_b)]))


def align(a: np.ndarray, b: np.ndarray, *, k: int = 10) -> dict[str, Any]:
    """``b`` (rows: the same images as ``a``) aligned onto ``a``: disparity, neighbours kept, the
    rows that moved most, and the rotation (not JSON: ``rotation``)."""
    from scipy.linalg import orthogonal_procrustes

    dims = min(a.shape[1], b.shape[1])
    ua, ub = _unit(a, dims), _unit(b, dims)
    rotation, _ = orthogonal_procrustes(ub, ua)
    aligned = ub @ rotation
    moved = np.linalg.norm(aligned - ua, axis=1)
    return {
        "disparity": float(((aligned - ua) ** 2).sum()),
        "knn_kept": knn_kept(a, b, k),
        "k": k,
        "n": len(a),
        "dims": dims,
        "moved_most": np.argsort(moved)[::-1][:MOVED].tolist(),
        "moved_median": float(np.median(moved)),
        "rotation": rotation,
    }
