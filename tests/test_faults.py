"""Faults on purpose (issue 12): two jobs on one run, a killed lock holder, training that diverges."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TINY, TINY_OVERRIDES, chunks_done, run_cli, start_cli

from latentkit import checkpoint
from latentkit.prepare import prepare_synthetic
from latentkit.runlock import RunBusy, run_lock
from latentkit.train import train

BUSY = RunBusy.exit_code


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "s32.zarr"
    prepare_synthetic(out=path, n=240, size=32, chunk=64)
    return path


@pytest.fixture(scope="module")
def trained(tiny_store, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run") / "run"
    train(data=tiny_store, run=run, job="demo", overrides={**TINY_OVERRIDES, "train.epochs": 1})
    return run


def wait_for(ready, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_second_train_on_a_run_is_refused_naming_the_holder_and_a_killed_holder_leaves_no_lock(tiny_store, tmp_path):
    run = tmp_path / "run"
    args = ["train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "2"]
    first = start_cli(*args, env={"LATENTKIT_THROTTLE_S": "0.3"})
    lock = run / "locks" / "train.lock"
    wait_for(lambda: lock.exists() and f'"pid": {first.pid}' in lock.read_text())
    second = run_cli(*args, check=False)
    lines = [line for line in second.stderr.splitlines() if line.startswith("latentkit:")]  # TF logs aside
    assert second.returncode == BUSY and len(lines) == 1, second.stderr
    assert f"in use by train (pid {first.pid} on {socket.gethostname()}, since 20" in lines[0]
    assert "Traceback" not in second.stderr
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert lock.exists()  # the file stays, the lock does not: the kernel dropped it with the process
    again = run_cli(*args)
    assert "in use" not in again.stderr
    assert checkpoint.load(run / "checkpoints")[0].meta["epoch"] == 2


def test_task_split_encodes_share_the_run_and_a_whole_store_encode_waits(trained, tmp_path):
    with run_lock(trained, "encode", task=0, tasks=2):  # task 0 of 2 is running (this process holds its lock)
        whole = run_cli("encode", "--run", trained, "--chunk", "64", check=False)
        assert whole.returncode == BUSY and "in use by task-split encodes: encode task 0 of 2 (pid" in whole.stderr
        same = run_cli("encode", "--run", trained, "--chunk", "64", "--task", "0", "--tasks", "2", check=False)
        assert same.returncode == BUSY and "encode task 0 of 2" in same.stderr
        other = run_cli("encode", "--run", trained, "--chunk", "64", "--task", "1", "--tasks", "2")
        assert other.returncode == 0
    run_cli("encode", "--run", trained, "--chunk", "64", "--task", "0", "--tasks", "2")
    assert chunks_done(trained / "latents.zarr") == 4  # 240 images in chunks of 64, by two tasks
    with run_lock(trained, "encode"):  # a whole-store encode holds it: split tasks wait
        split = run_cli("encode", "--run", trained, "--chunk", "64", "--task", "1", "--tasks", "2", check=False)
        assert split.returncode == BUSY and "in use by a whole-store encode (pid" in split.stderr


def test_a_sigkilled_lock_holder_leaves_the_run_free(tmp_path):
    code = ("import sys, time; from latentkit.runlock import run_lock\n"
            "with run_lock(sys.argv[1], 'train'):\n    print('held', flush=True); time.sleep(600)")  # fmt: skip
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunBusy, match=f"pid {holder.pid} on"):
        with run_lock(tmp_path, "train"):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    with run_lock(tmp_path, "train"):  # no stale lock to clean up
        assert f'"pid": {os.getpid()}' in (tmp_path / "locks" / "train.lock").read_text()


def test_a_diverging_run_stops_with_its_own_status_and_saves_nothing(tiny_store, tmp_path):
    from latentkit.errors import TrainingDiverged

    run = tmp_path / "run"
    args = ["train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--checkpoint-every", "2"]
    blown = run_cli(*args, "--epochs", "1", "--lr", "1e30", check=False)  # Adam steps of 1e30: inf, then NaN
    lines = [line for line in blown.stderr.splitlines() if line.startswith("latentkit:")]
    assert blown.returncode == TrainingDiverged.exit_code == 65, blown.stderr
    assert len(lines) == 1 and "training diverged by epoch 1" in lines[0] and "checkpoint (none yet)" in lines[0]
    assert "Traceback" not in blown.stderr
    assert not (run / "checkpoints" / "latest.npz").exists()


def test_nan_weights_never_replace_the_last_good_checkpoint(trained):
    import keras
    import numpy as np

    from latentkit.errors import TrainingDiverged
    from latentkit.models import build_model
    from latentkit.spec import spec_from_dict
    from latentkit.train import write_checkpoint

    saved, _ = checkpoint.load(trained / "checkpoints")
    good = (trained / "checkpoints" / "latest.npz").read_bytes()
    spec = spec_from_dict(saved.meta["spec"])
    model = build_model(spec.model, lr=spec.train.lr)
    checkpoint.restore(model, saved)
    kernel = model.encoder.trainable_variables[0]
    kernel.assign(keras.ops.full(kernel.shape, np.nan))
    with pytest.raises(TrainingDiverged, match="NaN or infinite: not saved"):
        write_checkpoint(trained, model, spec, data=saved.meta["data"], epoch=1, step=3)
    assert (trained / "checkpoints" / "latest.npz").read_bytes() == good
