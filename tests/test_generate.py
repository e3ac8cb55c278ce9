import json

import numpy as np
import pytest
from conftest import run_cli
from PIL import Image


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The whole demo pipeline through the CLI, small."""
    root = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--dir", root, "--n", "600", "--epochs", "1")
    return root, result


def test_demo_runs_the_whole_pipeline(demo):
    root, result = demo
    run = root / "run"
    for step in ("[1/5] prepare", "[2/5] train", "[3/5] encode", "[4/5] analyze", "[5/5] generate"):
        assert step in result.stdout
    report = json.loads((run / "analysis" / "report.json").read_text())
    assert report["n"] == 600 and report["dim"] == 32
    assert (run / "analysis" / "report.md").exists() and (run / "samples" / "generated_mvn.png").exists()
    again = run_cli("demo", "--dir", root, "--n", "600", "--epochs", "1")  # every stage resumes: nothing redone
    assert "report:" in again.stdout
    assert "epoch 1" not in again.stderr  # no training epoch ran again


def test_generate_methods_write_grids_and_hit_fractions(demo, tmp_path):
    run = demo[0] / "run"
    for method in ("uniform", "normal", "component", "mvn"):
        out = tmp_path / f"{method}.png"
        result = run_cli("generate", "--run", run, "--method", method, "--n", "12", "--sharpen", "7", "--out", out)
        assert "hit fraction k=1.5:" in result.stdout
        with Image.open(out) as image:
            assert image.size == (7 * 98 + 2, 2 * 98 + 2)  # 12 tiles of 96 px, 7 columns, 2 px gaps
    different = [np.asarray(Image.open(tmp_path / f"{m}.png")) for m in ("uniform", "mvn")]
    assert not np.array_equal(*different)


def test_generate_needs_analysis_for_fitted_methods(tmp_path, demo):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(demo[0] / "run" / "checkpoints", run / "checkpoints")
    failed = run_cli("generate", "--run", run, "--method", "mvn", "--out", tmp_path / "x.png", check=False)
    assert failed.returncode == 2 and "run `latentkit analyze` first" in failed.stderr
    plain = run_cli("generate", "--run", run, "--method", "normal", "--out", tmp_path / "y.png")
    assert "n/a" in plain.stdout
    bad = run_cli("generate", "--run", run, "--method", "cubes", "--out", tmp_path / "z.png", check=False)
    assert bad.returncode == 2 and "--method must be one of" in bad.stderr


def test_reconstruct_and_interpolate(demo, tmp_path):
    run = demo[0] / "run"
    result = run_cli("reconstruct", "--run", run, "--n", "8", "--out", tmp_path / "r.png")
    assert "RMSE" in result.stdout
    with Image.open(tmp_path / "r.png") as image:
        assert image.size == (8 * 98 + 2, 2 * 98 + 2)  # originals over reconstructions
    result = run_cli("interpolate", "--run", run, "--from", "3", "--to", "9", "--steps", "6", "--out", tmp_path / "i.png")
    with Image.open(tmp_path / "i.png") as image:
        strip = np.asarray(image)
    assert strip.shape == (100, 8 * 98 + 2, 3)  # both originals and 6 decoded steps
    failed = run_cli("interpolate", "--run", run, "--from", "0", "--to", "100000", "--out", tmp_path / "j.png",
                     check=False)  # fmt: skip
    assert failed.returncode == 2 and "outside the store" in failed.stderr
