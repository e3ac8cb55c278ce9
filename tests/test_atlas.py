"""The hole atlas and the reweighted generator (issue 50, part A): known answers for the
cross-fitted density ratio and its two-sample test, the MMD witness, the reweighted sampler on a
ring; analyze writing ``atlas``; and the findings' atlas rows on made-up reports."""

from dataclasses import replace

import numpy as np
import pytest
from fixtures.latents import QUICK

from latentkit.analysis.generators.reweighted import Reweighting
from latentkit.analysis.measures.atlas import fit_ratio, witness
from latentkit.core import LatentkitError


def _ring(rng, n: int, d: int = 2) -> np.ndarray:
    """Points on a circle of radius 3 (radial noise 0.2) in the first two dimensions; the others 0.2 noise."""
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 3 + 0.2 * rng.standard_normal(n)
    z = 0.2 * rng.standard_normal((n, d))
    z[:, 0], z[:, 1] = radius * np.cos(angle), radius * np.sin(angle)
    return z


def test_a_normal_against_itself_is_not_told_apart_and_its_ratio_is_one():
    rng = np.random.default_rng(0)
    fitted = fit_ratio(rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8)))
    assert fitted.p_value > 0.05 and abs(fitted.accuracy - 0.5) < 0.04
    log_r = np.concatenate([fitted.log_ratio_data, fitted.log_ratio_drawn])
    assert abs(np.median(log_r)) < 0.05 and np.percentile(np.abs(log_r), 90) < 0.5  # r within a factor 1.65 of 1
    assert abs(np.mean(np.exp(fitted.log_ratio_data)) - 1) < 0.1  # E_p[q/p] = 1


def test_a_shifted_normal_is_found_on_the_shifts_side():
    """The generator is the data shifted by +1.5 along dimension 0: r = q/p is high on the + side
    (the generator's mass the data lacks), low on the - side, and the test rejects."""
    rng = np.random.default_rng(1)
    data, drawn = rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8))
    drawn[:, 0] += 1.5
    fitted = fit_ratio(data, drawn)
    assert fitted.p_value < 1e-10 and fitted.accuracy > 0.7
    probes = np.zeros((2, 8))
    probes[:, 0] = (3.0, -2.0)
    plus, minus = fitted.ratio.log_ratio(probes)
    assert plus > 1.0 and minus < -1.0  # exact: log r = 1.5 z0 - 1.125, +3.4 and -4.1
    # the most over-covered draws lie on the + side, the most under-covered data on the - side
    assert drawn[np.argsort(fitted.log_ratio_drawn)[-16:], 0].min() > 1.0
    assert data[np.argsort(fitted.log_ratio_data)[:16], 0].max() < -1.0


def test_the_witness_peaks_where_two_mixtures_differ():
    """Two mixtures share a component at (-4, 0); the data's second sits at (4, 0), the generator's
    at (0, 4): the witness is positive at the data's own component, negative at the generator's, ~0
    on the shared one."""
    rng = np.random.default_rng(2)

    def mixture(second) -> np.ndarray:
        centres = np.array([(-4.0, 0.0), second])[rng.integers(0, 2, 1000)]
        return centres + 0.5 * rng.standard_normal((1000, 2))

    data, drawn = mixture((4.0, 0.0)), mixture((0.0, 4.0))
    probes = np.array([(4.0, 0.0), (0.0, 4.0), (-4.0, 0.0)])
    ours, theirs, shared = witness(probes, data, drawn, bandwidth=1.0)
    assert ours > 0.1 and theirs < -0.1 and abs(shared) < 0.05
    grid = np.stack(np.meshgrid(np.linspace(-6, 6, 25), np.linspace(-6, 6, 25)), -1).reshape(-1, 2)
    values = witness(grid, data, drawn, bandwidth=1.0)
    assert np.linalg.norm(grid[np.argmax(values)] - (4, 0)) < 1.0  # its peak: the data's own component
    assert np.linalg.norm(grid[np.argmin(values)] - (0, 4)) < 1.0  # its trough: the generator's
    on_data = witness(data, data, drawn, bandwidth=1.0, leave_out="data")
    assert np.median(on_data[data[:, 0] > 2]) > 0.1  # evaluated on its own set, the self term left out


def test_the_reweighted_normal_covers_a_ring_better_than_the_normal_it_started_from():
    from latentkit.analysis.generators import FittedNormal, LatentFit, Reweighted
    from latentkit.analysis.measures.holes import prdc

    rng = np.random.default_rng(3)
    data = _ring(rng, 3000)
    fit = LatentFit(mean=data.mean(0), cov=np.cov(data.T), centre=data.mean(0), sigma=data.std(0), fwhm=np.ones(2))
    fitted = fit_ratio(data[:1000], FittedNormal().sample(rng, 1000, fit))
    reweighted = replace(fit, ratio=Reweighting.of(fitted))
    held_out = data[1000:2000]
    normal = prdc(held_out, FittedNormal().sample(rng, 1000, fit), k=5)
    ours = prdc(held_out, Reweighted().sample(rng, 1000, reweighted), k=5)
    assert ours["coverage"] > normal["coverage"] + 0.1 and ours["precision"] > normal["precision"] + 0.1
    z = Reweighted().sample(rng, 2000, reweighted)
    assert np.mean(np.linalg.norm(z, axis=1) < 1.5) < 0.5 * np.mean(
        np.linalg.norm(FittedNormal().sample(rng, 2000, fit), axis=1) < 1.5
    )


def test_the_reweighted_generator_is_kept_in_mvn_npz_and_draws_the_same_after_loading(tmp_path):
    """``generate --method reweighted`` draws from the analysis' mvn.npz: the ratio saved and loaded
    back draws, point for point, what the analysis' own fit draws with the same seed."""
    from latentkit.analysis.generators import FittedNormal, LatentFit, Reweighted

    rng = np.random.default_rng(5)
    data = _ring(rng, 1000)
    fit = LatentFit(mean=data.mean(0), cov=np.cov(data.T), centre=data.mean(0), sigma=data.std(0), fwhm=np.ones(2))
    fit = replace(fit, ratio=Reweighting.of(fit_ratio(data, FittedNormal().sample(rng, 1000, fit))))
    fit.save(tmp_path / "mvn.npz")
    loaded = LatentFit.load(tmp_path / "mvn.npz")
    drawn = Reweighted().sample(np.random.default_rng(6), 500, fit)
    np.testing.assert_array_equal(Reweighted().sample(np.random.default_rng(6), 500, loaded), drawn)
    assert loaded.ratio.acceptance_rate == fit.ratio.acceptance_rate
    without = replace(fit, ratio=None)
    without.save(tmp_path / "plain.npz")
    with pytest.raises(LatentkitError, match="--method reweighted needs the atlas's density ratio"):
        Reweighted().sample(rng, 10, LatentFit.load(tmp_path / "plain.npz"))


def test_analyze_writes_the_atlas_and_its_figures(tmp_path, monkeypatch):
    """analyze of a ring in 6-D with the quality stage and figures on (the cloud's own figures left
    out: seconds this test does not read): ``atlas`` read back through the schema, the atlas figures."""
    import latentkit.analysis.analyze as job
    from latentkit.analysis.report.files import read_report

    monkeypatch.setattr(job, "STAGES", tuple(s for s in job.STAGES if s.__name__ != "cloud_figures"))
    rng = np.random.default_rng(4)
    np.save(tmp_path / "z.npy", _ring(rng, 1500, d=6).astype(np.float32))
    options = replace(QUICK, quality=True, figures=True, quality_sample=600, atlas_sample=400, mixture=False)
    job.analyze(latents=tmp_path / "z.npy", out=tmp_path / "out", options=options)
    report = read_report(tmp_path / "out" / "report.json")
    atlas = report["atlas"]
    assert {"normal", "mvn", "reweighted"} <= set(atlas["generators"]) and atlas["folds"] == 5
    mvn = atlas["generators"]["mvn"]
    assert mvn["c2st_p_value"] < 0.01 and "mmd_p_value" in mvn and len(mvn["over"]) == len(mvn["under"]) == 16
    assert all("row" in point for point in mvn["under"])
    assert atlas["sampler"]["base"] == "mvn" and 0 < atlas["sampler"]["acceptance_rate"] <= 1
    assert report["coverage"]["reweighted"]["coverage"] > report["coverage"]["mvn"]["coverage"]
    assert any(g["method"] == "reweighted" for g in report["generators"])  # its hit test
    for name in ("atlas_normal", "atlas_mvn", "atlas_reweighted"):
        assert f"{name}.png" in report["figures"] and (tmp_path / "out" / f"{name}.png").stat().st_size > 0


def test_the_atlas_faces_figure_decodes_both_rows(tmp_path):
    """atlas_faces.png with a stand-in decoder (a linear map to 8 x 8 RGB): 16 over- and 16 under-covered."""
    from latentkit.analysis.report.atlas_figures import atlas_faces_figure

    rng = np.random.default_rng(5)
    weights = rng.normal(size=(4, 8 * 8 * 3))

    def decode(z):
        return (1 / (1 + np.exp(-z @ weights))).reshape(len(z), 8, 8, 3)

    name = atlas_faces_figure(tmp_path, "fitted normal", rng.normal(size=(16, 4)), rng.normal(size=(16, 4)), decode)
    assert name == "atlas_faces.png" and (tmp_path / name).stat().st_size > 5000


def _atlas_report(*, p_value: float, accuracy: float, coverage: dict[str, float], flow: bool = False) -> dict:
    """A made-up report with an atlas and the coverage the sampler row reads."""
    n = 1000
    keys = ["normal", "mvn", "reweighted"] + (["flow"] if flow else [])
    normal = {
        "c2st_accuracy": accuracy,
        "c2st_p_value": p_value,
        "mmd_p_value": 0.005,
        "n": 936,
        "log_ratio_generator": {"p50": 1.2},
    }
    return {
        "atlas": {"generators": {"normal": normal}, "sampler": {"acceptance_rate": 0.4}},
        "coverage": {key: {"coverage": coverage[key], "n": n, "k": 5} for key in keys},
    }


def test_the_atlas_findings_hold_fail_and_say_inconclusive():
    from latentkit.demo.hole_findings import atlas_findings

    told, sampler = atlas_findings(
        _atlas_report(p_value=1e-30, accuracy=0.7, coverage={"normal": 0.6, "mvn": 0.7, "reweighted": 0.85})
    )
    assert told.holds is True and "C2ST accuracy 0.700" in told.measured and "MMD p = 0.005" in told.measured
    assert sampler.holds is True and "keeps 40%" in sampler.measured
    told, sampler = atlas_findings(
        _atlas_report(p_value=0.4, accuracy=0.5, coverage={"normal": 0.6, "mvn": 0.8, "reweighted": 0.7})
    )
    assert told.holds is False and sampler.holds is False  # below its own base
    told, sampler = atlas_findings(
        _atlas_report(
            p_value=0.03,
            accuracy=0.53,
            coverage={"normal": 0.6, "mvn": 0.7, "reweighted": 0.85, "flow": 0.84},
            flow=True,
        )
    )
    assert told.verdict == "inconclusive" and sampler.verdict == "inconclusive" and "flow 0.840" in sampler.measured
    report = _atlas_report(p_value=0.4, accuracy=0.5, coverage={"normal": 0.6, "mvn": 0.7, "reweighted": 0.8})
    del report["coverage"]["reweighted"]
    assert atlas_findings(report)[1].verdict == "not applicable"
    assert atlas_findings({}) == []
