"""The streamed statistics and the data's region against known answers (issues 36, 45): moments and
histograms chunk by chunk, the components counted by centre and half-width, the share of points
inside the fitted ellipses (raw and principal-component pairs), trimming (known outliers, post IX's
trimmed view), and the hit test at the studies' resolution with Wilson's interval, in PC coordinates too."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fixtures.latents import QUICK
from PIL import Image
from scipy.special import erf
from scipy.stats import norm

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.stats import (
    FWHM_PER_SIGMA,
    Histograms,
    Moments,
    gaussian_ellipse_share,
    wilson_interval,
)
from latentkit.analysis.report.files import read_report


def test_streamed_statistics_equal_one_shot():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(10_000, 5)) * [1, 2, 3, 4, 5] + 7
    streamed = Moments()
    for start in range(0, len(x), 777):
        streamed.partial_fit(x[start : start + 777])
    one = Moments().fit(x)
    np.testing.assert_allclose(streamed.mean_, one.mean_, rtol=1e-12)
    np.testing.assert_allclose(streamed.cov_, one.cov_, rtol=1e-10)
    np.testing.assert_allclose(one.cov_, np.cov(x, rowvar=False), rtol=1e-10)
    h_stream, h_one = Histograms(-20, 40, 50), Histograms(-20, 40, 50).fit(x)
    for start in range(0, len(x), 999):
        h_stream.partial_fit(x[start : start + 999])
    np.testing.assert_array_equal(h_stream.counts_, h_one.counts_)
    np.testing.assert_array_equal(h_one.counts_[2], np.histogram(x[:, 2], bins=50, range=(-20, 40))[0])


def test_post_ii_counts_components_by_centre_and_half_width_and_the_radius_bin_is_an_option(tmp_path):
    """Made-up components with known fitted centres and half-widths (FWHM = 2.3548 sigma):
    |centre| >= 0.25 in 4, >= 1 in 2; half-width >= 1 in 4, >= 1.5 in 3, >= 3 in 1."""
    rng = np.random.default_rng(48)
    centres = np.array([0.0, 0.4, -0.5, 1.5, -2.0, 0.0, 0.0, 0.0])
    sigmas = np.array([0.2, 0.3, 0.5, 0.7, 1.6, 0.9, 0.25, 0.3])  # FWHM 0.47 0.71 1.18 1.65 3.77 2.12 0.59 0.71
    z = centres + sigmas * rng.standard_normal((50_000, len(centres)))
    np.save(tmp_path / "z.npy", z)
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=replace(QUICK, radius_bin=0.05))
    counts = report["component_counts"]
    assert counts["centre"] == {"0.25": 4, "1": 2} and counts["half_width"] == {"1": 4, "1.5": 3, "3": 1}
    assert counts["dims"] == 8 and counts["post_ii_at_most"]["half_width"]["3"] == 5
    text = (tmp_path / "a" / "report.md").read_text()
    assert (
        "| fitted centre \\|mu\\| >= 0.25 | 4 | 8 | <= 25 |" in text and "| half-width >= 1.5 | 3 | 8 | <= 20 |" in text
    )
    edges = np.asarray(report["radius"]["histogram"]["edges"])
    assert np.allclose(np.diff(edges), 0.05) and edges[0] == 0 and edges[-1] >= np.linalg.norm(z, axis=1).max()


def test_a_2d_gaussian_puts_39_86_99_percent_inside_its_1_2_3_sigma_ellipses(tmp_path):
    assert [round(gaussian_ellipse_share(k), 4) for k in (1, 2, 3)] == [0.3935, 0.8647, 0.9889]
    rng = np.random.default_rng(4)
    z = rng.multivariate_normal([1.0, -2.0, 0.5], [[2.0, 1.2, 0.3], [1.2, 1.5, -0.4], [0.3, -0.4, 1.0]], 50_000)
    np.save(tmp_path / "z.npy", z.astype(np.float32))
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=QUICK)
    assert len(report["ellipses"]) == 3 and len(report["pca"]["ellipses"]) == 2  # PC pairs 0:1, 0:2 (2:5 left out)
    for e in report["ellipses"] + report["pca"]["ellipses"]:
        assert e["n"] == 50_000
        for k in ("1", "2", "3"):
            assert abs(e["fraction_inside"][k] - e["gaussian"][k]) < 0.01, e
    strongest = report["ellipses"][0]
    assert strongest["pair"] == [0, 1] and strongest["r"] == pytest.approx(1.2 / np.sqrt(3.0), abs=0.01)
    assert all(abs(e["r"]) < 1e-9 for e in report["pca"]["ellipses"])  # PCs are uncorrelated
    assert read_report(tmp_path / "a" / "report.json")["pca"]["ellipses"][0]["pair"] == [0, 1]
    text = (tmp_path / "a" / "report.md").read_text()
    assert "## Ellipses: pairs of principal components" in text and "| PC0, PC1 |" in text


def test_a_cloud_that_is_not_gaussian_misses_the_gaussian_shares(tmp_path):
    """Uniform in a square: the 1 sigma ellipse (a circle of radius sigma = side / sqrt(12)) holds pi/12 = 26 %."""
    z = np.random.default_rng(5).uniform(-1, 1, (40_000, 2))
    np.save(tmp_path / "z.npy", z)
    e = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=QUICK)["ellipses"][0]
    assert e["fraction_inside"]["1"] == pytest.approx(np.pi / 12, abs=0.01)
    assert e["fraction_inside"]["3"] == 1.0  # the square lies inside the 3 sigma circle (radius 1.73 > sqrt 2)


def test_trimming_drops_the_known_outliers_and_keeps_the_expected_count(tmp_path):
    rng = np.random.default_rng(6)
    z = rng.standard_normal((20_000, 4))
    z[:37, 2] = 50.0  # 37 far outliers in one component
    np.save(tmp_path / "z.npy", z)
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=QUICK)
    fit = LatentFit.load(tmp_path / "a" / "mvn.npz")
    worst = (np.abs(z - fit.centre) / fit.fwhm).max(axis=1)
    for trim in report["pca"]["trimmed"]:
        kept = worst <= trim["fact"]
        assert trim["kept"] == kept.sum() and not kept[:37].any()
        # the half-width is the full width at half maximum, 2.3548 sigma: |z| <= f x that in all 4 components
        expected = erf(trim["fact"] * FWHM_PER_SIGMA / np.sqrt(2)) ** 4 * (20_000 - 37)
        assert abs(trim["kept"] - expected) < 4 * np.sqrt(expected)


def test_a_gaussian_trimmed_at_f_keeps_the_expected_count_and_its_pc_ellipses_hold_39_86_99_percent(tmp_path):
    """Post IX: trim at f half-widths, PCA of what is kept, the view in PC pairs. For a correlated
    Gaussian the count kept is erf(f 2.3548 / sqrt 2)^d of the points (the box holds that share of
    each component, independently only in PC coordinates: so a diagonal covariance here), and the
    trimmed cloud's 1, 2, 3 sigma ellipses in its own PC pairs hold a 2-D Gaussian's shares."""
    from fixtures.commands import cli

    rng = np.random.default_rng(45)
    d, n = 5, 60_000
    z = rng.standard_normal((n, d)) * np.array([3.0, 2.0, 1.5, 1.0, 0.5]) + np.arange(d)
    np.save(tmp_path / "z.npy", z.astype(np.float32))
    options = replace(QUICK, trim_facts=(1.35, 1.8), pc_pairs=((2, 3), (0, 1)), figures=True)
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=options)
    for trim in report["pca"]["trimmed"]:
        expected = erf(trim["fact"] * FWHM_PER_SIGMA / np.sqrt(2)) ** d * n
        assert abs(trim["kept"] - expected) < 4 * np.sqrt(expected) and trim["pca_points"] == trim["kept"]
        assert [e["pair"] for e in trim["ellipses"]] == [[2, 3], [0, 1]]
        for e in trim["ellipses"]:
            assert e["n"] == trim["kept"]
            for k, share in (("1", 0.3935), ("2", 0.8647), ("3", 0.9889)):
                assert e["fraction_inside"][k] == pytest.approx(share, abs=0.01), (trim["fact"], e)
        # PC i of this diagonal cloud is component i: its fitted sigma is that component's
        assert [f["pc"] for f in trim["pc_fits"]] == [0, 1, 2, 3]
        assert [f["sigma"] for f in trim["pc_fits"]] == pytest.approx([3.0, 2.0, 1.5, 1.0], rel=0.03)
    assert set(report["figures"]) >= {
        "trimmed_f1.35.png",
        "trimmed_f1.8.png",
        "uniform_components.png",
        "uniform_cube.png",
    }  # post II's two figures of the uniform generator
    with Image.open(tmp_path / "a" / "trimmed_f1.35.png") as image:
        assert image.size[0] > 800 and image.size[1] > 800
    assert report["pca"]["max_offdiagonal_correlation"] < 1e-9  # post IX: below 2e-7
    text = (tmp_path / "a" / "report.md").read_text()
    assert "## Trimmed at 1.35 x half-width: pairs of its own principal components" in text and "| PC2, PC3 |" in text
    # the post's PCA of a random 80,000 of the kept points: here 5,000 of them
    sampled = analyze(
        latents=tmp_path / "z.npy", out=tmp_path / "s", options=replace(options, trim_pca_sample=5_000, figures=False)
    )["pca"]["trimmed"]
    for whole, part in zip(report["pca"]["trimmed"], sampled):
        assert part["kept"] == whole["kept"] and part["pca_points"] == 5_000
        assert part["explained_variance_ratio"][:3] == pytest.approx(whole["explained_variance_ratio"][:3], abs=0.02)
    refused = cli("analyze", "--latents", tmp_path / "z.npy", "--out", tmp_path / "b", "--trim", "1.5,0", check=False)
    assert (
        refused.returncode == 2 and "--trim takes positive numbers" in refused.stderr and not (tmp_path / "b").exists()
    )


def test_wilson_intervals_and_the_hit_test_at_the_studies_resolution(tmp_path):
    assert wilson_interval(5, 100) == pytest.approx((0.0215, 0.1118), abs=1e-4)
    low, high = wilson_interval(0, 100_000)
    assert low == 0.0 and high == pytest.approx(3.84e-5, rel=0.01)  # a zero count still bounds the share
    z = np.random.default_rng(7).standard_normal((20_000, 6))
    np.save(tmp_path / "z.npy", z)
    options = AnalyzeOptions(
        tsne=False,
        kmeans=False,
        figures=False,
        quality=False,
        nn_sample=0,
        mixture=False,
        generator_samples=5_000,
        hit_draws=100_000,
        uniform_bs=(0.5, 8.0),
    )
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=options)
    fit = LatentFit.load(tmp_path / "a" / "mvn.npz")
    rows = {g["name"]: g for g in report["generators"]}
    assert [g["params"].get("b") for g in report["generators"][:2]] == [0.5, 8.0]
    normal = rows["standard normal"]
    assert normal["hit_draws"] == 100_000
    for k in ("1.5", "3"):  # the exact share for N(0, I) given the fit's centres and half-widths
        exact = np.prod(norm.cdf(fit.centre + float(k) * fit.fwhm) - norm.cdf(fit.centre - float(k) * fit.fwhm))
        low, high = normal["hit_interval"][k]
        assert low <= normal["hit_fraction"][k] <= high and low - 0.002 <= exact <= high + 0.002
    for b in (0.5, 8.0):  # uniform in [-b, b]: the exact share is the overlap of the two boxes
        g, k = rows[f"uniform b={b:g}"], 1.5
        exact = np.prod(
            (np.minimum(b, fit.centre + k * fit.fwhm) - np.maximum(-b, fit.centre - k * fit.fwhm)) / (2 * b)
        )
        low, high = g["hit_interval"]["1.5"]
        assert low - 1e-3 <= exact <= high + 1e-3 and high - low < 0.002


def test_the_hit_test_in_pc_coordinates_and_any_pcs_fitted(tmp_path):
    """A correlated Gaussian: in PC coordinates the PCs are independent, so the share inside k
    half-widths in every PC is erf(k 2.3548 / sqrt 2)^d for the data and the fitted normal alike."""
    rng = np.random.default_rng(13)
    d = 4
    a = rng.normal(size=(d, d))
    z = rng.multivariate_normal(np.ones(d), a @ a.T + np.eye(d), 60_000)
    np.save(tmp_path / "z.npy", z)
    options = AnalyzeOptions(
        tsne=False,
        kmeans=False,
        quality=False,
        nn_sample=0,
        mixture=False,
        figures=True,
        generator_samples=20_000,
        hit_draws=20_000,
        pc_fits=(0, 3),
        ks=(0.5, 1.5),
    )
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=options)
    expected = {k: erf(float(k) * FWHM_PER_SIGMA / np.sqrt(2)) ** d for k in ("0.5", "1.5")}
    for k, share in expected.items():
        assert report["pca"]["data_hit_fraction"][k] == pytest.approx(share, abs=0.01)
        mvn = next(g for g in report["generators"] if g["method"] == "mvn")
        assert mvn["pc_hit_fraction"][k] == pytest.approx(share, abs=0.015)
    assert [f["pc"] for f in report["pca"]["pc_fits"]] == [0, 3]  # counted from 0, as the option
    assert "pc_histograms.png" in report["figures"]
