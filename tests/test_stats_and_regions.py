"""The seeds' studies' evidence against known answers (issue 36): the share of points inside the
fitted ellipses (raw and principal-component pairs), trimming with known outliers, and the hit
test at the studies' resolution with Wilson's interval."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from scipy.special import erf
from scipy.stats import norm

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.stats import FWHM_PER_SIGMA, gaussian_ellipse_share, wilson_interval
from latentkit.analysis.report.schema import PlaneReport, read_report

QUICK = AnalyzeOptions(
    tsne=False,
    kmeans=False,
    figures=False,
    quality=False,
    nn_sample=0,
    mixture=False,
    generator_samples=2000,
    hit_draws=2000,
)


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


def test_the_kmeans_elbow_of_five_separate_clusters_is_five():
    from latentkit.analysis.measures.embedding import elbow, run_kmeans
    from latentkit.core import JobEvents

    rng = np.random.default_rng(12)
    centres = rng.normal(0, 20, (5, 8))
    points = np.concatenate([c + rng.normal(0, 0.5, (400, 8)) for c in centres])
    options = AnalyzeOptions(kmeans_ks=tuple(range(2, 13)))
    found = run_kmeans(points, options, JobEvents())
    assert found["k"] == list(range(2, 13)) and found["elbow"] == 5
    assert elbow([2, 3], [1.0, 0.5]) is None


def test_the_ellipse_figures_show_points_density_and_shares(tmp_path):
    z = np.random.default_rng(8).multivariate_normal(np.zeros(6), np.eye(6) + 0.5, 4_000)
    np.save(tmp_path / "z.npy", z)
    options = AnalyzeOptions(
        tsne=True,
        tsne_sample=500,
        tsne_perplexity=10,
        tsne_exaggeration=4,
        kmeans_ks=(2, 3, 4, 6),
        quality=False,
        nn_sample=0,
        mixture=False,
        generator_samples=1000,
        hit_draws=1000,
        pc_pairs=((0, 1), (2, 5)),
    )
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=options)
    assert report["tsne"]["perplexity"] == 10 and report["tsne"]["early_exaggeration"] == 4
    assert report["kmeans"]["k"] == [2, 3, 4, 6]
    assert {"ellipses.png", "pc_ellipses.png", "radius_vs_dim.png", "kmeans.png"} <= set(report["figures"])
    with Image.open(tmp_path / "a" / "pc_ellipses.png") as image:
        assert image.size[0] > 1.5 * image.size[1]  # two panels side by side
    assert [e["pair"] for e in report["pca"]["ellipses"]] == [[0, 1], [2, 5]]


def test_a_vae_with_known_log_variances_reproduces_them(tmp_path):
    """Latents of a made-up VAE: mu, logvar known per dimension, z = mu + exp(logvar / 2) eps."""
    import zarr

    rng = np.random.default_rng(9)
    n, dim = 30_000, 5
    logvar_true = np.array([-4.0, -2.0, -1.0, 0.0, 0.5])
    mu = rng.normal(size=(n, dim)) * [3.0, 2.0, 1.0, 0.05, 0.01]
    logvar = logvar_true + rng.uniform(-0.2, 0.2, (n, dim))
    z = mu + np.exp(logvar / 2) * rng.standard_normal((n, dim))
    group = zarr.open_group(tmp_path / "latents.zarr", mode="w")
    for name, values in (("z", z), ("mu", mu), ("logvar", logvar)):
        group.create_array(name, shape=values.shape, chunks=(7_000, dim), dtype="float32")[:] = values
    options = AnalyzeOptions(
        tsne=False, kmeans=False, mixture=False, nn_sample=0, generator_samples=1000, hit_draws=1000, quality_sample=500
    )
    vae = analyze(latents=tmp_path / "latents.zarr", out=tmp_path / "a", options=options)["vae"]
    np.testing.assert_allclose(vae["logvar"]["mean"], logvar_true, atol=0.01)
    np.testing.assert_allclose(vae["logvar"]["min"], logvar_true - 0.2, atol=0.01)
    np.testing.assert_allclose(vae["logvar"]["max"], logvar_true + 0.2, atol=0.01)
    sigma = np.exp(logvar.astype(np.float32) / 2)  # |z - mu| = sigma |eps|: mean sqrt(2/pi) sigma
    assert vae["z_minus_mu"]["mean_abs"] == pytest.approx(np.sqrt(2 / np.pi) * sigma.mean(), rel=0.02)
    radius_mu, radius_z = (np.linalg.norm(v.astype(np.float32), axis=1).mean() for v in (mu, z))
    assert vae["radius"]["mu"]["mean"] == pytest.approx(radius_mu, rel=1e-4)
    assert vae["radius"]["z"]["mean"] == pytest.approx(radius_z, rel=1e-4) and radius_z > radius_mu
    assert vae["active_units"] == 3  # the two near-constant means are inactive
    assert "vae_health.png" in read_report(tmp_path / "a" / "report.json")["figures"]


def test_the_probe_radius_per_epoch_is_the_kept_checkpoints_and_a_run_can_start_from_one(tiny_store, tmp_path):
    import csv

    from conftest import TINY_OVERRIDES, cli

    from latentkit.model import checkpoint
    from latentkit.model.codec import Codec
    from latentkit.model.fitting import probe_images
    from latentkit.model.networks import build_model
    from latentkit.model.spec import spec_from_dict
    from latentkit.model.train import train
    from latentkit.store import to_unit_float

    run = tmp_path / "run"
    result = train(
        data=tiny_store,
        run=run,
        job="vae",
        overrides={**TINY_OVERRIDES, "train.epochs": 3, "train.keep_epochs": [1], "train.keep_every": 2},
    )
    assert sorted(p.name for p in (run / "checkpoints").glob("epoch_*.npz")) == ["epoch_0001.npz", "epoch_0002.npz"]
    rows = list(csv.DictReader((run / "history.csv").read_text().splitlines()))
    assert len(rows) == 3 and all(float(r["probe_radius_mean"]) > 0 for r in rows)
    images = to_unit_float(probe_images(tiny_store))
    for epoch in (1, 2):  # the radius recorded is the kept checkpoint's encodings' radius
        kept = checkpoint.read_kept(run / "checkpoints" / f"epoch_{epoch:04d}.npz")
        model = build_model(spec_from_dict(kept.meta["spec"]).model)
        checkpoint.restore(model, kept, optimizer=False)
        radius = np.linalg.norm(Codec(model).encode(images).astype(np.float64), axis=1)
        assert float(rows[epoch - 1]["probe_radius_mean"]) == pytest.approx(radius.mean(), rel=1e-5)
        assert result.history[epoch - 1]["probe_radius_std"] == pytest.approx(radius.std(), rel=1e-4)
    with Image.open(run / "samples" / "training.png") as image:
        assert image.size[1] > 500  # the probe radius under the loss: two rows of panels
    # back to epoch 1 with another learning rate, in a new run
    branch = tmp_path / "branch"
    done = cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        branch,
        "--from",
        run / "checkpoints" / "epoch_0001.npz",
        "--lr",
        "0.0001",
        "--epochs",
        "2",
    )
    assert "starting from" in done.stderr + done.stdout
    saved, _ = checkpoint.load(branch / "checkpoints")
    assert saved.meta["epoch"] == 2 and saved.meta["spec"]["train"]["lr"] == 0.0001
    assert saved.meta["history"][0] == result.history[0]  # epoch 1 is the original run's
    refused = cli("train", "--data", tiny_store, "--run", tmp_path / "new", "--from", run / "nothing.npz", check=False)
    assert refused.returncode == 2 and "no such checkpoint file" in refused.stderr and not (tmp_path / "new").exists()
    shape = cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        tmp_path / "new",
        "--from",
        run / "checkpoints" / "epoch_0001.npz",
        "--set",
        "model.z_dim=4",
        check=False,
    )
    assert shape.returncode == 2 and "model.z_dim" in shape.stderr and not (tmp_path / "new").exists()


def test_a_plane_zoomed_in_on_two_parallel_segments_shows_two(tmp_path):
    """Two parallel segments 0.05 apart in the PC1-PC2 plane of a 5-D cloud: the whole view (its
    window 4 sigma wide) shows one smudge, the zoom x50 around their middle shows two strands;
    the fitted normal has no such structure, so the data's nearest neighbours are far closer."""
    from conftest import cli

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


def test_a_decoder_with_resize_convolutions_and_residual_blocks_trains_and_its_size_is_estimated(tiny_store, tmp_path):
    from conftest import TINY_OVERRIDES

    from latentkit.model.memory import count_params
    from latentkit.model.networks import build_model
    from latentkit.model.spec import load_spec
    from latentkit.model.train import train

    overrides = {**TINY_OVERRIDES, "model.upsampling": "resize", "model.residual_blocks": 2, "train.epochs": 1}
    spec = load_spec("demo", overrides)
    model = build_model(spec.model)
    layers = [type(layer).__name__ for layer in model.decoder.layers]
    assert "Conv2DTranspose" not in layers and layers.count("UpSampling2D") == 2 and layers.count("Add") == 2
    assert count_params(spec.model)[1] == model.decoder.count_params()
    assert model.decoder(np.zeros((1, spec.model.z_dim), np.float32)).shape == (1, 32, 32, 3)
    result = train(data=tiny_store, run=tmp_path / "run", job="demo", overrides=overrides)
    assert result.epoch == 1 and np.isfinite(result.history[0]["loss"])
    assert load_spec("demo").model.upsampling == "transpose" and load_spec("demo").model.residual_blocks == 0
    with pytest.raises(Exception, match="model.upsampling must be one of transpose, resize"):
        load_spec("demo", {"model.upsampling": "bilinear"})


def test_reconstruct_takes_your_own_photos_cropped_and_resized_as_prepare_does(tiny_ae, tmp_path):
    from conftest import cli

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(11)
    Image.fromarray(rng.integers(0, 255, (90, 120, 3), np.uint8)).save(photos / "a_wide.jpg")
    Image.fromarray(rng.integers(0, 255, (64, 64), np.uint8)).save(photos / "b_grey.png")
    (photos / "c_broken.jpg").write_bytes(b"not a jpeg")
    (photos / "notes.txt").write_text("not an image")
    result = cli("reconstruct", "--run", tiny_ae, "--images", photos, "--out", tmp_path / "mine.png")
    assert "wrote 2 originals" in result.stdout and "c_broken.jpg: not a readable image" in result.stderr
    with Image.open(tmp_path / "mine.png") as image:
        assert image.size == (2 * 34 + 2, 2 * 34 + 2)  # two 32 px originals over their reconstructions
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = cli("reconstruct", "--run", tiny_ae, "--images", empty, "--out", tmp_path / "none.png", check=False)
    assert refused.returncode == 2 and "holds no image" in refused.stderr and not (tmp_path / "none.png").exists()


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


# -- issue 37: prior mismatch in numbers ----------------------------------------------------------


def test_mmd_is_zero_for_one_gaussian_and_tells_a_shifted_one_apart():
    from latentkit.analysis.measures.mismatch import mmd

    rng = np.random.default_rng(14)
    same = mmd(rng.standard_normal((800, 8)), rng.standard_normal((800, 8)), seed=1)
    assert abs(same["mmd2"]) < 0.01 and same["p_value"] > 0.05
    shifted = mmd(rng.standard_normal((800, 8)), rng.standard_normal((800, 8)) + 0.3, seed=1)
    assert shifted["mmd2"] > 0.02 and shifted["p_value"] < 0.01
    assert same["bandwidth"] == pytest.approx(
        4.0, rel=0.05
    )  # the median distance of N(0, I) pairs in 8-D: ~sqrt(2 * 8)


def test_a_vaes_information_and_aggregate_kl_add_up_to_its_kl_term():
    from latentkit.analysis.measures.mismatch import vae_information

    rng = np.random.default_rng(15)
    m, d = 1500, 4
    blind = vae_information(np.zeros((m, d)), np.zeros((m, d)))  # q(z|x) = N(0, I) whatever x: z says nothing
    assert abs(blind["mutual_information"]) < 0.01 and abs(blind["aggregate_kl"]) < 0.02
    mu = rng.standard_normal((m, d))
    sharp = vae_information(mu, np.full((m, d), np.log(1e-4)))  # each x its own narrow posterior
    assert sharp["mutual_information"] > 0.95 * np.log(m)  # the estimator's ceiling, log m
    mixed = vae_information(mu * 0.5, np.full((m, d), np.log(0.5)))
    assert mixed["mutual_information"] + mixed["aggregate_kl"] == pytest.approx(mixed["kl_term"], rel=0.05)


def test_analyze_reports_the_mismatch_of_every_generator(tmp_path):
    z = np.random.default_rng(16).multivariate_normal(np.full(5, 2.0), np.eye(5) * 0.5, 6_000)
    np.save(tmp_path / "z.npy", z)
    options = AnalyzeOptions(
        tsne=False,
        kmeans=False,
        figures=False,
        nn_sample=0,
        generator_samples=1000,
        hit_draws=1000,
        quality_sample=800,
        mmd_sample=500,
    )
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=options)
    mmd = report["mismatch"]["mmd"]
    assert mmd["mvn"]["p_value"] > 0.01 and mmd["normal"]["p_value"] < 0.01  # N(0, I) is far from a cloud at 2
    assert mmd["normal"]["mmd2"] > 10 * abs(mmd["mvn"]["mmd2"])
    assert "## Prior mismatch" in (tmp_path / "a" / "report.md").read_text()


# -- issue 37: runs aligned ---------------------------------------------------------------------


def test_procrustes_recovers_a_known_rotation_and_neighbours_stay():
    from scipy.stats import special_ortho_group

    from latentkit.analysis.measures.alignment import align

    rng = np.random.default_rng(17)
    a = rng.normal(size=(1500, 6)) * [3, 2, 1.5, 1, 0.7, 0.5]
    rotation = special_ortho_group.rvs(6, random_state=3)
    found = align(a, 2.5 * a @ rotation + 7.0)  # rotated, scaled and shifted: the same cloud
    assert found["disparity"] < 1e-10 and found["knn_kept"] == 1.0
    np.testing.assert_allclose(found["rotation"], rotation.T, atol=1e-8)
    noise = align(a, rng.normal(size=a.shape))  # an unrelated cloud: nothing to align
    assert noise["disparity"] > 0.5 and noise["knn_kept"] < 0.1
    wider = align(a, np.column_stack([a @ rotation, rng.normal(0, 0.01, (1500, 3))]))  # 9-D against 6-D
    assert wider["dims"] == 6 and wider["disparity"] < 0.01


# -- issue 37: disentanglement ------------------------------------------------------------------


def test_the_mutual_information_of_many_columns_at_once_is_sklearns_per_column():
    from sklearn.metrics import mutual_info_score

    from latentkit.analysis.measures.disentanglement import mutual_information

    rng = np.random.default_rng(19)
    factor = rng.integers(0, 5, 3000)
    codes = np.column_stack(
        [
            factor * 2 + rng.integers(0, 2, 3000),
            rng.integers(0, 20, 3000),
            np.zeros(3000, int),
            (factor + rng.integers(0, 3, 3000)) % 7,
        ]
    )
    expected = [mutual_info_score(codes[:, j], factor) for j in range(codes.shape[1])]
    np.testing.assert_allclose(mutual_information(codes, factor), expected, rtol=1e-12, atol=1e-14)


def test_disentanglement_is_near_one_for_the_factors_themselves_and_low_after_a_rotation():
    from scipy.stats import special_ortho_group

    from latentkit.analysis.measures.disentanglement import disentanglement

    rng = np.random.default_rng(18)
    factors = np.column_stack([rng.uniform(-1, 1, 6000), rng.uniform(-1, 1, 6000), rng.integers(0, 2, 6000) * 2 - 1.0])
    z = factors + rng.normal(0, 0.02, factors.shape)
    clean = disentanglement(z, factors, ["a", "b", "smiling"])
    assert clean["mig"] > 0.6 and clean["dci"]["disentanglement"] > 0.9 and clean["dci"]["completeness"] > 0.9
    assert clean["dci"]["informativeness"] > 0.99 and clean["sap"] > 0.9
    rotated = disentanglement(z @ special_ortho_group.rvs(3, random_state=4), factors, ["a", "b", "smiling"])
    assert rotated["mig"] < 0.5 * clean["mig"] and rotated["dci"]["disentanglement"] < 0.6
    assert rotated["dci"]["informativeness"] > 0.99  # still all there, only mixed
    assert rotated["sap"] < 0.5 * clean["sap"]
    constant = disentanglement(z, np.column_stack([factors, np.ones(6000)]), ["a", "b", "smiling", "flat"])
    assert constant["factors"] == ["a", "b", "smiling"]


# -- issue 37: decode anywhere ------------------------------------------------------------------


def test_a_lattice_over_a_ring_decodes_to_far_re_encodings_in_its_hole():
    """A ring of radius 5; the stand-in model decodes to itself and encodes onto the ring: the
    lattice's middle (the hole) comes back ~5 away, the cells on the ring ~0."""
    from latentkit.analysis.lattice import plane_lattice, reencode_lattice

    rng = np.random.default_rng(19)
    angle = rng.uniform(0, 2 * np.pi, 3000)
    ring = np.c_[np.cos(angle), np.sin(angle)] * 5
    z = plane_lattice(ring.mean(axis=0), np.eye(2), ring.std(axis=0), n=9, span=1.414)
    assert z.shape == (81, 2) and np.allclose(z[40], ring.mean(axis=0))  # the middle cell: the centre
    images, distances = reencode_lattice(z, lambda v: v, lambda x: 5 * x / np.linalg.norm(x, axis=1, keepdims=True))
    grid = distances.reshape(9, 9)
    assert grid[4, 4] > 4.5 and np.median(distances) < grid[4, 4] / 2
    assert grid[0, 4] < 0.2  # the top middle cell lies on the ring (span 1.414 sd = 5)


def test_latentkit_lattice_on_a_run(tiny_ae, tmp_path):
    from conftest import cli, copy_run

    run = copy_run(tiny_ae, tmp_path / "run")
    result = cli("lattice", "--run", run, "--n", "5")
    assert "5x5 cells" in result.stdout
    found = json.loads((run / "analysis" / "lattice.json").read_text())
    assert len(found["distances"]) == 5 and found["data_median"] > 0
    with Image.open(run / "analysis" / "lattice.png") as image:
        assert image.size[0] > image.size[1] > 300
    wrong = cli("lattice", "--run", run, "--plane", "attributes:Smiling", check=False)
    assert wrong.returncode == 2 and "two attributes" in wrong.stderr


# -- issue 37: samplers that follow the data ----------------------------------------------------


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
    from conftest import cli

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
    assert methods[-2:] == ["kde", "posterior"] and report["kde"]["bandwidth"] > 0
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
    from conftest import cli, copy_run

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


def test_analyze_with_a_labels_file_scores_disentanglement_against_its_numeric_columns(tmp_path):
    import csv

    from conftest import cli

    rng = np.random.default_rng(23)
    factors = rng.uniform(-1, 1, (3000, 2))
    z = np.column_stack([factors + rng.normal(0, 0.02, factors.shape), rng.normal(0, 1, (3000, 2))])
    np.save(tmp_path / "z.npy", z.astype(np.float32))
    with open(tmp_path / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["pose", "light", "name"])
        writer.writerows([f"{a:.4f}", f"{b:.4f}", f"img{i}"] for i, (a, b) in enumerate(factors))
    cli(
        "analyze",
        "--latents",
        tmp_path / "z.npy",
        "--out",
        tmp_path / "a",
        "--labels",
        tmp_path / "labels.csv",
        "--no-tsne",
        "--no-kmeans",
        "--no-figures",
        "--hit-draws",
        "1000",
        "--quality-sample",
        "1000",
    )
    d = json.loads((tmp_path / "a" / "report.json").read_text())["disentanglement"]
    assert d["source"] == "labels file" and d["factors"] == ["pose", "light"]
    assert d["mig"] > 0.5 and d["dci"]["disentanglement"] > 0.8 and d["sap"] > 0.8


def test_a_smooth_blob_is_one_group_at_every_zoom(tmp_path):
    from latentkit.analysis.plane import PlaneOptions, plane

    z = np.random.default_rng(24).multivariate_normal(np.zeros(8), np.eye(8) + 0.3, 20_000)
    np.save(tmp_path / "z.npy", z)
    report = plane(latents=tmp_path / "z.npy", out=tmp_path / "p", options=PlaneOptions(zooms=(1.0, 5.0, 20.0)))
    assert [row["groups"] for row in report["zooms"]] == [1, 1, 1]
    assert report["nearest_neighbours"]["median_ratio"] == pytest.approx(1.0, abs=0.1)  # it is the normal


# -- issue 45: post IX's trimmed view, one convention for PC coordinates -----------------------


def test_a_gaussian_trimmed_at_f_keeps_the_expected_count_and_its_pc_ellipses_hold_39_86_99_percent(tmp_path):
    """Post IX: trim at f half-widths, PCA of what is kept, the view in PC pairs. For a correlated
    Gaussian the count kept is erf(f 2.3548 / sqrt 2)^d of the points (the box holds that share of
    each component, independently only in PC coordinates: so a diagonal covariance here), and the
    trimmed cloud's 1, 2, 3 sigma ellipses in its own PC pairs hold a 2-D Gaussian's shares."""
    from conftest import cli

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


def test_a_vaes_internals_are_counted_as_post_xiii_counts_them(tmp_path):
    """Post XIII's numbers on made-up latents: log-variances at or above -3, |z - mu| above 0.05,
    the radius of z against mu's (absolute and relative), the noise values at the +-5 clip."""
    import zarr

    from latentkit.model.sampling import reparameterize

    rng = np.random.default_rng(47)
    n, dim = 20_000, 6
    mu = rng.normal(size=(n, dim)) * 3
    logvar = np.full((n, dim), -13.0)
    logvar[:7, 0] = -2.0  # 7 values at or above -3, each with sigma 0.37: most of their |z - mu| > 0.05
    eps = rng.standard_normal((n, dim))
    eps[100:103, 1] = 9.0  # three draws past the clip
    z = reparameterize(mu, logvar, eps, 1.0)
    group = zarr.open_group(tmp_path / "latents.zarr", mode="w", attributes={"use": "z", "eps_factor": 1.0})
    for name, values in (("z", z), ("mu", mu), ("logvar", logvar)):
        group.create_array(name, shape=values.shape, chunks=(5_000, dim), dtype="float64")[:] = values
    vae = analyze(latents=tmp_path / "latents.zarr", out=tmp_path / "a", options=replace(QUICK, quality=True))["vae"]
    assert vae["logvar_values"]["at_least_minus_3"] == 7 and vae["logvar_values"]["max"] == -2.0
    gap = np.abs(z - mu)
    assert vae["z_minus_mu"]["above_0.05"] == int((gap > 0.05).sum()) and 3 <= vae["z_minus_mu"]["above_0.05"] <= 7
    assert vae["eps_clip"]["clipped"] == int((np.abs(eps) >= 5).sum()) >= 3  # the three made ones and any drawn
    r_z, r_mu = np.linalg.norm(z, axis=1), np.linalg.norm(mu, axis=1)
    difference = vae["radius"]["difference"]
    assert difference["max_abs"] == pytest.approx(np.abs(r_z - r_mu).max(), rel=1e-9)
    assert difference["mean_relative"] == pytest.approx((np.abs(r_z - r_mu) / r_mu).mean(), rel=1e-9)
    assert vae["radius"]["z"]["max"] == pytest.approx(r_z.max()) and vae["radius"]["mu"]["min"] == pytest.approx(
        r_mu.min()
    )
    text = (tmp_path / "a" / "report.md").read_text()
    assert "### VAE internals (post XIII's numbers)" in text and "values at the clip" in text


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
