"""The numbers other latent-space tools report (issue 50, part 4), each against a known answer:
a linear-Gaussian VAE's importance-weighted log-likelihood against its closed-form marginal, the
local intrinsic dimension of a plane and a blob in 20 dimensions against scikit-dimension's, the
Gaussian total correlation of independent and of known correlated components, memorization of
copies and of noise, and the traversal grid, local dimension and memorization of a tiny run."""

from __future__ import annotations

import numpy as np
import pytest

from latentkit.analysis.measures.peers import (
    local_dimension,
    memorization,
    total_correlation,
    traversal_order,
    traversal_points,
)
from latentkit.model.likelihood import gaussian_log_likelihood, importance_weighted, trained_likelihood


def linear_gaussian(n=300, d=3, D=8, noise=0.3, seed=0, orthogonal=False):
    """x = W z + b + N(0, noise I), z ~ N(0, I): images x, the true posterior's mean and its
    covariance's diagonal (the whole of it where W's columns are ``orthogonal``), the decoder
    z -> W z + b and the exact log p(x) = log N(x; b, W W^T + noise I)."""
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(D, d)), rng.normal(size=D)
    if orthogonal:
        w = np.linalg.qr(w)[0] * [3.0, 1.0, 0.5][:d]
    x = rng.normal(size=(n, d)) @ w.T + b + rng.normal(size=(n, D)) * np.sqrt(noise)
    exact = multivariate_normal(b, w @ w.T + noise * np.eye(D)).logpdf(x)
    precision = np.eye(d) + w.T @ w / noise  # the true posterior: N(precision^-1 W^T (x - b) / noise, precision^-1)
    mean = (x - b) @ w @ np.linalg.inv(precision).T / noise
    return x, mean, np.diag(np.linalg.inv(precision)), (lambda z: z @ w.T + b), exact


def test_the_importance_weighted_likelihood_of_a_linear_gaussian_vae_is_its_exact_marginal():
    x, mean, variance, decode, exact = linear_gaussian()
    # an encoder worse than the true posterior (mean-field, variance doubled): its ELBO falls short
    logvar = np.tile(np.log(2 * variance), (len(x), 1))
    found = importance_weighted(x, mean, logvar, decode, gaussian_log_likelihood(0.3), k=512, seed=1)
    assert found["mean"] == pytest.approx(exact.mean(), rel=0.01)
    assert abs(found["mean"] - exact.mean()) < 3 * found["standard_error"]
    se = exact.std(ddof=1) / np.sqrt(len(x))
    assert found["standard_error"] == pytest.approx(se, rel=0.1)
    per_k = found["per_k"]
    assert list(per_k) == ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512"]
    assert per_k["1"] < per_k["4"] < per_k["32"] < per_k["512"]  # rises with k: k = 1 is the ELBO
    assert exact.mean() - per_k["1"] > 10 * (exact.mean() - per_k["512"])
    # the exact posterior as the encoder (diagonal where W's columns are orthogonal): every draw's
    # weight is p(x), whatever k
    x, mean, variance, decode, exact = linear_gaussian(orthogonal=True)
    logvar = np.tile(np.log(variance), (len(x), 1))
    exact_q = importance_weighted(x, mean, logvar, decode, gaussian_log_likelihood(0.3), k=4)
    np.testing.assert_allclose(
        list(exact_q["per_k"].values()), exact.mean(), rtol=1e-6
    )  # z goes to the decoder as float32


def test_the_decoder_likelihood_is_the_training_loss_over_kl_factor():
    """mse: loss / beta is -log N(x; x_hat, 3 beta / 2) up to its normaliser; bce: -log p is the loss / beta."""
    rng = np.random.default_rng(2)
    x, x_hat, beta = rng.random((4, 5, 5, 3)), rng.random((4, 5, 5, 3)), 2.5
    per_image = {
        "mse": np.mean(np.square(x - x_hat), -1).sum(axis=(1, 2)),
        "bce": -np.mean(x * np.log(x_hat) + (1 - x) * np.log(1 - x_hat), -1).sum(axis=(1, 2)),
    }
    normaliser = 0.5 * x[0].size * np.log(2 * np.pi * 1.5 * beta)
    log_px, words = trained_likelihood("mse", beta)
    np.testing.assert_allclose(-log_px(x, x_hat), per_image["mse"] / beta + normaliser)
    assert "variance 3.75" in words
    log_px, _ = trained_likelihood("bce", beta)
    np.testing.assert_allclose(-log_px(x, x_hat), per_image["bce"] / beta)
    with pytest.raises(ValueError, match="no ELBO"):
        trained_likelihood("mse", 0.0)


def test_a_keras_vaes_elbo_here_is_its_training_loss_over_kl_factor():
    """The mean log weight (the ELBO) of latentkit's own VAE, through its codec, is minus its
    training loss (reconstruction + kl_factor KL, noise drawn by the model) over kl_factor."""
    from latentkit.model.codec import Codec
    from latentkit.model.likelihood import log_weights
    from latentkit.model.networks import build_model, reconstruction_loss
    from latentkit.model.spec import ModelSpec

    sizes = {"encoder_filters": (8, 16), "decoder_filters": (8, 3), "encoder_kernels": (3, 3)}
    strides = {"decoder_kernels": (3, 3), "encoder_strides": (2, 2), "decoder_strides": (2, 2)}
    spec = ModelSpec(kind="vae", image_size=16, z_dim=4, loss="bce", kl_factor=2.0, **sizes, **strides)
    model = build_model(spec)
    x = smooth_images(24, seed=7).repeat(2, axis=1).repeat(2, axis=2).astype(np.float32)
    codec = Codec(model)
    mu, logvar = codec.posterior(x)
    log_px, _ = trained_likelihood("bce", 2.0)
    elbo = log_weights(x, mu, logvar, codec.decode, log_px, 64, np.random.default_rng(0)).mean()
    model.set_mu_only(False)
    reconstruction = np.mean([float(reconstruction_loss("bce", x, model(x))) for _ in range(16)])
    kl = -0.5 * np.mean(np.sum(1 + logvar - mu**2 - np.exp(logvar), axis=1))
    assert -elbo == pytest.approx(reconstruction / 2.0 + kl, rel=0.01)


def embedded(n: int, d: int, dim: int = 20, seed: int = 0) -> np.ndarray:
    """n points of a d-dimensional standard normal, rotated into ``dim`` dimensions and shifted."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    return rng.normal(size=(n, d)) @ rotation[:d] + rng.normal(size=dim)


@pytest.mark.parametrize("d", [2, 5])
def test_local_dimension_of_a_plane_and_a_blob_in_20_dimensions_agrees_with_scikit_dimension(d):
    skdim = pytest.importorskip("skdim")
    points = embedded(1500, d, seed=d)
    found = local_dimension(points, k=20)
    assert np.median(found) == pytest.approx(d, rel=0.1) and np.mean(found) == pytest.approx(d, rel=0.1)
    theirs = skdim.id.MLE(unbiased=True).fit(points, n_neighbors=20).dimension_pw_
    np.testing.assert_allclose(found, theirs, rtol=1e-8)


def test_local_dimension_closed_form_on_a_line_of_even_steps():
    """Points 1, 2, 3, ... on a line: the middle point's neighbours lie at 1, 1, 2, 2, ..., and
    (k - 2) / sum log(T_k / T_j) is that number."""
    points = np.c_[np.arange(101.0), np.zeros(101)]
    distances = np.repeat(np.arange(1.0, 11), 2)[:20]
    expected = 18 / np.log(distances[-1] / distances).sum()
    assert local_dimension(points, k=20)[50] == pytest.approx(expected)


def test_total_correlation_of_independent_and_of_known_correlated_components():
    rng = np.random.default_rng(3)
    independent = rng.normal(size=(200_000, 6)) * [1, 2, 3, 0.5, 4, 10]
    assert abs(total_correlation(np.cov(independent.T))["gaussian"]) < 1e-3
    corr = np.array([[1, 0.6, 0.2], [0.6, 1, -0.3], [0.2, -0.3, 1]])
    scales = np.array([0.5, 3.0, 7.0])
    found = total_correlation(corr * np.outer(scales, scales))
    assert found["gaussian"] == pytest.approx(-0.5 * np.log(np.linalg.det(corr)), rel=1e-12)
    assert found["dims"] == 3 and found["per_dim"] == pytest.approx(found["gaussian"] / 3)
    with_dead = np.zeros((4, 4))
    with_dead[:3, :3] = corr  # a component of zero variance is left out
    assert total_correlation(with_dead)["gaussian"] == pytest.approx(found["gaussian"])


def smooth_images(n: int, seed: int) -> np.ndarray:
    """Images of 2 smooth factors (a gradient's angle and brightness): a low-dimensional set."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:8, 0:8] / 7
    angle, level = rng.uniform(0, np.pi, n), rng.uniform(0.2, 0.8, n)
    pictures = level[:, None, None] * (np.cos(angle)[:, None, None] * xx + np.sin(angle)[:, None, None] * yy)
    return np.repeat(pictures[..., None], 3, axis=-1)


def test_memorization_of_copies_is_one_and_of_noise_zero():
    training = smooth_images(400, seed=4)
    copies = memorization(training[:50], training)
    assert copies["share"] == 1.0 and copies["share_below_median"] == 1.0
    assert copies["distances"][0] == 0 and len(copies["pairs"]) == 8
    assert all(i == j for i, j in copies["pairs"][:1]) or copies["distances"][0] == 0
    noise = memorization(np.random.default_rng(5).random((50, 8, 8, 3)), training)
    assert noise["share"] == 0.0 and noise["share_below_median"] == 0.0 and noise["median_ratio"] > 1
    fresh = memorization(smooth_images(400, seed=6), training)  # new draws of the same set: about the baseline
    assert fresh["share"] < 0.15 and 0.3 < fresh["share_below_median"] < 0.7


def test_traversal_rows_follow_kl_or_variance():
    variances = np.array([0.5, 3.0, 1.0, 2.0])
    assert traversal_order(variances, rows=3) == ([1, 3, 2], "variance")
    assert traversal_order(variances, np.array([0.1, 0.0, 4.0, 1.0]), rows=2) == ([2, 3], "kl")
    z = traversal_points(np.array([1.0, 0, 0, 0]), np.sqrt(variances), [1], (-3.0, 0.0, 3.0))
    np.testing.assert_allclose(z[:, 1], [-3 * np.sqrt(3), 0, 3 * np.sqrt(3)])
    np.testing.assert_allclose(z[:, [0, 2, 3]], [[1, 0, 0]] * 3)


def peer_cloud(run, out, **changes):
    """The stages before the peer numbers, as ``analyze`` opens them on ``run``'s latents, with
    t-SNE, k-means, the KDE and the trimmed clouds left out and PC0 the one PC fitted; ``changes``
    to the options on top."""
    from latentkit.analysis.analyze import AnalyzeOptions
    from latentkit.analysis.stages.cloud import open_cloud
    from latentkit.core import JobEvents
    from latentkit.model.opened import OpenedRun

    return open_cloud(
        latents=run / "latents.zarr",
        out=out,
        options=AnalyzeOptions(tsne=False, kmeans=False, kde=False, pc_fits=(0,), trim_facts=(), **changes),
        events=JobEvents(),
        column=None,
        run=OpenedRun.of(run),
        labels=None,
    )


def test_a_tiny_run_gets_its_traversal_local_dimension_and_memorization(tiny_ae, tmp_path):
    """The stage alone on the tiny autoencoder's cloud (the stages before it are tested elsewhere):
    rows ordered by variance, the three figures, every key as report.json's schema says."""
    import typing

    import zarr

    from latentkit.analysis.report.files import check
    from latentkit.analysis.report.schema import Report
    from latentkit.analysis.stages.peers import peer_numbers
    from latentkit.store import read_all

    cloud = peer_cloud(tiny_ae, tmp_path / "analysis", memorization_images=150)
    section = peer_numbers(cloud)
    hints = typing.get_type_hints(Report)
    for key, value in section.keys.items():
        check(value, hints[key], "report.json", key)
    report = section.keys
    latents = read_all(zarr.open_group(tiny_ae / "latents.zarr", mode="r"), "z")
    traversal = report["traversal"]
    assert traversal["ordered_by"] == "variance" and len(traversal["dims"]) == 8
    assert traversal["dims"] == list(np.argsort(-latents.var(axis=0), kind="stable")[:8])
    assert traversal["values"] == sorted(traversal["values"], reverse=True)
    assert sorted(section.figures) == ["local_dimension.png", "memorization.png", "traversal.png"]
    assert all((tmp_path / "analysis" / name).stat().st_size > 1000 for name in section.figures)
    assert report["local_dimension"]["map"] == "PC0, PC1" and 0 < report["local_dimension"]["median"] < 8
    assert set(report["memorization"]["generators"]) == {"mvn", "gmm"}
    assert report["memorization"]["training_images"] == 150
    assert report["total_correlation"]["dims"] == 8 and report["total_correlation"]["gaussian"] >= 0
    assert "log_likelihood" not in report and "peers_skipped" not in report  # an autoencoder: nothing skipped


def test_a_tiny_vae_gets_its_log_likelihood_and_a_traversal_by_kl(tiny_store, tmp_path):
    """A VAE trained one epoch: its log-likelihood measured on test images as training's loss
    defines it, and its traversal rows ordered by the KL per dimension."""
    from fixtures.runs import TINY_OVERRIDES

    from latentkit.analysis.stages.peers import peer_numbers
    from latentkit.analysis.stages.quality import _vae_health
    from latentkit.model.encode import encode
    from latentkit.model.train import train

    run = tmp_path / "vae"
    overrides = {**TINY_OVERRIDES, "train.epochs": 1, "model.kind": "vae", "model.loss": "mse", "model.kl_factor": 0.5}
    train(data=tiny_store, run=run, job="demo", overrides=overrides)
    encode(run=run, chunk=64)
    cloud = peer_cloud(
        run, tmp_path / "analysis", mixture=False, figures=False, likelihood_k=16, memorization_images=50
    )
    health = _vae_health(run / "latents.zarr", cloud.valid, cloud.options)
    cloud.report["vae"] = health  # what the quality stage reports
    keys = peer_numbers(cloud).keys
    likelihood = keys["log_likelihood"]
    assert likelihood["partition"] == "test" and likelihood["k"] == 16 and likelihood["images"] > 10
    assert list(likelihood["per_k"]) == ["1", "2", "4", "8", "16"] and likelihood["per_k"]["16"] == likelihood["mean"]
    assert np.isfinite(likelihood["mean"]) and likelihood["standard_error"] > 0
    assert "variance 0.75" in likelihood["likelihood"]  # mse, kl_factor 0.5: a Gaussian of variance 3 x 0.5 / 2
    kl = np.asarray(cloud.report["vae"]["kl_per_dim"])
    assert keys["traversal"]["ordered_by"] == "kl" and keys["traversal"]["dims"] == list(np.argsort(-kl, kind="stable"))
    assert set(keys["memorization"]["generators"]) == {"mvn"}  # no mixture fitted
