"""Findings that never mislead on data that is not CelebA (issue 46): a region that is the data's
own where the posts' box holds the origin, histogram bins that follow the data's size, and rows
that carry their intervals and say inconclusive or not applicable when they cannot judge. Made-up
latent sets with known shapes, and the digits as a user would run them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from fixtures.commands import cli
from scipy.stats import chi

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.hits import mahalanobis, shell_hits, shell_of
from latentkit.analysis.measures.stats import bins_for
from latentkit.demo.findings import as_json, as_markdown, findings
from latentkit.demo.rows import Finding

RMSE = {"partition": "valid", "rmse": 0.03, "n": 100}
QUICK = AnalyzeOptions(
    tsne=False,
    kmeans=False,
    figures=False,
    quality=True,
    hit_draws=20_000,
    quality_sample=2000,
    reconstruction_images=0,
)


def _shell(n: int, dim: int, radius: float, seed: int) -> np.ndarray:
    """Points on a thin shell: directions uniform, radius +- 1.5 %; every component centred at 0."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, dim))
    return z / np.linalg.norm(z, axis=1, keepdims=True) * (radius * (1 + 0.015 * rng.standard_normal((n, 1))))


def _row(rows: list[Finding], key: str) -> Finding:
    return next(f for f in rows if key in f.claim)


def test_bins_follow_the_datas_size():
    """Freedman-Diaconis for a Gaussian over [-6, 6] sd: 4.45 n^(1/3) bins, 10 to 100."""
    assert [bins_for(n) for n in (2, 100, 1797, 11_000, 11_400, 170_000)] == [10, 21, 55, 99, 100, 100]


def test_the_shell_is_the_datas_mahalanobis_and_radius_range():
    """On a Gaussian in 9 dimensions the Mahalanobis distance is chi with 9 degrees of freedom: its
    1st and 99th percentiles are 1.445 and 4.655 (scipy.stats.chi(9).ppf)."""
    rng = np.random.default_rng(3)
    cov = np.diag(np.arange(1.0, 10.0))
    z = rng.multivariate_normal(np.full(9, 2.0), cov, 100_000)
    fit = LatentFit(mean=np.full(9, 2.0), cov=cov, centre=np.full(9, 2.0), sigma=np.sqrt(np.diag(cov)), fwhm=np.ones(9))
    assert mahalanobis(np.array([[2.0] * 9, [2.0 + 3.0] + [2.0] * 8]), fit) == pytest.approx([0.0, 3.0])
    shell = shell_of(z, fit)
    assert shell[:2] == pytest.approx(chi(9).ppf([0.01, 0.99]), abs=0.02)
    assert shell[2:] == pytest.approx(np.quantile(np.linalg.norm(z, axis=1), [0.01, 0.99]))
    # The origin lies 3.36 from the mean in Mahalanobis distance, inside that range, as the digits'
    # codes put it; but at radius 0 it is none of the data's radii: outside the shell.
    origin = np.zeros((1, 9))
    assert shell[0] < mahalanobis(origin, fit)[0] < shell[1]
    assert shell_hits(origin, replace(fit, shell=shell)) == 0
    assert shell_hits(z[:10_000], replace(fit, shell=shell)) == pytest.approx(9_600, abs=150)


def test_on_a_thin_shell_the_box_row_is_not_applicable_and_the_shell_row_agrees_with_coverage(tmp_path):
    """3,000 points on a shell of radius 20 in 4 dimensions, no component off-centre: the box holds
    the origin, so every uniform generator "hits" 100 %; the finding says not applicable, and the
    data's own shell (Mahalanobis 1st-99th percentile) has no uniform point, as coverage has none."""
    np.save(tmp_path / "z.npy", _shell(3000, 4, 20.0, seed=5))
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=QUICK)
    region = report["region"]
    assert region["box_holds_origin"]["1.5"] is True
    assert 0.96 <= region["data_shell_fraction"] <= 0.99  # two 1st-99th percentile ranges, of a sample of all
    uniform = [g for g in report["generators"] if g["method"] == "uniform"]
    assert all(g["hit_fraction"]["1.5"] == 1.0 for g in uniform)  # the box: a uniform box around 0 lands in it
    assert all(g["shell_fraction"] == 0 and g["shell_interval"][1] < 0.001 for g in uniform)
    assert all(report["coverage"][f"uniform_b{g['params']['b']:g}"]["coverage"] == 0 for g in uniform)
    rows = findings(report, RMSE)
    box = _row(rows, "only for small b")
    assert box.verdict == "not applicable" and box.measured.startswith("not applicable: the box")
    shell = _row(rows, "by the data's own region")
    assert shell.verdict == "yes" and "coverage b=0.5 0.00" in shell.measured and "b=5 0 [0, " in shell.measured
    assert "| not applicable |" in as_markdown(rows)
    assert {r["verdict"] for r in as_json(rows)} <= {"yes", "no", "inconclusive", "not applicable"}
    text = (tmp_path / "a" / "report.md").read_text()
    assert "The hit test's box holds the origin at k = 1.5" in text and "| shell |" in text


def test_a_shell_row_that_coverage_contradicts_says_inconclusive():
    """A uniform b that misses the shell while its coverage is 0.43 (a sparse cloud, where k-NN
    balls reach inside it): the row does not say yes against coverage."""
    uniform = [
        {
            "name": f"uniform b={b:g}",
            "method": "uniform",
            "params": {"b": b},
            "samples": 2000,
            "radius_mean": b,
            "radius_std": 0.01 * b,
            "hit_fraction": {"1.5": 1.0},
            "hit_draws": 20_000,
            "shell_fraction": 0.0,
            "shell_interval": [0.0, 0.0002],
        }
        for b in (1.0, 3.0)
    ]
    region = {
        "box_holds_origin": {"1.5": True},
        "shell": {
            "low": 3.7,
            "high": 4.4,
            "radius_low": 29.6,
            "radius_high": 34.6,
            "shares": [0.01, 0.99],
            "points": 1797,
        },
        "data_shell_fraction": 0.98,
        "data_shell_interval": [0.972, 0.985],
    }
    from latentkit.demo.post_findings import _shell_hits

    coverage = {"uniform_b1": {"coverage": 0.0, "n": 1797}, "uniform_b3": {"coverage": 0.43, "n": 1797}}
    row = _shell_hits(uniform, region, coverage)
    assert row.verdict == "inconclusive"
    assert "the shell and coverage disagree (b=3 misses the shell, coverage 0.43)" in row.measured
    assert _shell_hits(uniform, region, {"uniform_b1": {"coverage": 0.0, "n": 1797}}).verdict == "yes"


def test_on_100_points_the_comparisons_say_inconclusive_or_not_applicable(tmp_path):
    """100 points of a 16-dimensional Gaussian: 21 bins, not 100; BIC picks one mixture component
    (not applicable); a 2 sigma share over 100 points has an interval of about +-7 points, wider
    than the 5-point band (inconclusive); the strongest |r| of 120 pairs over 100 points is chance,
    its interval below 0.5 or across it, never a confident yes. No comparison row says yes
    while its intervals overlap."""
    rng = np.random.default_rng(11)
    np.save(tmp_path / "z.npy", rng.standard_normal((100, 16)) * 6.0)
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=replace(QUICK, quality_sample=100))
    assert report["options"]["bins"] == 21
    widths = np.array([c["fwhm"] for c in report["components"]])  # 2.3548 x 6 = 14.1, 100 bins read 0.8-7 off spikes
    assert {c["fwhm_from"] for c in report["components"]} == {"std"}  # peak bins of about 20 points
    assert np.all((widths > 0.75 * 2.3548 * 6) & (widths < 1.25 * 2.3548 * 6)), widths
    assert report["dominant"] == []  # no artefact of the bins
    rows = findings(report, RMSE)
    assert report["mixture"]["components"] == 1
    assert _row(rows, "mixture covers more").verdict == "not applicable"
    assert _row(rows, "fitted ellipses hold").verdict == "inconclusive"
    assert _row(rows, "strongly linearly correlated").verdict in ("no", "inconclusive")
    best = _row(rows, "follows the data covers it best")
    assert best.verdict == "inconclusive"  # 100 points: the followers' and the normal's coverages overlap
    for f in rows:
        assert f.verdict in ("yes", "no", "inconclusive", "not applicable")
        if f.verdict == "not applicable":
            assert f.measured.startswith("not applicable: ")


def test_a_degenerate_baseline_is_said():
    """The data's own hit fraction 0 over 100 points (a box narrower than the data): the normal's
    row is not applicable, not "yes on 0.000 vs the data's own 0.000"."""
    report = {
        "n": 100,
        "data_hit_fraction": {"1.5": 0.0},
        "generators": [
            {"method": "mvn", "samples": 10_000, "hit_fraction": {"1.5": 0.0}, "hit_interval": {"1.5": [0.0, 0.0004]}}
        ],
    }
    from latentkit.demo.post_findings import _mvn

    row = _mvn(report, "images")
    assert row.verdict == "not applicable" and "the data's own 0.000 [0.000, 0.037] over 100 points" in row.measured
    report["data_hit_fraction"]["1.5"] = 0.8
    report["n"] = 10_000
    assert _mvn(report, "images").verdict == "no"  # 0 [0, 0.0004] against half the data's 0.8
    report["generators"][0].update(hit_fraction={"1.5": 0.41}, hit_interval={"1.5": [0.39, 0.43]})
    assert _mvn(report, "images").verdict == "inconclusive"  # 0.39-0.43 against half of 0.79-0.81


def test_scikit_learns_digits_end_with_findings_that_agree_with_their_own_coverage(tmp_path):
    """Real images nobody here made: all 1,797 of scikit-learn's digits written as PNGs in a
    folder sorted by class, prepared, trained, encoded, analyzed and checked as a user would.
    Their codes lie on a shell 25 to 41 from the origin with no component off-centre: the box
    row is not applicable, and every row that speaks of where generated points land agrees with
    the run's own coverage (uniform boxes cover nothing; the best-covering generator is named)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    found = load_digits()
    for label in range(10):
        folder = tmp_path / "digits" / str(label)
        folder.mkdir(parents=True)
        for k, i in enumerate(np.flatnonzero(found.target == label)):
            Image.fromarray((found.images[i] * 255 / 16).astype(np.uint8)).save(folder / f"{k:03d}.png")
    store, run = tmp_path / "digits.zarr", tmp_path / "run"
    cli("prepare", "images", tmp_path / "digits", "--out", store, "--size", "32")
    cli(
        "train",
        "--data",
        store,
        "--run",
        run,
        "--job",
        "demo",
        "--set",
        "model.image_size=32",
        "--set",
        "model.z_dim=16",
        "--epochs",
        "20",
    )
    cli("encode", "--run", run)
    # the figures are tested with the demo's run; what this test checks is what the rows say
    cli("analyze", "--run", run, "--no-tsne", "--no-kmeans", "--no-figures", "--hit-draws", "20000", "--no-report")
    said = cli("findings", "--run", run, "--json")
    rows = {f["claim"]: f for f in json.loads(said.stdout)["findings"]}
    report = json.loads((run / "analysis" / "report.json").read_text())
    coverage = {name: c["coverage"] for name, c in report["coverage"].items()}
    uniform = [name for name in coverage if name.startswith("uniform_")]

    assert report["region"]["box_holds_origin"]["1.5"] is True
    box = next(f for claim, f in rows.items() if "only for small b" in claim)
    assert box["verdict"] == "not applicable"
    shell = next(f for claim, f in rows.items() if "by the data's own region" in claim)
    assert all(coverage[name] < 0.05 for name in uniform) and shell["verdict"] == "yes", shell["measured"]
    best = next(f for claim, f in rows.items() if "covers it best" in claim)
    assert f"best coverage: {max(coverage, key=coverage.get)} " in best["measured"]
    mixture = next(f for claim, f in rows.items() if "mixture covers more" in claim)
    if mixture["verdict"] == "yes":
        assert coverage["gmm"] > coverage["mvn"]
    kept = next(f for claim, f in rows.items() if claim.startswith("Reconstructions keep each image's"))
    low, high = map(float, kept["measured"].split("[")[1].split("]")[0].split(", "))  # the RMSE's 95 % interval
    assert low < float(kept["measured"].split("RMSE ")[1].split()[0]) < high
    for f in rows.values():
        assert f["verdict"] in ("yes", "no", "inconclusive", "not applicable"), f
        assert "faces" not in f["claim"] and "face's" not in f["claim"]  # the digits are images


def test_the_reconstruction_row_carries_the_rmse_interval():
    """An RMSE of 0.048 whose interval reaches 0.052 does not say yes against the goal 0.05."""
    report = {
        "n": 100,
        "dim": 2,
        "generators": [{"method": "mvn", "samples": 100, "hit_fraction": {"1.5": 0.9}}],
        "data_hit_fraction": {"1.5": 0.9},
        "components": [],
        "correlations": {"top_pairs": []},
        "pca": {},
    }
    near = findings(report, {"partition": "valid", "rmse": 0.048, "n": 50, "rmse_interval": [0.044, 0.052]})
    assert near[0].verdict == "inconclusive" and "RMSE 0.0480 [0.0440, 0.0520] over 50 images" in near[0].measured
    assert findings(report, {"partition": "valid", "rmse": 0.03, "n": 5000, "rmse_interval": [0.029, 0.031]})[0].holds
