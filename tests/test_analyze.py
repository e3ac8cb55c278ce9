"""The analyze job over one cloud: a known normal's report (centres, half-widths, PCA, hit fractions),
the same report in any chunking, the full report with its figures, masked rows and bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from fixtures.commands import cli
from fixtures.latents import FAST, write_latents

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.hits import hit_fractions
from latentkit.analysis.measures.stats import FWHM_PER_SIGMA


@pytest.fixture(scope="module")
def mvn_case(tmp_path_factory):
    rng = np.random.default_rng(1)
    dim = 6
    mean = np.array([0.5, -1.0, 0.0, 2.0, 0.3, -0.2])
    a = rng.normal(size=(dim, dim)) * 0.4
    cov = a @ a.T + np.diag([1.0, 0.5, 2.0, 0.8, 1.5, 0.3])
    z = rng.multivariate_normal(mean, cov, size=200_000).astype(np.float32)
    path = write_latents(tmp_path_factory.mktemp("mvn") / "z.zarr", z, chunk=7_000)
    return path, z, mean, cov


@pytest.fixture(scope="module")
def mvn_analysis(mvn_case, tmp_path_factory) -> tuple[dict, Path]:
    """``mvn_case`` analyzed once with FAST: the report and its folder (read, never written)."""
    out = tmp_path_factory.mktemp("mvn-analysis") / "a"
    return analyze(latents=mvn_case[0], out=out, options=FAST), out


def test_multivariate_normal_recovers_centres_halfwidths_and_pca(mvn_case, mvn_analysis):
    path, z, mean, cov = mvn_case
    report, out = mvn_analysis
    sigma = np.sqrt(np.diag(cov))
    centres = np.array([c["gauss"]["centre"] for c in report["components"]])
    widths = np.array([c["fwhm"] for c in report["components"]])
    np.testing.assert_allclose(centres, mean, atol=0.03)
    np.testing.assert_allclose(widths, FWHM_PER_SIGMA * sigma, rtol=0.04)
    np.testing.assert_allclose([c["gauss"]["sigma"] for c in report["components"]], sigma, rtol=0.02)
    values = np.linalg.eigvalsh(cov)[::-1]
    np.testing.assert_allclose(report["pca"]["explained_variance_ratio"], values / values.sum(), atol=0.005)
    fit = LatentFit.load(out / "mvn.npz")
    np.testing.assert_allclose(fit.cov, cov, atol=0.03)
    assert report["n"] == 200_000 and report["dim"] == 6
    for key in ("mean", "std", "fwhm", "gauss"):
        assert key in report["components"][0]
    assert {"mean", "std", "peak"} <= set(report["radius"])


def test_hit_fractions_equal_a_direct_count(mvn_case, mvn_analysis):
    path, z, _, _ = mvn_case
    report, out = mvn_analysis
    fit = LatentFit.load(out / "mvn.npz")
    for k, fraction in report["data_hit_fraction"].items():
        inside = np.all(np.abs(z.astype(np.float64) - fit.centre) <= float(k) * fit.fwhm, axis=1)
        assert fraction == pytest.approx(inside.mean(), abs=1e-12)
    sample = np.random.default_rng(5).normal(size=(500, 6))
    direct = np.mean(np.all(np.abs(sample - fit.centre) <= 2.0 * fit.fwhm, axis=1))
    assert hit_fractions(sample, fit, (2.0,))["2"] == direct


def test_chunking_does_not_change_the_report(mvn_case, tmp_path):
    _, z, _, _ = mvn_case
    passes_only = {**FAST.__dict__, "mixture": False, "quality": False, "nn_sample": 0}  # what reads the rows in chunks
    a = analyze(
        latents=write_latents(tmp_path / "a.zarr", z[:30_000], chunk=30_000),
        out=tmp_path / "ra",
        options=AnalyzeOptions(**passes_only),
    )
    b = analyze(
        latents=write_latents(tmp_path / "b.zarr", z[:30_000], chunk=1_234),
        out=tmp_path / "rb",
        options=AnalyzeOptions(**{**passes_only, "read_rows": 1_234}),
    )
    for ca, cb in zip(a["components"], b["components"]):
        assert ca["fwhm"] == pytest.approx(cb["fwhm"], rel=1e-9) and ca["mean"] == pytest.approx(cb["mean"], rel=1e-9)
    np.testing.assert_allclose(a["pca"]["explained_variance_ratio"], b["pca"]["explained_variance_ratio"], rtol=1e-8)


def test_full_report_with_figures_tsne_and_kmeans(mvn_case, tmp_path):
    _, z, _, _ = mvn_case
    path = write_latents(tmp_path / "small.zarr", z[:3000])
    options = AnalyzeOptions(tsne_sample=500, kmeans_sample=1000, kmeans_max=10, generator_samples=1000, sample=1000)
    report = analyze(latents=path, out=tmp_path / "full", options=options)
    for name in (
        "components",
        "dominant",
        "radius",
        "correlation",
        "ellipses",
        "pca",
        "pc_histograms",
        "pc_scatter",
        "tsne",
        "kmeans",
        "nn_distances",
    ):
        assert (tmp_path / "full" / f"{name}.png").stat().st_size > 5000, name
    assert report["tsne"]["points"] == 500 and report["kmeans"]["k"][0] == 2 and report["kmeans"]["k"][-1] == 10
    assert report["kmeans"]["inertia"][0] > report["kmeans"]["inertia"][-1]
    saved = json.loads((tmp_path / "full" / "report.json").read_text())
    assert [g["method"] for g in saved["generators"]][-4:] == [
        "mvn",
        "gmm",
        "kde",
        "reweighted",
    ]  # kde and reweighted: samplers that follow the data
    assert all(set(g["hit_fraction"]) == {"1.5", "2", "3", "12"} for g in saved["generators"])
    mvn = next(g for g in saved["generators"] if g["method"] == "mvn")["hit_fraction"]
    uniform5 = next(g for g in saved["generators"] if g["params"].get("b") == 5.0)["hit_fraction"]
    assert mvn["3"] > 0.5 and uniform5["1.5"] < mvn["1.5"]
    markdown = (tmp_path / "full" / "report.md").read_text()
    assert "## PCA" in markdown and "## Gaussian mixture" in markdown and "## Nearest-neighbour distances" in markdown
    rows = np.load(tmp_path / "full" / "tsne_rows.npy")  # which latent rows the t-SNE shows
    assert len(rows) == 500 and len(np.unique(rows)) == 500 and rows.max() < 3000


def test_group_with_z_and_ok_mask(tmp_path):
    group = zarr.open_group(tmp_path / "g.zarr", mode="w")
    z = np.random.default_rng(4).normal(size=(100, 3)).astype(np.float32)
    z[7] = 1e6  # a row whose image failed to decode: excluded by ok
    group.create_array("z", shape=z.shape, chunks=(50, 3), dtype="float32")[:] = z
    ok = np.ones(100, bool)
    ok[7] = False
    group.create_array("ok", shape=(100,), chunks=(50,), dtype="bool")[:] = ok
    report = analyze(latents=tmp_path / "g.zarr", out=tmp_path / "r", options=FAST)
    assert report["n"] == 99 and report["radius"]["mean"] < 10


def test_bad_input_gives_one_line_errors(tmp_path):
    nan = np.ones((50, 4), np.float32)
    nan[10, 2] = np.nan
    cases = [
        (write_latents(tmp_path / "nan.zarr", nan), "NaN"),
        (zarr.create_array(tmp_path / "rank.zarr", shape=(10,), dtype="float32") and tmp_path / "rank.zarr", "2-D"),
        (
            zarr.create_array(tmp_path / "empty.zarr", shape=(0, 4), dtype="float32") and tmp_path / "empty.zarr",
            "empty",
        ),
        (tmp_path / "missing.zarr", "no latents"),
    ]
    for path, words in cases:
        result = cli("analyze", "--latents", path, "--out", tmp_path / "out", "--no-tsne", "--no-kmeans", check=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and words in lines[0], result.stderr
