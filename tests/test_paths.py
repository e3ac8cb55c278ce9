"""Paths that follow the data (issue 50, item 3), against known answers: the geodesic over a
ring-shaped latent set goes round the ring while the straight line crosses its hole; a graph
that does not join the two ends says so in one line; the magnification of a linear decoder is
its constant log sqrt(det WᵀW); and ``interpolate --path geodesic`` and ``plane
--magnification`` on a tiny trained run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures.commands import cli
from fixtures.runs import copy_run

from latentkit.analysis.measures.paths import knn_geodesic, resample
from latentkit.analysis.measures.planes import straight_path
from latentkit.core import LatentkitError


def ring(n: int = 300, noise: float = 0.01, seed: int = 0) -> np.ndarray:
    """``n`` points round the unit circle in the first two of 6 dimensions, a little noise in all."""
    rng = np.random.default_rng(seed)
    angle = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    points = np.zeros((n, 6))
    points[:, 0], points[:, 1] = np.cos(angle), np.sin(angle)
    return points + noise * rng.standard_normal(points.shape)


def test_the_geodesic_goes_round_a_ring_where_the_straight_line_crosses_its_hole():
    points = ring()
    start, stop = 0, len(points) // 2  # opposite sides of the ring
    nodes = knn_geodesic(points, start, stop, k=6)
    assert nodes[0] == start and nodes[-1] == stop
    geodesic = resample(points[nodes], 12)
    straight = straight_path(points[start], points[stop], 12)
    assert len(geodesic) == len(straight) == 12
    np.testing.assert_allclose(geodesic[[0, -1]], points[[start, stop]])
    radius = np.linalg.norm(geodesic[:, :2], axis=1)
    assert np.abs(radius - 1).max() < 0.1  # every step stays on the ring
    assert np.linalg.norm(straight[len(straight) // 2 - 1 : len(straight) // 2 + 1, :2], axis=1).max() < 0.15
    steps = np.linalg.norm(np.diff(geodesic, axis=0), axis=1)
    assert steps.max() / steps.mean() < 1.3  # resampled evenly along its length: about pi / 11 each
    assert abs(steps.sum() - np.pi) < 0.15


def test_image_weights_choose_the_path_whose_decoded_images_change_least():
    """Two arcs join the ends; the 'images' of the upper arc change fast, so image weights take the lower."""
    points = ring(noise=0.0)
    upper = points[:, 1] > 0
    images = np.stack([points[:, 0], points[:, 1] * np.where(upper, 5.0, 1.0)], axis=1)[:, :, None]
    nodes = knn_geodesic(points, 0, len(points) // 2, k=4, image_weights=images)
    assert (points[nodes[1:-1], 1] < 0).all()


def test_a_graph_that_does_not_join_the_ends_says_so_in_one_line():
    rng = np.random.default_rng(1)
    points = np.concatenate([rng.standard_normal((50, 3)), 100 + rng.standard_normal((50, 3))])
    with pytest.raises(LatentkitError) as refused:
        knn_geodesic(points, 0, 99, k=5)
    said = str(refused.value)
    assert "\n" not in said and "does not join the two ends" in said and "raise --k" in said and "--k 10" in said


def test_the_magnification_of_a_linear_decoder_is_its_constant_log_sqrt_det():
    """x = W z + b (a Dense layer shaped into a 4x4x3 image): J = W everywhere, so every z-point
    gives log sqrt(det WᵀW); W doubled adds z_dim log 2."""
    from latentkit.model.backend import keras
    from latentkit.model.jacobian import log_magnification

    z_dim, rng = 5, np.random.default_rng(2)
    weights = rng.standard_normal((z_dim, 48)).astype(np.float32)
    decoder = keras.Sequential([keras.Input((z_dim,)), keras.layers.Dense(48), keras.layers.Reshape((4, 4, 3))])
    decoder.layers[0].set_weights([weights, rng.standard_normal(48).astype(np.float32)])
    w = weights.astype(np.float64).T  # x = W z + b with W (48, z_dim)
    exact = 0.5 * np.linalg.slogdet(w.T @ w)[1]
    z = rng.standard_normal((9, z_dim))
    got = log_magnification(decoder, z, call_rows=16)  # 3 points a call: the batches split
    np.testing.assert_allclose(got, exact, rtol=1e-4)
    decoder.layers[0].set_weights([2 * weights, np.zeros(48, np.float32)])
    np.testing.assert_allclose(log_magnification(decoder, z), exact + z_dim * np.log(2), rtol=1e-4)


def test_interpolate_geodesic_and_plane_magnification_on_a_tiny_run(tiny_ae, tmp_path):
    run = copy_run(tiny_ae, tmp_path / "run")

    def geodesic(steps: int, out: Path, *more):
        """``interpolate --path geodesic`` on the run, from image 3 to image 7."""
        path = ["--from", 3, "--to", 7, "--steps", steps, "--path", "geodesic"]
        return cli("interpolate", "--run", run, *path, *more, "--out", out)

    said = geodesic(5, tmp_path / "geodesic.png", "--k", 8)
    assert (tmp_path / "geodesic.png").stat().st_size > 0
    assert "hops over the 8-NN graph of 240 latents (latent weights)" in said.stdout
    lines = {line.split(":")[0].strip(): line for line in said.stdout.splitlines()}
    for name in ("straight", "geodesic"):
        assert "re-encoding median" in lines[name] and "decoded step mean" in lines[name]
    images = geodesic(4, tmp_path / "images.png", "--weights", "images", "--graph-points", 100)
    assert "of 102 latents (images weights)" in images.stdout
    wrong = cli("interpolate", "--run", run, "--path", "bent", "--out", tmp_path / "x.png", check=False)
    assert wrong.returncode == 2 and "--path takes straight or geodesic" in wrong.stderr

    plane = cli("plane", "--run", run, "--magnification", "--grid", "3")
    assert "log magnification over the 3x3 grid" in plane.stdout
    report = json.loads((run / "analysis" / "plane_pcs_0-1.json").read_text())
    grown = report["magnification"]
    assert grown["grid"] == 3 and len(grown["values"]) == 3 and len(grown["values"][0]) == 3
    assert grown["data_points"] == 16 and grown["grid_min"] <= grown["grid_median"] <= grown["grid_max"]
    assert np.isfinite(grown["data_median"])
    assert (run / "analysis" / grown["figure"]).stat().st_size > 0
    bare = cli("plane", "--latents", run / "latents.zarr", "--out", tmp_path / "p", "--magnification", check=False)
    assert bare.returncode == 2 and "--magnification needs --run" in bare.stderr
