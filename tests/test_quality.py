"""Where the holes are (issue 29): known answers on synthetic latents for coverage, re-encoding,
fragments, intrinsic dimension, SSIM and a VAE's health; and the quality stage in analyze."""

import json
from dataclasses import replace

import numpy as np
import pytest
import zarr
from fixtures.commands import cli
from fixtures.latents import QUICK

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.measures.holes import (
    ReconstructionQuality,
    VaeHealthStream,
    fragments,
    prdc,
    reencoding_distances,
    ssim,
    two_nn,
)
from latentkit.analysis.report.files import read_report


def reference_prdc(real, fake, k):
    """clovaai/prdc's straightforward version: whole distance matrices."""

    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    real_r, fake_r = radii(real), radii(fake)
    d = np.linalg.norm(real[:, None] - fake[None], axis=-1)  # (real, fake)
    return {
        "precision": (d <= real_r[:, None]).any(axis=0).mean(),
        "recall": (d <= fake_r[None, :]).any(axis=1).mean(),
        "density": (d <= real_r[:, None]).sum(axis=0).mean() / k,
        "coverage": (d.min(axis=1) <= real_r).mean(),
    }


def test_prdc_equals_the_straightforward_reference():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(300, 6)), rng.normal(0.4, 1.2, size=(300, 6))
    ours, reference = prdc(real, fake, k=5, working_memory=1), reference_prdc(real, fake, 5)
    assert ours == pytest.approx(reference, abs=1e-12)


def test_one_gaussian_against_two_covers_half():
    """Real: two far Gaussians; fake: only one of them. In the limit precision 1, recall and coverage 1/2."""
    rng = np.random.default_rng(1)
    n, shift = 2000, np.r_[12.0, np.zeros(7)]
    real = np.concatenate([rng.normal(size=(n // 2, 8)) + shift, rng.normal(size=(n // 2, 8)) - shift])
    one = rng.normal(size=(n, 8)) + shift
    both = np.concatenate([rng.normal(size=(n // 2, 8)) + shift, rng.normal(size=(n // 2, 8)) - shift])
    half = prdc(real, one, k=5)
    assert half["precision"] > 0.9 and 0.45 < half["recall"] < 0.55 and 0.45 < half["coverage"] < 0.55
    whole = prdc(real, both, k=5)
    assert whole["precision"] > 0.9 and whole["recall"] > 0.9 and whole["coverage"] > 0.9
    assert 0.8 < whole["density"] < 1.2  # about 1 for the same distribution


def test_points_in_a_rings_hole_come_back_far():
    """A ring of radius 5 in 2-D; the stand-in model decodes to itself and encodes onto the ring
    (identity plus projection): a point in the hole re-encodes ~ 5 - |z| away, a ring point ~ 0."""
    rng = np.random.default_rng(2)
    angle = rng.uniform(0, 2 * np.pi, 500)
    ring = np.c_[np.cos(angle), np.sin(angle)] * (5 + rng.normal(0, 0.05, (500, 1)))
    hole = rng.uniform(-1, 1, (500, 2))

    def decode(z):
        return z

    def encode(x):
        return 5 * x / np.linalg.norm(x, axis=1, keepdims=True)

    on, inside = reencoding_distances(ring, decode, encode, batch=64), reencoding_distances(hole, decode, encode)
    assert np.median(on) < 0.1 and np.median(inside) > 3.5 and inside.min() > 3.5


def test_fragments_find_the_two_blobs_of_a_split_cloud():
    rng = np.random.default_rng(3)
    split = np.concatenate([rng.normal(size=(600, 16)), rng.normal(size=(600, 16)) + 40])
    found = fragments(split, k=5)
    assert found["knn_components"] == 2 and found["largest_component_fraction"] == pytest.approx(0.5)
    assert found["hdbscan_clusters"] == 2 and found["hdbscan_noise_fraction"] < 0.1
    one = fragments(rng.normal(size=(1200, 16)), k=5)
    assert one["knn_components"] == 1 and one["largest_component_fraction"] == 1.0


def test_two_nn_finds_a_three_dimensional_manifold_in_64_dimensions():
    rng = np.random.default_rng(4)
    t = rng.uniform(-1, 1, (4000, 3))
    curved = np.c_[t, np.sin(2 * t[:, :1]), t[:, 1:2] * t[:, 2:3]]  # a curved 3-D sheet ...
    embedded = curved @ rng.normal(size=(5, 64))  # ... embedded linearly in 64 dimensions
    assert two_nn(embedded) == pytest.approx(3.0, abs=0.3)
    assert two_nn(rng.normal(size=(4000, 10))) == pytest.approx(10.0, rel=0.15)


def test_ssim_equals_scikit_image_and_the_stream_adds_up():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(5)
    a = rng.random((6, 24, 24, 3))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    expected = [structural_similarity(x, y, channel_axis=-1, data_range=1.0) for x, y in zip(a, b)]
    np.testing.assert_allclose(ssim(a, b), expected, rtol=1e-10)
    quality = ReconstructionQuality(worst=2)
    quality.update(np.arange(3), a[:3], b[:3])
    quality.update(np.arange(3, 6), a[3:], b[3:])
    result = quality.result()
    assert result["n"] == 6 and result["ssim"] == pytest.approx(np.mean(expected))
    assert result["mse"] == pytest.approx(((a - b) ** 2).mean())
    assert result["psnr"] == pytest.approx(
        np.mean([peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(a, b)])
    )
    mses = ((a - b) ** 2).mean(axis=(1, 2, 3))
    assert [row for _, row, _, _ in quality.worst()] == list(np.argsort(mses)[::-1][:2])


def vae_latents(path, n=3000, informative=3, collapsed=13, seed=6):
    """A VAE's encode output: 3 dimensions carry the data (mu varies, logvar small), 13 collapsed
    onto the prior (mu ~ 0, logvar ~ 0)."""
    rng = np.random.default_rng(seed)
    mu = np.concatenate([rng.normal(size=(n, informative)), rng.normal(0, 0.01, (n, collapsed))], axis=1)
    logvar = np.concatenate([np.full((n, informative), -3.0), rng.normal(0, 0.01, (n, collapsed))], axis=1)
    z = mu + np.exp(logvar / 2) * rng.normal(size=mu.shape)
    group = zarr.open_group(path, mode="w")
    for name, values in (("z", z), ("mu", mu), ("logvar", logvar)):
        group.create_array(name, data=values.astype(np.float32), chunks=(1000, mu.shape[1]))
    group.create_array("ok", data=np.ones(n, bool), chunks=(1000,))
    return mu, logvar


def test_a_vae_with_three_informative_and_thirteen_collapsed_dimensions(tmp_path):
    mu, logvar = vae_latents(tmp_path / "latents.zarr")
    health = VaeHealthStream(16)
    for start in range(0, 3000, 700):
        health.update(mu[start : start + 700], logvar[start : start + 700])
    result = health.result()
    assert result["active_units"] == 3 and result["active"] == [0, 1, 2] and result["collapsed"]
    kl = np.array(result["kl_per_dim"])
    expected = (0.5 * (mu**2 + np.exp(logvar) - 1 - logvar)).mean(axis=0)
    np.testing.assert_allclose(kl, expected, rtol=1e-9)
    assert kl[3:].max() < 1e-3 < kl[:3].min()

    said = cli(
        "analyze",
        "--latents",
        tmp_path / "latents.zarr",
        "--out",
        tmp_path / "out",
        "--no-tsne",
        "--no-kmeans",
        "--quality-sample",
        "1000",
        "--hit-draws",
        "2000",
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["vae"]["active_units"] == 3
    assert "3 of 16 dimensions active" in said.stdout and "posterior collapse" in said.stdout
    assert [s["what"] for s in report["quality_skipped"]] == ["re-encoding and reconstruction quality"]
    assert "re-encoding and reconstruction quality skipped: no model" in said.stderr
    for key in ("coverage", "fragments", "intrinsic_dimension"):
        assert key in report
    assert set(report["coverage"]["mvn"]) == {"precision", "recall", "density", "coverage", "k", "n"}
    assert set(report["fragments"]) >= {
        "knn_components",
        "largest_component_fraction",
        "hdbscan_noise_fraction",
        "k",
        "n",
    }
    assert set(report["intrinsic_dimension"]) >= {"data", "generators"}
    assert {"coverage.png", "vae_health.png"} <= set(report["figures"])
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "## Coverage of the generators" in markdown and "## VAE health" in markdown


def test_a_users_own_generated_points_are_measured_beside_the_built_in_ones(tmp_path):
    vae_latents(tmp_path / "latents.zarr")
    rng = np.random.default_rng(7)
    np.save(tmp_path / "mine.npy", rng.normal(size=(500, 16)).astype(np.float32))
    np.save(tmp_path / "narrow.npy", rng.normal(size=(500, 5)).astype(np.float32))
    cli(
        "analyze",
        "--latents",
        tmp_path / "latents.zarr",
        "--out",
        tmp_path / "out",
        "--no-tsne",
        "--no-kmeans",
        "--no-figures",
        "--generated",
        tmp_path / "mine.npy",
        "--quality-sample",
        "1000",
        "--hit-draws",
        "2000",
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["coverage"]["yours:mine"]["n"] == 500
    refused = cli(
        "analyze",
        "--latents",
        tmp_path / "latents.zarr",
        "--out",
        tmp_path / "other",
        "--generated",
        tmp_path / "narrow.npy",
        check=False,
    )
    assert refused.returncode == 2 and "has 5 dimensions, the latents 16" in refused.stderr
    assert not (tmp_path / "other").exists()


def test_analyze_with_a_run_re_encodes_and_measures_reconstructions(tiny_ae, tmp_path):
    from fixtures.runs import copy_run

    run = copy_run(tiny_ae, tmp_path / "run")
    said = cli("analyze", "--run", run, "--no-tsne", "--no-kmeans", "--no-report", "--reconstruction-images", "50")
    report = json.loads((run / "analysis" / "report.json").read_text())
    assert set(report["reencoding"]) >= {"data", "generators"}
    assert set(report["reencoding"]["data"]) >= {"median", "p90"}
    assert set(report["reencoding"]["generators"]["uniform_b3"]) >= {"median", "p90"}
    assert set(report["reconstruction"]) == {"train", "valid", "test"}
    assert all(0 < q["n"] <= 50 for q in report["reconstruction"].values())
    assert {"reencoding.png", "reencoded_faces.png", "worst_reconstructions.png"} <= set(report["figures"])
    assert "atlas_faces.png" in report["figures"] and report["atlas"]["faces"] == "mvn"  # an AE: its fitted normal
    assert "reconstruction, valid: MSE" in said.stdout and report["quality_skipped"] == []


@pytest.mark.system
def test_analyze_of_200000_by_256_stays_under_1_5_gb_with_everything_on(tmp_path):
    """Memory is a feature: the whole analysis (t-SNE, k-means, mixture, nearest neighbours and the
    quality stage included) of 200,000 x 256 latents, in a process of its own, peaks under 1.5 GB."""
    import subprocess
    import sys

    rng = np.random.default_rng(8)
    root = rng.normal(size=(256, 256)) * 0.1 + np.eye(256)
    array = zarr.create_array(tmp_path / "z.zarr", shape=(200_000, 256), chunks=(20_000, 256), dtype="float32")
    for start in range(0, 200_000, 20_000):
        array[start : start + 20_000] = (rng.normal(size=(20_000, 256)) @ root.T).astype(np.float32)
    code = (
        "import json\nfrom latentkit.analysis.analyze import analyze\nfrom latentkit.machine.monitor import peak_rss_mb\n"
        f"analyze(latents={str(tmp_path / 'z.zarr')!r}, out={str(tmp_path / 'out')!r})\n"
        "print(json.dumps(peak_rss_mb()))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    peak = json.loads(done.stdout.strip().splitlines()[-1])
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["n"] == 200_000 and {"coverage", "fragments", "intrinsic_dimension", "tsne"} <= set(report)
    assert peak < 1536, f"peak RSS {peak:,.0f} MB"


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
