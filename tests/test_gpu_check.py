"""The GPU check (issue 30) cannot rot: the whole script runs here on the CPU (``--cpu``, small),
and the wheelhouse it installs from on the GPU machine is built, checked and installed with no
index into a fresh target by a Python 3.12 (where one is found)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # pytest -m "not system" leaves these out (docs/contributing.md, "The fast tier")

BENCH = Path(__file__).resolve().parent.parent / "bench" / "gpu"


def test_the_gpu_check_runs_every_step_on_the_cpu(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCH / "check.py"), "--out", str(tmp_path), "--cpu", "--budget", "900"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "gpu.json").read_text())
    assert list(results) == ["install", "env", "prepare", "train", "encode", "oom", "devices", "demo"]
    assert {name for name, r in results.items() if r["status"] != "ok"} == {"install", "oom"}, results
    assert "no GPU" in results["oom"]["why"] and "no --wheelhouse" in results["install"]["why"]
    combos = results["train"]["result"]["combos"]
    assert {(c["precision"], c["batch"]) for c in combos} == {("float32", 32), ("mixed_bfloat16", 32)}
    assert all(c["ratio"] > 0 and c["estimate_mb"] > 0 for c in combos)
    assert [b["batch"] for b in results["encode"]["result"]["batches"]] == [64, 128]
    assert results["devices"]["result"]["equal"] is True
    assert results["demo"]["result"]["findings"] >= 7
    page = (tmp_path / "gpu.md").read_text()
    assert "| demo | 32 | float32 |" in page and "job ÷ direct" in page


def test_the_wheelhouse_is_complete_for_python_312_and_installs_with_no_index(tmp_path):
    sys.path.insert(0, str(BENCH))
    import wheelhouse

    done = subprocess.run(
        [sys.executable, str(BENCH / "wheelhouse.py"), "--out", str(tmp_path / "wheels")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "latentkit" in done.stdout and ("installed" in done.stdout or "no Python 3.12 here" in done.stdout)
    names = {p.name.split("-")[0].lower() for p in (tmp_path / "wheels").glob("*.whl")}
    assert {"keras", "zarr", "numcodecs", "donfig", "optree", "namex", "opentsne", "latentkit"} <= names
    assert not names & {"numpy", "scipy", "jax", "tensorflow"}  # the machine has them, or the JAX backend skips them
    # what the checks catch: a wheel for another Python, and a requirement nobody meets
    bad = tmp_path / "bad"
    bad.mkdir()
    for wheel in (tmp_path / "wheels").glob("*.whl"):
        if not wheel.name.startswith(("zarr-", "donfig-")):  # zarr needs donfig: take it away
            (bad / wheel.name).symlink_to(wheel)
    (bad / "thing-1.0-cp311-cp311-manylinux2014_x86_64.whl").symlink_to(next((tmp_path / "wheels").glob("keras-*")))
    problems = wheelhouse.check(bad)
    assert any("not for CPython 3.12" in p for p in problems) and any("needs zarr" in p for p in problems), problems
