"""Coordinates in the latent space along chosen directions, and back: the one place where a
point of a plane (or a slider's position) becomes a z-point.

A plane is two orthonormal axes through the data's mean: principal components (already
orthonormal) or two attribute directions made orthonormal by Gram-Schmidt, so a plane's cells
are square. A point's coordinates are ``(z - mean) @ axes.T``; ``with_coordinates`` sets them
and keeps every other direction of a chosen point: the lattice's grid (the chosen point is the
mean), a click on the explorer's plane, a slider moved along one direction. ``straight_path``
is the walk between two z-points that ``interpolate`` and the explorer decode.
"""

from __future__ import annotations

import numpy as np

from latentkit.core import LatentkitError


def orthonormal_pair(first: np.ndarray, second: np.ndarray, names: tuple[str, str] = ("a", "b")) -> np.ndarray:
    """(2, d): ``first`` made unit, and ``second`` less its part along ``first``, made unit
    (Gram-Schmidt); one ``LatentkitError`` line naming ``names`` when the two are parallel."""
    first = np.asarray(first, np.float64) / max(float(np.linalg.norm(first)), 1e-300)
    second = np.asarray(second, np.float64) / max(float(np.linalg.norm(second)), 1e-300)
    rest = second - (second @ first) * first
    if np.linalg.norm(rest) < 1e-6:
        raise LatentkitError(f"the directions of {names[0]} and {names[1]} are parallel: no plane")
    return np.stack([first, rest / np.linalg.norm(rest)])


def plane_coordinates(z: np.ndarray, mean: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """The coordinates of z-points (or one) along orthonormal ``axes`` (rows), from ``mean``."""
    return (np.asarray(z, np.float64) - mean) @ np.asarray(axes, np.float64).T


def with_coordinates(point: np.ndarray, mean: np.ndarray, axes: np.ndarray, coordinates: np.ndarray) -> np.ndarray:
    """``point`` (d,) with its coordinates along the orthonormal ``axes`` (k, d), measured from
    ``mean``, set to ``coordinates`` ((k,), or (n, k) for n z-points): every direction off the
    axes keeps ``point``'s value. ``point`` = ``mean`` gives mean + coordinates @ axes."""
    axes = np.asarray(axes, np.float64)
    now = plane_coordinates(point, mean, axes)
    return np.asarray(point, np.float64) + (np.asarray(coordinates, np.float64) - now) @ axes


def straight_path(start: np.ndarray, stop: np.ndarray, steps: int) -> np.ndarray:
    """(steps, d): the z-points evenly spaced on the segment from ``start`` to ``stop``, both ends included."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * np.asarray(start, np.float64) + t * np.asarray(stop, np.float64)
