"""Disentanglement against known factors (issue 37): mutual information, MIG, DCI, SAP; a labels file's columns."""

from __future__ import annotations

import json

import numpy as np


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


def test_analyze_with_a_labels_file_scores_disentanglement_against_its_numeric_columns(tmp_path):
    import csv

    from fixtures.commands import cli

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
