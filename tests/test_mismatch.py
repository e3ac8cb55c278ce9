"""Prior mismatch in numbers (issue 37): MMD's two-sample test, a VAE's information and aggregate KL,
and the mismatch of every generator in analyze's report."""

from __future__ import annotations

import numpy as np
import pytest

from latentkit.analysis.analyze import AnalyzeOptions, analyze


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
