"""Faults on purpose (issue 12): two jobs on one run, a killed lock holder, training that diverges."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures.commands import cli, run_cli, start_cli
from fixtures.runs import TINY, copy_run
from fixtures.stores import chunks_done

from latentkit.model import checkpoint
from latentkit.store.runlock import RunBusy, run_lock

pytestmark = (
    pytest.mark.system
)  # real processes side by side, killed and signalled (docs/contributing.md, "The fast tier")

BUSY = RunBusy.exit_code


@pytest.fixture(scope="module")
def trained(tiny_ae, tmp_path_factory) -> Path:
    return copy_run(tiny_ae, tmp_path_factory.mktemp("run") / "run", trained_only=True)


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
    second = cli(*args, check=False)
    lines = [line for line in second.stderr.splitlines() if line.startswith("latentkit:")]  # TF logs aside
    assert second.returncode == BUSY and len(lines) == 1, second.stderr
    assert f"in use by train (pid {first.pid} on {socket.gethostname()}, since 20" in lines[0]
    assert "Traceback" not in second.stderr
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert lock.exists()  # the file stays, the lock does not: the kernel dropped it with the process
    again = cli(*args)
    assert "in use" not in again.stderr
    assert checkpoint.load(run / "checkpoints")[0].meta["epoch"] == 2


def test_task_split_encodes_share_the_run_and_a_whole_store_encode_waits(trained, tmp_path):
    with run_lock(trained, "encode", task=0, tasks=2):  # task 0 of 2 is running (this process holds its lock)
        whole = cli("encode", "--run", trained, "--chunk", "64", check=False)
        assert whole.returncode == BUSY and "in use by task-split encodes: encode task 0 of 2 (pid" in whole.stderr
        same = cli("encode", "--run", trained, "--chunk", "64", "--task", "0", "--tasks", "2", check=False)
        assert same.returncode == BUSY and "encode task 0 of 2" in same.stderr
        other = cli("encode", "--run", trained, "--chunk", "64", "--task", "1", "--tasks", "2")
        assert other.returncode == 0
    cli("encode", "--run", trained, "--chunk", "64", "--task", "0", "--tasks", "2")
    assert chunks_done(trained / "latents.zarr") == 4  # 240 images in chunks of 64, by two tasks
    with run_lock(trained, "encode"):  # a whole-store encode holds it: split tasks wait
        split = cli("encode", "--run", trained, "--chunk", "64", "--task", "1", "--tasks", "2", check=False)
        assert split.returncode == BUSY and "in use by a whole-store encode (pid" in split.stderr


def test_encode_is_refused_while_train_writes_the_run(trained, tmp_path):
    """encode would read a checkpoint that train is about to replace: refused (73), nothing written."""
    with run_lock(trained, "train"):  # train is running (this process holds its lock)
        busy = cli("encode", "--run", trained, "--chunk", "64", "--out", tmp_path / "z.zarr", check=False)
    assert busy.returncode == BUSY and "would read a checkpoint that is still changing" in busy.stderr, busy.stderr
    assert not (tmp_path / "z.zarr").exists()
    cli("encode", "--run", trained, "--chunk", "64", "--out", tmp_path / "z.zarr")  # train finished: it runs


def test_a_sigkilled_lock_holder_leaves_the_run_free(tmp_path):
    code = (
        "import sys, time; from latentkit.store.runlock import run_lock\n"
        "with run_lock(sys.argv[1], 'train'):\n    print('held', flush=True); time.sleep(600)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunBusy, match=f"pid {holder.pid} on"), run_lock(tmp_path, "train"):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    with run_lock(tmp_path, "train"):  # no stale lock to clean up
        assert f'"pid": {os.getpid()}' in (tmp_path / "locks" / "train.lock").read_text()


def test_a_diverging_run_stops_with_its_own_status_and_saves_nothing(tiny_store, tmp_path):
    from latentkit.core.errors import TrainingDiverged

    run = tmp_path / "run"
    args = ["train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--checkpoint-every", "2"]
    blown = cli(*args, "--epochs", "1", "--lr", "1e30", check=False)  # Adam steps of 1e30: inf, then NaN
    lines = [line for line in blown.stderr.splitlines() if line.startswith("latentkit:")]
    assert blown.returncode == TrainingDiverged.exit_code == 65, blown.stderr
    assert len(lines) == 1 and "training diverged by epoch 1" in lines[0] and "checkpoint (none yet)" in lines[0]
    assert "Traceback" not in blown.stderr
    assert not (run / "checkpoints" / "latest.npz").exists()


def test_nan_weights_never_replace_the_last_good_checkpoint(trained):
    import keras
    import numpy as np

    from latentkit.core.errors import TrainingDiverged
    from latentkit.model.fitting import write_checkpoint
    from latentkit.model.networks import build_model
    from latentkit.model.spec import spec_from_dict

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


@pytest.fixture
def small_disk(tmp_path):
    """A real filesystem that fills up: a tmpfs of a given size, grown later with remount ("free space")."""
    mounts = []

    def mount(name: str, size: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", "-l", str(point)], check=False)


def grow(point: Path, size: str = "64m") -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(point)], check=True)


def one_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("latentkit:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith((".tmp", ".partial"))]


def test_disk_full_during_chunk_writes_then_rerun_equals_an_uninterrupted_prepare(small_disk, tmp_path):
    from fixtures.images import make_celeba
    from fixtures.stores import assert_same_store

    from latentkit.core.errors import DISK_FULL_EXIT

    src = make_celeba(tmp_path / "celeba", n=40)
    args = ["prepare", "celeba", src, "--size", "32", "--chunk", "8", "--workers", "1"]
    cli(*args, "--out", tmp_path / "reference.zarr")
    disk = small_disk("disk", "100k")  # metadata and about two of the five 24 kB chunks
    full = cli(*args, "--out", disk / "data.zarr", check=False)
    assert full.returncode == DISK_FULL_EXIT and "no space left on the device" in one_line(full)
    assert "free space and rerun" in one_line(full)
    assert 0 < chunks_done(disk / "data.zarr") < 5  # what was finished stays finished
    grow(disk)
    rerun = cli(*args, "--out", disk / "data.zarr")
    assert "already done" in rerun.stdout
    assert_same_store(tmp_path / "reference.zarr", disk / "data.zarr")
    assert not leftovers(disk)


def test_disk_full_during_a_checkpoint_keeps_the_previous_one_and_the_rerun_resumes(tiny_store, small_disk, tmp_path):
    from latentkit.core.errors import DISK_FULL_EXIT

    args = ["--data", tiny_store, "--job", "demo", *TINY, "--epochs", "2", "--checkpoint-every", "100"]
    cli("train", *args, "--run", tmp_path / "whole")
    size = (tmp_path / "whole" / "checkpoints" / "latest.npz").stat().st_size
    disk = small_disk("disk", f"{int(size * 1.6) // 4096 * 4096 + 64 * 1024}")  # one checkpoint fits, not two
    full = cli("train", *args, "--run", disk / "run", check=False)
    assert full.returncode == DISK_FULL_EXIT and "no space left on the device" in one_line(full)
    kept, _ = checkpoint.load(disk / "run" / "checkpoints")
    assert kept is not None and kept.meta["epoch"] == 1  # the epoch-1 checkpoint is whole and loads
    assert not leftovers(disk)
    grow(disk)
    cli("train", *args, "--run", disk / "run")
    whole, resumed = (checkpoint.load(r / "checkpoints")[0] for r in (tmp_path / "whole", disk / "run"))
    assert resumed.meta["epoch"] == 2
    for a, b in zip(whole.model, resumed.model):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_disk_full_during_a_sync_leaves_no_partial_file_and_the_rerun_completes(trained, small_disk):
    from latentkit.core.errors import DISK_FULL_EXIT

    disk = small_disk("drive", "200k")
    full = cli("sync", trained, disk / "mirror", check=False)
    assert full.returncode == DISK_FULL_EXIT and "no space left on the device" in one_line(full)
    grow(disk)
    cli("sync", trained, disk / "mirror")
    for path in trained.rglob("*"):
        if path.is_file() and not path.name.endswith(".lock"):
            assert (disk / "mirror" / path.relative_to(trained)).read_bytes() == path.read_bytes(), path
    assert not leftovers(disk)


def test_the_fault_harness_short(tmp_path):
    """bench/faults.py, small: every job SIGKILLed (train also SIGTERM/SIGUSR2) and rerun, equal to a clean run."""
    harness = Path(__file__).resolve().parents[1] / "bench" / "faults.py"
    result = subprocess.run(
        [sys.executable, str(harness), "--trials", "1", "--kills", "2", "--small", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "total:" in result.stdout and " 0 mismatches, 0 leftovers" in result.stdout, result.stdout
    rows = [
        line.split()
        for line in result.stdout.splitlines()
        if line.split()[:1]
        and line.split()[0] in ("prepare-synthetic", "prepare-celeba", "train", "encode", "stage", "sync")
    ]
    assert len(rows) == 6 and sum(int(r[2]) + int(r[3]) for r in rows) >= 6  # at least one interruption each, mostly


def test_a_checkpoint_from_another_keras_backend_is_read_not_refused(tiny_store, tmp_path):
    """Checkpoints are plain arrays in Keras' variable order: a JAX run encodes under TensorFlow and back."""
    import zarr

    pytest.importorskip("jax")
    run = tmp_path / "run"
    run_cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        run,
        "--job",
        "demo",
        *TINY,
        "--epochs",
        "1",
        env={"KERAS_BACKEND": "jax"},
    )
    assert checkpoint.load(run / "checkpoints")[0].meta["backend"] == "jax"
    run_cli("encode", "--run", run, "--chunk", "64", "--out", tmp_path / "tf.zarr", env={"KERAS_BACKEND": "tensorflow"})
    run_cli("encode", "--run", run, "--chunk", "64", "--out", tmp_path / "jax.zarr", env={"KERAS_BACKEND": "jax"})
    tf, jax = (zarr.open_group(tmp_path / name, mode="r")["z"][:] for name in ("tf.zarr", "jax.zarr"))
    np.testing.assert_allclose(tf, jax, rtol=1e-4, atol=1e-5)
