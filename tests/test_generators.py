"""Known answers for the mixture generator and the nearest-neighbour statistics (issue 13)."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from test_analyze import FAST, write_latents

from latentkit.analysis.analyze import analyze
from latentkit.analysis.generators import FittedMixture, LatentFit, fit_mixture
from latentkit.analysis.measures.neighbours import neighbours_report, nn_distances


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


def test_nearest_neighbours_of_a_filament_are_shorter_than_the_fitted_normals():
    rng = np.random.default_rng(2)
    n, dim = 3000, 12
    t = rng.uniform(0, 1, n)
    frequencies = np.arange(1, dim // 2 + 1)
    curve = np.concatenate(
        [np.sin(2 * np.pi * t[:, None] * frequencies), np.cos(2 * np.pi * t[:, None] * frequencies)], 1
    )
    filament = curve + 0.01 * rng.standard_normal((n, dim))
    fit = LatentFit(
        mean=filament.mean(0),
        cov=np.cov(filament.T),
        centre=filament.mean(0),
        sigma=filament.std(0),
        fwhm=2.3548 * filament.std(0),
    )
    report = neighbours_report(filament, fit, rng)
    normal = report["sets"]["multivariate normal"]
    assert normal["median_ratio"] < 0.1 and normal["ks_statistic"] > 0.9
    # A cloud that is its own fitted normal: the same distances.
    blob = rng.multivariate_normal(np.zeros(dim), fit.cov, size=n)
    same = neighbours_report(blob, fit, rng)["sets"]["multivariate normal"]
    assert same["median_ratio"] == pytest.approx(1.0, abs=0.05) and same["ks_statistic"] < 0.06
    assert sum(report["sets"]["data"]["counts"]) == n


def test_nn_distances_are_exact():
    points = np.array([[0.0, 0], [3, 4], [3, 5], [10, 0]])
    np.testing.assert_allclose(nn_distances(points), [5, 1, 1, np.hypot(7, 4)])


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """A real synthetic store (its factors are the labels) of 20,000 tiny images."""
    from latentkit.ingest.prepare import prepare_synthetic

    data = tmp_path_factory.mktemp("faces") / "data.zarr"
    prepare_synthetic(out=data, n=20_000, size=8, chunk=4096)
    return data


def test_attribute_direction_and_probe_match_the_known_answer(faces, tmp_path):
    """Latents whose projection on a known direction w is the factor plus noise: the centroid direction
    is w, and the probe reaches the Bayes rate 1 - arccos(1 / sqrt(1 + s^2)) / pi, no better."""
    import zarr

    from latentkit.analysis.attributes import attributes
    from latentkit.analysis.report.schema import load_direction

    factors = zarr.open_group(faces, mode="r")["factors"][:]
    rng = np.random.default_rng(3)
    dim, noise, j = 16, 0.5, 8  # factor 8: eye_size
    w = rng.standard_normal(dim)
    w /= np.linalg.norm(w)
    z = rng.standard_normal((len(factors), dim))
    z -= np.outer(z @ w, w)  # drop the component along w ...
    z += np.outer((factors[:, j] + noise * rng.standard_normal(len(factors))) / np.sqrt(1 + noise**2), w)  # ... set it
    latents = write_latents(tmp_path / "z.zarr", z.astype(np.float32), chunk=3000)
    report = attributes(latents=latents, data=faces, out=tmp_path / "a")
    row = next(r for r in report["attributes"] if r["name"] == "eye_size")
    assert report["labels"].startswith("synthetic factors") and report["held_out"] == "valid"
    bayes = 1 - np.arccos(1 / np.sqrt(1 + noise**2)) / np.pi
    assert row["probe_accuracy"] == pytest.approx(bayes, abs=0.025)
    assert row["direction_accuracy"] == pytest.approx(bayes, abs=0.025)
    direction = load_direction(tmp_path / "a", "eye_size")
    assert direction @ w / np.linalg.norm(direction) >= 0.95
    # An attribute the latents do not carry: chance, the majority rate.
    other = next(r for r in report["attributes"] if r["name"] == "mouth_width")
    assert other["probe_accuracy"] < other["majority_rate"] + 0.04
    assert "| eye_size |" in (tmp_path / "a" / "attributes.md").read_text()
