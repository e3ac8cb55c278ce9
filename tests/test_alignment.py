"""Runs aligned (issue 37): Procrustes finds a known rotation and keeps the neighbours (what ``compare`` reports)."""

from __future__ import annotations

import numpy as np


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
