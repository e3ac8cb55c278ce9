import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import cli

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.generators import LatentFit, StandardNormal, UniformBox
from latentkit.analysis.measures.hits import hit_fractions
from latentkit.analysis.measures.stats import FWHM_PER_SIGMA, Histograms, Moments

# small where the assertions need no size: 2,000 hit-test draws, no kernel density (tested in test_studies)
FAST = AnalyzeOptions(tsne=False, kmeans=False, figures=False, generator_samples=2000, hit_draws=2000, kde=False)


def write_latents(path, z, chunk=1000):
    array = zarr.create_array(path, shape=z.shape, chunks=(chunk, z.shape[1]), dtype="float32")
    array[:] = z
    return path


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


def test_uniform_radius_matches_formulas_at_256_dimensions(tmp_path):
    rng = np.random.default_rng(2)
    n, b = 256, 1.5
    fit = LatentFit(mean=np.zeros(n), cov=np.eye(n), centre=np.zeros(n), sigma=np.ones(n), fwhm=np.ones(n))
    generator = UniformBox(b)
    z = generator.sample(rng, 100_000, fit)
    r = np.sqrt((z * z).sum(axis=1))
    expected_mean, expected_sd = generator.expected_radius(fit)
    assert abs(r.mean() / expected_mean - 1) < 0.01 and abs(r.std() / expected_sd - 1) < 0.01
    assert abs(expected_mean - b * np.sqrt(n / 3)) < 0.01 * expected_mean
    normal = StandardNormal()
    zn = normal.sample(rng, 20_000, fit)
    assert abs(np.sqrt((zn * zn).sum(axis=1)).mean() / normal.expected_radius(fit)[0] - 1) < 0.01


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
    assert [g["method"] for g in saved["generators"]][-3:] == [
        "mvn",
        "gmm",
        "kde",
    ]  # kde: a sampler that follows the data
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


def _clusters(n: int, dim: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, (4, dim))
    return (centres[rng.integers(0, 4, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def test_the_tsne_iteration_count_reaches_opentsne_and_tsne_pca_0_embeds_the_raw_components(monkeypatch):
    """Issue 45 item 5: t-SNE as the posts ran it. The iterations count as sklearn's n_iter (the
    posts' 1000): 250 exaggerated, the rest openTSNE's; stopping right after the exaggerated phase
    leaves a far worse fit (KL divergence) than the default 750 or the posts' 1000. --tsne-pca 0
    hands openTSNE the raw rows; --tsne-pca 3 the first three PC coordinates."""
    import openTSNE

    from latentkit.analysis.measures.embedding import run_tsne
    from latentkit.core import JobEvents, LatentkitError

    sample = _clusters(400, 12).astype(np.float64)
    projected = (sample - sample.mean(0)) @ np.linalg.svd(sample - sample.mean(0), full_matrices=False)[2].T
    seen, fit = [], openTSNE.TSNE.fit
    monkeypatch.setattr(
        openTSNE.TSNE, "fit", lambda self, x, *a, **k: seen.append((x, self.n_iter)) or fit(self, x, *a, **k)
    )
    found = {}
    for iterations in (250, 300, 350):
        options = AnalyzeOptions(tsne_sample=200, tsne_pca=0, tsne_iterations=iterations)
        embedding, found[iterations], take = run_tsne(sample, projected, options, JobEvents())
        assert (
            found[iterations]["iterations"] == iterations and found[iterations]["early_exaggeration_iterations"] == 250
        )
        assert seen[-1][1] == iterations - 250 and found[iterations]["input"] == "the raw components"
        np.testing.assert_array_equal(seen[-1][0], sample[take])  # the raw components, not PC coordinates
        assert found[iterations]["input_dims"] == 12 and embedding.shape == (200, 2)
    kl = {i: found[i]["kl_divergence"] for i in found}
    assert kl[250] > 1.2 * kl[300] and kl[300] > kl[350], kl  # 50 more iterations fit better
    _, pcs, take = run_tsne(
        sample, projected, AnalyzeOptions(tsne_sample=200, tsne_pca=3, tsne_iterations=250), JobEvents()
    )
    np.testing.assert_array_equal(seen[-1][0], projected[take, :3])
    assert pcs["input"] == "PC0 ... PC2" and pcs["input_dims"] == 3
    assert AnalyzeOptions().tsne_iterations == 750 and AnalyzeOptions().tsne_pca == 50  # openTSNE's 250 + 500
    with pytest.raises(LatentkitError, match="at least 250 iterations"):
        run_tsne(sample, projected, AnalyzeOptions(tsne_iterations=100), JobEvents())


def test_kmeans_k_takes_a_step_and_analyze_fits_exactly_those_k():
    """Post XIII's grid, every second k from 2 to 80, in one option; malformed ranges refused in one line."""
    from latentkit.analysis.measures.embedding import run_kmeans
    from latentkit.core import JobEvents, LatentkitError, parse_ranges

    assert parse_ranges("2-80:2", "--kmeans-k") == tuple(range(2, 81, 2))
    assert parse_ranges("2-30,40,60", "--kmeans-k") == (*range(2, 31), 40, 60)  # the old form unchanged
    assert parse_ranges("3-12:4,2,40-44:2", "--kmeans-k") == (2, 3, 7, 11, 40, 42, 44)
    assert parse_ranges("0-120:40", "--pc-fits", least=0) == (0, 40, 80, 120)
    for bad in ("2-80:0", "2-80:-2", "80-2", "4:2", "2-80:x", "2-80:2:2", "2-", "-4"):
        with pytest.raises(LatentkitError, match=r"--kmeans-k takes whole numbers and ranges, e\.g\. .*2-80:2"):
            parse_ranges(bad, "--kmeans-k")
    with pytest.raises(LatentkitError, match="of at least 2"):
        parse_ranges("1-9:2", "--kmeans-k")
    options = AnalyzeOptions(kmeans_ks=parse_ranges("2-80:2", "--kmeans-k"), kmeans_max=10)  # the list wins over max
    assert run_kmeans(_clusters(100, 3), options, JobEvents())["k"] == list(range(2, 81, 2))


def test_pca_png_shows_the_first_pca_show_components_and_keeps_its_width_at_256_dims(tmp_path, monkeypatch):
    """Issue 45 item 5: pca.png readable at 128-256 dimensions: the bars show the first --pca-show
    components (post IX: 40), the cumulative curve all of them, at one width whatever the dimension."""
    from PIL import Image

    from latentkit.analysis.report import cloud_figures as figures

    def report_of(dim):
        ratio = np.exp(-np.arange(dim) / 30.0)
        ratio /= ratio.sum()
        trimmed = [{"fact": 1.5, "kept": 900, "explained_variance_ratio": ratio.tolist()}]
        return {
            "pca": {
                "explained_variance_ratio": ratio.tolist(),
                "cumulative": np.cumsum(ratio).tolist(),
                "trimmed": trimmed,
            }
        }

    drawn, save = [], figures.save_figure
    monkeypatch.setattr(
        figures,
        "save_figure",
        lambda fig, path: drawn.append((path.name, [len(ax.patches) for ax in fig.axes])) or save(fig, path),
    )
    widths = {}
    for dim, show in ((256, 40), (256, 12), (6, 40)):
        (tmp_path / f"{dim}-{show}").mkdir()
        figures.pca_figure(tmp_path / f"{dim}-{show}", report_of(dim), show)
        assert drawn[-1][1][0] == min(show, dim)  # the left panel's bars
        with Image.open(tmp_path / f"{dim}-{show}" / "pca.png") as image:
            widths[dim, show] = image.size[0]
    assert abs(widths[256, 40] - widths[6, 40]) < 0.05 * widths[6, 40] and widths[256, 40] < 1600, widths

    np.save(tmp_path / "z.npy", _clusters(400, 64))  # the options through the command line, in one run
    result = cli(
        "analyze",
        "--latents",
        tmp_path / "z.npy",
        "--out",
        tmp_path / "a",
        "--pca-show",
        "12",
        "--tsne-pca",
        "0",
        "--tsne-sample",
        "200",
        "--tsne-iterations",
        "300",
        "--kmeans-k",
        "2-80:26",
        "--kmeans-sample",
        "200",
        "--no-quality",
        "--no-mixture",
        "--nn-sample",
        "0",
        "--hit-draws",
        "1000",
    )
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["options"]["pca_show"] == 12 and dict(drawn)["pca.png"][0] == 12, result.stdout
    assert report["kmeans"]["k"] == [2, 28, 54, 80]
    tsne = report["tsne"]
    assert tsne["input"] == "the raw components" and tsne["input_dims"] == 64 and tsne["iterations"] == 300
    assert (
        "(the raw components), perplexity 30, early exaggeration 12, 300 iterations (250 exaggerated)"
        in (tmp_path / "a" / "report.md").read_text()
    )
