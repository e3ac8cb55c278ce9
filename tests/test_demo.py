"""The demo end to end, shrunk (600 images, three epochs), and the commands run on its run: generate,
reconstruct, interpolate, attributes and the attribute walk, compare, ``demo --compare``."""

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
from fixtures.commands import cli
from PIL import Image


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The whole demo pipeline through the CLI, small; and the runs whose checkpoint it loaded
    (``load_model``'s calls) on the way."""
    root = tmp_path_factory.mktemp("demo")
    with counted_model_loads() as loads:
        result = cli("demo", "--dir", root, "--n", "600", "--epochs", "3")
    return root, result, loads


@contextlib.contextmanager
def counted_model_loads():
    """The runs whose checkpoint is loaded into a Keras model while inside, in order."""
    from latentkit.model import codec

    loads, load = [], codec.load_model

    def counted(run, *args, **kwargs):
        loads.append(Path(run).resolve())
        return load(run, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codec, "load_model", counted)
        yield loads


DEMO_FIGURES = (
    "components",
    "dominant",
    "radius",
    "correlation",
    "ellipses",
    "pca",
    "pc_histograms",
    "pc_scatter",
    "pc_ellipses",
    "radius_vs_dim",
    "tsne",
    "kmeans",
    "nn_distances",
    "coverage",
    "reencoding",
    "reencoded_faces",
    "worst_reconstructions",
    "uniform_components",
    "uniform_cube",
    "trimmed_f1.25",
    "trimmed_f1.5",
    "trimmed_f1.8",
    "atlas_normal",  # the hole atlas (issue 50): one per generator it measures, and the faces
    "atlas_mvn",
    "atlas_gmm",
    "atlas_reweighted",
    "atlas_faces",
    "traversal",  # the numbers other tools report
    "local_dimension",
    "memorization",
)


DEMO_GRIDS = ("generated_mvn", "generated_gmm", "generated_uniform_b3", "reconstructions", "interpolation")


CLAIMS = (
    "Reconstructions keep",
    "close to a Gaussian",
    "none degenerate",
    "thin shells",
    "only for small b",
    "Multivariate-normal z-points",
    "small scales",
    "covers more of the data",
    "re-encode far",
    "fitted ellipses hold",
    "follows the data covers it best",
    "by the data's own region",
    "leaves holes",  # the hole atlas's rows (issue 50)
    "Reweighting the fitted normal",
)


def test_demo_runs_the_whole_pipeline_and_shows_the_findings(demo):
    """The shrunken demo (600 images, three epochs): every stage, the time it says after its
    second epoch, the findings table, every figure."""
    root, result, loads = demo
    run = root / "run"
    # the encode job's model, then one for every stage after it (analyze, the grids, the
    # findings' error, the lattice, the page): the run is opened once
    assert loads == [run.resolve()] * 2, loads
    assert "epoch 2 took" in result.stdout and "the other 1 epoch and the analysis take about" in result.stdout
    for step in (
        "[1/6] prepare",
        "[2/6] train",
        "[3/6] encode",
        "[4/6] analyze",
        "[5/6] grids: generate",
        "[6/6] findings",
    ):
        assert step in result.stdout
    report = json.loads((run / "analysis" / "report.json").read_text())
    assert report["n"] == 600 and report["dim"] == 128
    assert set(report["figures"]) == {f"{name}.png" for name in DEMO_FIGURES}
    for path in [run / "analysis" / f"{name}.png" for name in DEMO_FIGURES] + [
        run / "samples" / f"{g}.png" for g in DEMO_GRIDS
    ]:
        with Image.open(path) as image:
            assert image.size[0] > 100 and image.size[1] >= 66, path  # a figure, a grid or a strip of 64 px tiles
    findings = json.loads((run / "findings.json").read_text())
    claims = [f["claim"] for f in findings["findings"]]
    assert [next(c for c in claims if key in c) for key in CLAIMS]  # every finding, in the printed table too
    for f in findings["findings"]:
        assert f["claim"].split()[0] in result.stdout  # the printed table (rich may wrap the rest)
        assert f["holds"] in (True, False, None) and f["measured"]
        assert f["verdict"] in ("yes", "no", "inconclusive", "not applicable")
        assert f["verdict"] != "not applicable" or f["measured"].startswith("not applicable: ")
        for figure in f["figure"].split(", "):
            assert (run / figure).exists(), figure
    assert "valid RMSE" in findings["findings"][0]["measured"]
    assert "| the studies found |" in (run / "findings.md").read_text() and "The studies' findings" in result.stdout
    assert len(findings["figures"]) == len(DEMO_FIGURES) + len(DEMO_GRIDS)
    grids = {path: path.stat().st_mtime_ns for path in (run / "samples").iterdir()}
    with counted_model_loads() as loads:
        again = cli("demo", "--dir", root, "--n", "600", "--epochs", "3")  # every stage resumes: nothing redone
    assert loads == [] and grids == {path: path.stat().st_mtime_ns for path in (run / "samples").iterdir()}
    assert "[5/6] grids: generate, reconstruct, interpolate" in again.stdout and "claims (done)" in again.stdout
    assert "The studies' findings" in again.stdout  # the table is shown again, read back
    assert "report:" in again.stdout and "report.html (done)" in again.stdout and "lattice.png (done)" in again.stdout
    assert "epoch 1" not in again.stderr and "epoch 2 took" not in again.stdout  # no training epoch ran again
    for stage in ("[2/6] train", "[3/6] encode", "[4/6] analyze"):  # the step table found each step done
        assert next(line for line in again.stdout.splitlines() if line.startswith(stage)).endswith(" (done)")


def test_generate_methods_write_grids_and_hit_fractions(demo, tmp_path):
    run = demo[0] / "run"
    for method in ("uniform", "normal", "component", "mvn", "gmm", "kde", "reweighted"):
        out = tmp_path / f"{method}.png"
        result = cli("generate", "--run", run, "--method", method, "--n", "12", "--sharpen", "7", "--out", out)
        assert "hit fraction k=1.5:" in result.stdout
        with Image.open(out) as image:
            assert image.size == (7 * 66 + 2, 2 * 66 + 2)  # 12 tiles of 64 px, 7 columns, 2 px gaps
    different = [np.asarray(Image.open(tmp_path / f"{m}.png")) for m in ("uniform", "mvn")]
    assert not np.array_equal(*different)


def test_generate_needs_analysis_for_fitted_methods(tmp_path, demo):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(demo[0] / "run" / "checkpoints", run / "checkpoints")
    failed = cli("generate", "--run", run, "--method", "mvn", "--out", tmp_path / "x.png", check=False)
    assert failed.returncode == 2 and "run `latentkit analyze` first" in failed.stderr
    plain = cli("generate", "--run", run, "--method", "normal", "--out", tmp_path / "y.png")
    assert "n/a" in plain.stdout
    bad = cli("generate", "--run", run, "--method", "cubes", "--out", tmp_path / "z.png", check=False)
    assert bad.returncode == 2 and "--method must be one of" in bad.stderr


def test_reconstruct_and_interpolate(demo, tmp_path):
    run = demo[0] / "run"
    result = cli("reconstruct", "--run", run, "--n", "8", "--out", tmp_path / "r.png")
    assert "RMSE" in result.stdout
    with Image.open(tmp_path / "r.png") as image:
        assert image.size == (8 * 66 + 2, 2 * 66 + 2)  # originals over reconstructions
    result = cli("interpolate", "--run", run, "--from", "3", "--to", "9", "--steps", "6", "--out", tmp_path / "i.png")
    with Image.open(tmp_path / "i.png") as image:
        strip = np.asarray(image)
    assert strip.shape == (68, 8 * 66 + 2, 3)  # both originals and 6 decoded steps
    failed = cli("interpolate", "--run", run, "--from", "0", "--to", "100000", "--out", tmp_path / "j.png", check=False)
    assert failed.returncode == 2 and "outside the store" in failed.stderr


def test_attributes_of_the_synthetic_factors_and_the_attribute_walk(demo, tmp_path):
    run = demo[0] / "run"
    result = cli("attributes", "--run", run, "--show", "skin_tone")
    assert "synthetic factors" in result.stdout and "skin_tone" in result.stdout
    report = json.loads((run / "analysis" / "attributes.json").read_text())
    assert len(report["attributes"]) == 16 and report["figures"] == ["attribute_skin_tone.png"]
    # Even this one-epoch model carries the faces' large factors: their directions separate the classes.
    found = {r["name"]: r["probe_accuracy"] - r["majority_rate"] for r in report["attributes"] if "skipped" not in r}
    assert sum(margin > 0.15 for margin in found.values()) >= 3, found
    assert (run / "analysis" / "attribute_skin_tone.png").exists()
    out = tmp_path / "walk.png"
    walk = cli(
        "generate",
        "--run",
        run,
        "--attribute",
        "skin_tone",
        "--strength",
        "2",
        "--image",
        "3",
        "--steps",
        "5",
        "--out",
        out,
    )
    assert "5 points along skin_tone" in walk.stdout
    with Image.open(out) as image:
        assert image.size == (6 * 66 + 2, 66 + 2)  # the original, then the path
    bad = cli("generate", "--run", run, "--attribute", "Smiling", "--out", tmp_path / "x.png", check=False)
    assert bad.returncode == 2 and "unknown attribute 'Smiling'" in bad.stderr


def test_compare_a_run_with_itself_reports_no_differences(demo, tmp_path):
    run = demo[0] / "run"
    result = cli("compare", run, run, "--out", tmp_path / "cmp")
    assert "differences from run: none" in result.stdout
    report = json.loads((tmp_path / "cmp" / "report.json").read_text())
    assert [r["label"] for r in report["runs"]] == ["run", "run#2"]
    assert report["runs"][1]["differences"] and not any(report["runs"][1]["differences"].values())
    for name in ("compare_radius", "compare_pca", "compare_components", "compare_hits"):
        assert (tmp_path / "cmp" / f"{name}.png").exists()
    for grid in ("generated_mvn", "generated_normal", "reconstructions"):
        same = [(tmp_path / "cmp" / label / f"{grid}.png").read_bytes() for label in ("run", "run#2")]
        assert same[0] == same[1], grid
    assert "## Differences from run" in (tmp_path / "cmp" / "report.md").read_text()
    aligned = report["runs"][1]["alignment"]  # the same latents: a rotation of nothing, every neighbour kept
    assert aligned["disparity"] < 1e-9 and aligned["knn_kept"] == 1.0 and aligned["n"] == 600
    assert Path(aligned["figure"]).exists() and "## Aligned onto run" in (tmp_path / "cmp" / "report.md").read_text()


def test_compare_an_ae_with_a_vae_runs_the_missing_analysis(demo, tmp_path):
    data, ae = demo[0] / "data.zarr", demo[0] / "run"
    vae = tmp_path / "vae"
    small = [
        "--set",
        "model.image_size=64",
        "--set",
        "model.z_dim=16",
        "--set",
        "model.encoder_filters=[8,16,16]",
        "--set",
        "model.encoder_kernels=[3,3,3]",
        "--set",
        "model.encoder_strides=[2,2,2]",
        "--set",
        "model.decoder_filters=[16,8,3]",
        "--set",
        "model.decoder_kernels=[3,3,3]",
        "--set",
        "model.decoder_strides=[2,2,2]",
    ]
    cli("train", "--data", data, "--run", vae, "--job", "vae", *small, "--epochs", "1")
    cli("encode", "--run", vae)
    result = cli("compare", ae, vae, "--out", tmp_path / "cmp")
    assert "no analysis yet, running analyze" in result.stderr and "adds them" in result.stderr
    made = json.loads((vae / "analysis" / "report.json").read_text())  # what compare reads, not t-SNE or k-means
    assert not {"tsne", "kmeans"} & set(made) and not made["options"]["tsne"] and "components" in made
    assert not made["options"]["figures"] and not list((vae / "analysis").glob("*.png"))  # nor figures
    report = json.loads((tmp_path / "cmp" / "report.json").read_text())
    kinds = [(r["summary"]["kind"], r["summary"]["z_dim"]) for r in report["runs"]]
    assert kinds == [("ae", 128), ("vae", 16)]
    assert report["runs"][1]["summary"]["final_kl"] > 0 and report["runs"][1]["differences"]["radius_histogram_l1"] > 0
    aligned = report["runs"][1]["alignment"]  # 128-D AE against a 16-D VAE over the same images: compared in 16 PCs
    assert aligned["dims"] == 16 and 0 < aligned["knn_kept"] < 1 and len(aligned["moved_most"]) == 8
    summary = report["runs"][1]["summary"]
    assert "mmd2_normal" in summary and "mutual_information" in summary and 0 <= summary["mig"] <= 1  # factors known
    missing = cli("compare", ae, tmp_path / "nothing", "--out", tmp_path / "c2", check=False)
    assert missing.returncode == 2 and "not a run directory" in missing.stderr


def test_demo_compare_adds_a_vae_and_compares_it_with_the_ae(demo):
    root = demo[0]
    checkpoints = {p: p.stat().st_mtime_ns for p in (root / "run" / "checkpoints").iterdir()}
    result = cli("demo", "--dir", root, "--n", "600", "--epochs", "3", "--compare")
    assert checkpoints == {p: p.stat().st_mtime_ns for p in (root / "run" / "checkpoints").iterdir()}  # AE resumed
    assert "[compare 3/3]" in result.stdout and "compare:" in result.stdout
    report = json.loads((root / "compare" / "report.json").read_text())
    assert [r["summary"]["kind"] for r in report["runs"]] == ["ae", "vae"]
    assert report["runs"][1]["summary"]["kl_factor"] == 5.0


def test_the_demo_says_after_its_second_epoch_how_long_the_rest_takes_and_the_quicker_path(tmp_path):
    from latentkit.demo.run import AFTER_TRAINING_S, DEMO_BUDGET_S, time_note

    fast = time_note(14.6, 15, tmp_path)  # the machine the README's time was measured on
    assert "epoch 2 took 15 s" in fast and "other 13 epochs" in fast and "quicker" not in fast
    slow = time_note(62.0, 15, tmp_path)  # a 2-core AVX2-only EPYC: 62 s an epoch
    assert "about 15 min more here" in slow
    quick = int((DEMO_BUDGET_S - AFTER_TRAINING_S) / 62.0)
    assert (
        f"latentkit demo --dir {tmp_path} --epochs {quick}`" in slow and quick * 62 + AFTER_TRAINING_S <= DEMO_BUDGET_S
    )
    assert "\n" not in slow  # one line in a log


def test_decoders_read_the_store_the_latents_were_encoded_from(demo, tmp_path):
    """`encode --data other` makes the latents' rows those of another store: interpolate and
    attributes take that store (recorded in latents.zarr), not the one the run trained on."""
    import shutil

    from latentkit.model.runs import latents_store, read_run

    run = tmp_path / "run"
    shutil.copytree(demo[0] / "run", run, ignore=shutil.ignore_patterns("latents.zarr", "analysis", "locks"))
    described = read_run(run)
    assert latents_store(run, described).resolve() == Path(described.data).resolve()  # nothing encoded: trained on
    other = tmp_path / "other.zarr"
    shutil.copytree(described.data, other)
    cli("encode", "--run", run, "--data", other, "--chunk", "1024")
    assert latents_store(run, described).resolve() == other.resolve()
    cli("interpolate", "--run", run, "--from", "0", "--to", "5", "--out", tmp_path / "path.png")
