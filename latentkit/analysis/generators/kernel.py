"""The Gaussian kernel between two sets' rows: the MMD's (``measures.mismatch``), the witness's
and the density ratio's landmark features (``measures.atlas``, ``generators.reweighted``)."""

from __future__ import annotations

import numpy as np


def gaussian_kernel(a: np.ndarray, b: np.ndarray, bandwidth: float) -> np.ndarray:
    """The MMD's Gaussian kernel exp(-||a_i - b_j||^2 / (2 bandwidth^2)) between two sets' rows."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    squared = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * a @ b.T
    return kernel_of(np.maximum(squared, 0.0), bandwidth)


def kernel_of(squared: np.ndarray, bandwidth: float) -> np.ndarray:
    """The kernel of squared distances."""
    return np.exp(-squared / (2.0 * bandwidth * bandwidth))
