"""The plane command (issue 45): groups at each zoom, and one convention for PC coordinates with analyze."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.latents import QUICK

from latentkit.analysis.analyze import analyze
from latentkit.analysis.generators import LatentFit
from latentkit.analysis.report.files import read_report
from latentkit.analysis.report.schema import PlaneReport


def test_a_plane_zoomed_in_on_two_parallel_segments_shows_two(tmp_path):
    """Two parallel segments 0.05 apart in the PC1-PC2 plane of a 5-D cloud: the whole view (its
    window 4 sigma wide) shows one smudge, the zoom x50 around their middle shows two strands;
    the fitted normal has no such structure, so the data's nearest neighbours are far closer."""
    from fixtures.commands import cli

    rng = np.random.default_rng(10)
    n = 40_000
    along = rng.uniform(-3, 3, n)
    side = np.where(rng.random(n) < 0.5, -0.025, 0.025) + rng.normal(0, 0.001, n)
    rest = rng.normal(0, 0.02, (n, 3))
    z = np.column_stack([along, side, rest])  # PC1 along the segments, PC2 across them
    np.save(tmp_path / "z.npy", z.astype(np.float32))
    result = cli("plane", "--latents", tmp_path / "z.npy", "--out", tmp_path / "p", "--pcs", "0:1", "--zoom", "1,50")
    report = read_report(tmp_path / "p" / "plane_pcs_0-1.json", PlaneReport)
    whole, close = report["zooms"]
    assert whole["points"] == n and whole["groups"] == 1
    assert close["groups"] == 2 and 0 < close["points"] < n
    assert report["nearest_neighbours"]["median_ratio"] < 0.5
    assert "zoom x50" in result.stdout and (tmp_path / "p" / "plane_pcs_0-1.png").exists()
    axes = cli(
        "plane",
        "--latents",
        tmp_path / "z.npy",
        "--out",
        tmp_path / "p",
        "--axes",
        "0:1",
        "--zoom",
        "50",
        "--centre",
        "0,0",
    )
    assert "2 group(s)" in axes.stdout
    wrong = cli("plane", "--latents", tmp_path / "z.npy", "--out", tmp_path / "p", "--pcs", "0:9", check=False)
    assert wrong.returncode == 2 and "--pcs" in wrong.stderr


def test_a_smooth_blob_is_one_group_at_every_zoom(tmp_path):
    from latentkit.analysis.plane import PlaneOptions, plane

    z = np.random.default_rng(24).multivariate_normal(np.zeros(8), np.eye(8) + 0.3, 20_000)
    np.save(tmp_path / "z.npy", z)
    report = plane(latents=tmp_path / "z.npy", out=tmp_path / "p", options=PlaneOptions(zooms=(1.0, 5.0, 20.0)))
    assert [row["groups"] for row in report["zooms"]] == [1, 1, 1]
    assert report["nearest_neighbours"]["median_ratio"] == pytest.approx(1.0, abs=0.1)  # it is the normal


def test_plane_and_analyze_agree_on_a_points_pc_coordinates(tmp_path):
    """One convention: a PC coordinate is (z - the data's mean) on the principal axes, in analyze
    and in plane alike, so plane's --centre at the PC coordinates analyze gives one point finds
    exactly that point at a high zoom; the PCA's origin (0, 0) is the data's mean."""
    from latentkit.analysis.measures.stats import pca_from_covariance
    from latentkit.analysis.plane import PlaneOptions, plane

    rng = np.random.default_rng(46)
    z = rng.multivariate_normal([5.0, -7.0, 2.0, 0.0], np.diag([4.0, 2.0, 1.0, 0.5]), 20_000)
    z[123] = [9.0, -3.0, 2.5, 0.2]  # a point of its own, 2 sigma out in the first two
    np.save(tmp_path / "z.npy", z)
    analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=QUICK)
    fit = LatentFit.load(tmp_path / "a" / "mvn.npz")
    _, vectors = pca_from_covariance(fit.cov)
    x, y = (z[123] - fit.mean) @ vectors[:, [0, 1]]
    found = plane(
        latents=tmp_path / "z.npy",
        out=tmp_path / "p",
        options=PlaneOptions(pcs=(0, 1), zooms=(1.0, 2000.0), centre=(x, y), nn_points=0),
    )
    assert found["mean"] == pytest.approx([0.0, 0.0], abs=1e-9)  # the PCA's origin is the data's mean
    assert found["zooms"][1]["points"] == 1  # the point, alone in a window 0.008 wide
    assert found["zooms"][1]["half_side"] == pytest.approx(4 * 2.0 / 2000, rel=0.02)  # 4 sigma of PC0 / zoom
