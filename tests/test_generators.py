"""The generators against known answers (issues 13, 37): the uniform box's and the normal's radius by
dimension, the Gaussian mixture (fitted and in analyze), the kernel density, a VAE's aggregate
posterior and the RealNVP flow (fitted, resumed, and on a run with ``latentkit flow``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures.latents import FAST, write_latents
from scipy.optimize import linear_sum_assignment

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.generators import FittedMixture, LatentFit, StandardNormal, UniformBox, fit_mixture


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


def test_the_radius_against_the_dimension_follows_the_formulas_from_3_to_2048():
    from latentkit.analysis.generators import radius_by_dimension

    found = radius_by_dimension((1.0, 3.0), check_draws=4000)
    assert found["dims"][0] == 3 and found["dims"][-1] == 2048
    for row in found["generators"]:
        np.testing.assert_allclose(row["drawn_mean"], row["mean"], rtol=0.02)
    uniform3 = next(r for r in found["generators"] if r["name"] == "uniform b=3")
    assert uniform3["mean"][-1] == pytest.approx(3 * np.sqrt(2048 / 3), rel=1e-3)
    normal = next(r for r in found["generators"] if r["name"] == "standard normal")
    assert normal["mean"][-1] == pytest.approx(np.sqrt(2048), rel=1e-3) and normal["std"][-1] == pytest.approx(
        np.sqrt(0.5), rel=0.01
    )


def three_blobs(rng, n):
    means = np.array([[4.0, 0, 0, 0, 1, 0], [-3.0, 3, 0, 0, 0, 0], [0.0, -4, 2, 0, 0, -1]])
    weights = np.array([0.5, 0.3, 0.2])
    which = rng.choice(3, size=n, p=weights)
    scales = np.array([0.6, 1.0, 0.8])
    return means[which] + rng.standard_normal((n, 6)) * scales[which, None], means, weights


def test_mixture_recovers_components_means_and_weights():
    rng = np.random.default_rng(0)
    z, means, weights = three_blobs(rng, 6000)
    mixture = fit_mixture(z, (1, 2, 3, 4, 6), seed=0)
    assert len(mixture.weights) == 3, mixture.bic
    assert min(mixture.bic, key=mixture.bic.get) == "3"
    cost = ((mixture.means[:, None, :] - means[None]) ** 2).sum(axis=2)
    found, truth = linear_sum_assignment(cost)
    np.testing.assert_allclose(mixture.means[found], means[truth], atol=0.1)
    np.testing.assert_allclose(mixture.weights[found], weights[truth], atol=0.02)
    # Its samples follow the same mixture: weights by nearest true mean.
    sample = mixture.sample(rng, 20_000)
    nearest = np.argmin(((sample[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    np.testing.assert_allclose(np.bincount(nearest, minlength=3) / len(sample), weights, atol=0.02)


def test_analyze_adds_the_mixture_generator_and_saves_it(tmp_path):
    rng = np.random.default_rng(1)
    z, _, _ = three_blobs(rng, 30_000)
    report = analyze(latents=write_latents(tmp_path / "z.zarr", z.astype(np.float32)), out=tmp_path / "a", options=FAST)
    assert report["mixture"]["components"] == 3
    fit = LatentFit.load(tmp_path / "a" / "mvn.npz")
    assert fit.mixture is not None and len(fit.mixture.weights) == 3
    rows = {g["method"]: g for g in report["generators"]}
    # The mixture's samples follow the data: they hit the region as often as the data do.
    for k, fraction in report["data_hit_fraction"].items():
        assert rows["gmm"]["hit_fraction"][k] == pytest.approx(fraction, abs=0.03)
    mean, _ = FittedMixture().expected_radius(fit)
    assert rows["gmm"]["radius_mean"] == pytest.approx(mean, rel=0.03)
    nn = report["nearest_neighbours"]["sets"]
    assert nn["gaussian mixture"]["median_ratio"] == pytest.approx(1.0, abs=0.1)
    assert nn["multivariate normal"]["median_ratio"] < 0.9  # the normal spreads into the gaps


def _two_moons(n: int, seed: int) -> np.ndarray:
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.05, random_state=seed)[0] * [1.0, 2.0]


def test_the_kernel_density_follows_two_moons_better_than_the_normal_and_prdc_agrees():
    from prdc import compute_prdc

    from latentkit.analysis.generators import Kde
    from latentkit.analysis.measures.holes import prdc

    moons = _two_moons(3000, 1)
    kde = Kde.fit(moons[:1500])
    assert 0.01 < kde.bandwidth < 1.0
    rng = np.random.default_rng(20)
    drawn = kde.sample(rng, 1500)
    normal = rng.multivariate_normal(moons.mean(axis=0), np.cov(moons.T), 1500)
    real = moons[1500:]
    ours_kde, ours_normal = prdc(real, drawn, k=5), prdc(real, normal, k=5)
    assert ours_kde["precision"] > ours_normal["precision"] + 0.2 and ours_kde["coverage"] > 0.8
    for ours, fake in ((ours_kde, drawn), (ours_normal, normal)):  # the prdc package's numbers, same vectors
        theirs = compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
        for key in ("precision", "recall", "density", "coverage"):
            assert ours[key] == pytest.approx(theirs[key], abs=1e-9), key


def test_the_kernel_densitys_cross_validation_is_scikit_learns():
    """The bandwidth's held-out log-likelihood, all bandwidths from one distance matrix per fold,
    equals KernelDensity.score and GridSearchCV's mean test score, and picks its bandwidth. The
    KernelDensity compared with is one leaf (every kernel summed): the default tree's bounds are
    wrong in 64 dimensions below a bandwidth of about 1.4 (scikit-learn issues 25799, 27186)."""
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.neighbors import KernelDensity

    from latentkit.analysis.generators import Kde
    from latentkit.analysis.generators.kde import BANDWIDTHS, cross_validated_scores, kde_score

    rng = np.random.default_rng(4)
    for points in (_two_moons(600, 3), rng.normal(size=(300, 64)) @ rng.normal(size=(64, 64)) * 0.3 + 5.0):
        standard = (points - points.mean(axis=0)) / points.std(axis=0)
        exact = KernelDensity(leaf_size=len(points))
        train, test = standard[:200], standard[200:]
        for h, ours in zip(BANDWIDTHS, kde_score(train, test, BANDWIDTHS)):
            assert ours == pytest.approx(exact.set_params(bandwidth=h).fit(train).score(test), rel=1e-9)
        np.testing.assert_allclose(
            kde_score(train, test, BANDWIDTHS, block=7), kde_score(train, test, BANDWIDTHS), rtol=1e-12
        )  # blocks of test rows: the same sums
        search = GridSearchCV(exact, {"bandwidth": BANDWIDTHS}, cv=KFold(3, shuffle=True, random_state=0))
        search.fit(standard)
        np.testing.assert_allclose(
            cross_validated_scores(standard, BANDWIDTHS), search.cv_results_["mean_test_score"], rtol=1e-9
        )
        assert Kde.fit(points).bandwidth == search.best_params_["bandwidth"]


def test_analyze_fits_the_kde_and_a_vaes_aggregate_posterior_and_generate_draws_them(tmp_path):
    import zarr
    from fixtures.commands import cli

    rng = np.random.default_rng(21)
    mu = np.concatenate([rng.normal(-2, 0.3, (3000, 3)), rng.normal(2, 0.3, (3000, 3))])
    logvar = np.full(mu.shape, np.log(0.01))
    z = mu + 0.1 * rng.standard_normal(mu.shape)
    group = zarr.open_group(tmp_path / "latents.zarr", mode="w")
    for name, values in (("z", z), ("mu", mu), ("logvar", logvar)):
        group.create_array(name, shape=values.shape, chunks=(2000, 3), dtype="float32")[:] = values
    options = AnalyzeOptions(
        tsne=False,
        kmeans=False,
        figures=False,
        nn_sample=0,
        generator_samples=1000,
        hit_draws=1000,
        quality_sample=800,
        mmd_sample=400,
    )
    report = analyze(latents=tmp_path / "latents.zarr", out=tmp_path / "a", options=options)
    methods = [g["method"] for g in report["generators"]]
    assert methods[-3:] == ["kde", "posterior", "reweighted"] and report["kde"]["bandwidth"] > 0
    coverage = report["coverage"]
    assert coverage["posterior"]["coverage"] > coverage["mvn"]["coverage"]  # two blobs: the normal fills the gap
    assert report["mismatch"]["mmd"]["posterior"]["p_value"] > report["mismatch"]["mmd"]["mvn"]["p_value"]
    fit = LatentFit.load(tmp_path / "a" / "mvn.npz")
    assert fit.kde is not None and fit.posterior is not None and fit.posterior.mu.shape == (5000, 3)
    refused = cli(
        "generate", "--run", tmp_path / "nothing", "--method", "kde", "--out", tmp_path / "k.png", check=False
    )
    assert refused.returncode == 2


def test_a_realnvp_flow_covers_thin_two_moons_better_than_the_mixture_and_resumes(tmp_path):
    from sklearn.datasets import make_moons

    from latentkit.analysis.generators import fit_mixture
    from latentkit.analysis.measures.holes import prdc
    from latentkit.model.flow import fit_flow, load_flow

    moons = make_moons(4000, noise=0.02, random_state=1)[0] * [1.0, 2.0]
    train, real = moons[:3000], moons[3000:]
    settings = {"couplings": 8, "hidden": 128, "batch": 128, "lr": 1e-3}
    # 80 epochs (coverage margin over the mixture 0.08-0.14 on three seeds of the moons; 0.03 asserted)
    half = fit_flow(train, np.arange(3000), tmp_path / "flow", epochs=40, **settings)
    assert half["epochs"] == 40 and load_flow(tmp_path / "nothing") is None
    done = fit_flow(train, np.arange(3000), tmp_path / "flow", epochs=80, **settings)  # resumes at 41
    assert [h["epoch"] for h in done["history"]] == list(range(1, 81))
    assert done["history"][-1]["nll"] < done["history"][0]["nll"] - 1.0
    rng = np.random.default_rng(22)
    flow = load_flow(tmp_path / "flow").sample(rng, 1000)
    mixture = fit_mixture(train, seed=0).sample(rng, 1000)
    ours, theirs = prdc(real, flow, k=5), prdc(real, mixture, k=5)
    assert ours["coverage"] > theirs["coverage"] + 0.03 and ours["precision"] > theirs["precision"]
    from prdc import compute_prdc  # the flow's coverage as the prdc package computes it, on the same vectors

    assert compute_prdc(real_features=real, fake_features=flow, nearest_k=5)["coverage"] == pytest.approx(
        ours["coverage"], abs=1e-9
    )


def test_latentkit_flow_on_a_run_joins_the_generators(tiny_ae, tmp_path):
    from fixtures.commands import cli
    from fixtures.runs import copy_run

    run = copy_run(tiny_ae, tmp_path / "run")
    trained = cli("flow", "--run", run, "--epochs", "2", "--couplings", "2", "--hidden", "16", "--batch", "32")
    assert "flow at epoch 2" in trained.stdout and (run / "flow" / "flow.json").exists()
    again = cli("flow", "--run", run, "--epochs", "2")  # nothing left to do
    assert "flow at epoch 2" in again.stdout
    cli("analyze", "--run", run, "--no-tsne", "--no-kmeans", "--no-figures", "--no-report", "--hit-draws", "1000")
    report = json.loads((run / "analysis" / "report.json").read_text())
    assert "flow" in [g["method"] for g in report["generators"]] and "flow" in report["coverage"]
    made = cli("generate", "--run", run, "--method", "flow", "--n", "4", "--out", tmp_path / "flow.png")
    assert "hit fraction" in made.stdout and (tmp_path / "flow.png").exists()
