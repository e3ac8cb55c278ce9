"""Structure at small scales (issue 13): the data's nearest-neighbour distances against a fitted normal's."""

import numpy as np
import pytest

from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.neighbours import neighbours_report, nn_distances


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
