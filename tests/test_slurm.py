"""The slurm/ scripts on a real local SLURM: job arrays and signal -> checkpoint -> requeue."""

import os
import sys
import time
from pathlib import Path

import pytest
from conftest import TINY, assert_identical, assert_same_store, make_celeba, run_cli
from local_slurm import LocalSlurm, ensure_installed

from latentkit import checkpoint

SCRIPTS = Path(__file__).resolve().parent.parent / "slurm"
SMALL = ["--cpus-per-task=1", "--mem=2G"]  # the scripts ask for more than this 2-core node has


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    why = ensure_installed()
    if why:
        pytest.skip(why)
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    # Jobs find this interpreter's latentkit through PATH.
    cluster.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{cluster.env['PATH']}"
    yield cluster
    cluster.stop()


def test_prepare_array_equals_one_process(slurm, tmp_path):
    root = make_celeba(tmp_path / "c", n=40)
    run_cli("prepare", "celeba", root, "--out", tmp_path / "one.zarr", "--chunk", "4")
    job = slurm.sbatch(*SMALL, "--array=1-3", f"--output={tmp_path}/prepare-%A_%a.log", str(SCRIPTS / "prepare.sbatch"),
                       env={"SRC": str(root), "OUT": str(tmp_path / "array.zarr"), "EXTRA_ARGS": "--chunk 4"})  # fmt: skip
    slurm.wait(job)
    logs = sorted(tmp_path.glob("prepare-*.log"))
    assert len(logs) == 3, logs
    assert_same_store(tmp_path / "one.zarr", tmp_path / "array.zarr")


def test_encode_array_equals_one_process(slurm, tmp_path):
    data = tmp_path / "s32.zarr"
    run_cli("prepare", "synthetic", "--n", "250", "--size", "32", "--chunk", "64", "--out", data)
    run = tmp_path / "run"
    run_cli("train", "--data", data, "--run", run, "--job", "demo", *TINY, "--epochs", "1")
    run_cli("encode", "--run", run, "--chunk", "40", "--batch", "16", "--out", tmp_path / "one.zarr")
    job = slurm.sbatch(*SMALL, "--array=0-2", f"--output={tmp_path}/encode-%A_%a.log", str(SCRIPTS / "encode.sbatch"),
                       env={"RUN": str(run), "CHUNK": "40", "EXTRA_ARGS": f"--batch 16 --out {tmp_path / 'array.zarr'}"})  # fmt: skip
    slurm.wait(job)
    assert_identical(tmp_path / "one.zarr", tmp_path / "array.zarr")


def test_train_usr2_checkpoints_requeues_and_resumes(slurm, tmp_path):
    data = tmp_path / "s32.zarr"
    run_cli("prepare", "synthetic", "--n", "240", "--size", "32", "--chunk", "64", "--out", data)
    run, log = tmp_path / "run", tmp_path / "train.log"
    extra = " ".join(str(a) for a in [*TINY, "--epochs", "3"])
    job = slurm.sbatch(*SMALL, f"--output={log}", str(SCRIPTS / "train.sbatch"),
                       env={"DATA": str(data), "RUN": str(run), "JOB": "demo", "EXTRA_ARGS": extra,
                            "LATENTKIT_THROTTLE_S": "0.3"})  # fmt: skip
    deadline = time.monotonic() + 300
    while not (run / "checkpoints" / "latest.npz").exists():  # steps are running
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.5)
    slurm.run("scancel", "--signal=USR2", "--batch", job)  # what --signal=B:USR2@120 sends
    slurm.wait(job, timeout=600)
    text = log.read_text()
    assert "requeueing job" in text and "restart 1" in text, text
    assert "resuming" in text
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] == 3 and len(saved.meta["history"]) == 3
