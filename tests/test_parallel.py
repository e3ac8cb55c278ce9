"""Data-parallel training (Keras' distribution API on JAX) without a GPU: several host devices
in one process (XLA_FLAGS), and several processes on localhost talking over gloo."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures.commands import run_cli
from fixtures.runs import TINY

from latentkit.model import checkpoint

pytestmark = (
    pytest.mark.system
)  # real processes side by side, killed and signalled (docs/contributing.md, "The fast tier")

JAX = {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
FOUR_DEVICES = {**JAX, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}


def train_args(store: Path, *extra: str) -> list:
    return ["train", "--data", store, "--job", "demo", *TINY, "--epochs", "2", "--checkpoint-every", "3", *extra]


def assert_same_weights(a: Path, b: Path, rtol: float = 2e-4, atol: float = 2e-5) -> None:
    (wa, _), (wb, _) = checkpoint.load(a / "checkpoints"), checkpoint.load(b / "checkpoints")
    assert (wa.meta["epoch"], wa.meta["step"]) == (wb.meta["epoch"], wb.meta["step"])
    for x, y in zip(wa.model, wb.model):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def one_device(tiny_store, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("one") / "run"
    run_cli(*train_args(tiny_store), "--run", run, env=JAX)
    return run


def test_four_host_devices_train_like_one(tiny_store, one_device, tmp_path):
    run = tmp_path / "four"
    result = run_cli(*train_args(tiny_store, "--devices", "all"), "--run", run, env=FOUR_DEVICES)
    assert "Traceback" not in result.stderr
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["devices"] == 4
    assert_same_weights(one_device, run)  # the same global batch of 16, split 4 ways


@pytest.mark.parametrize(
    "env, extra, message",
    [
        ({"KERAS_BACKEND": "tensorflow"}, ["--devices", "2"], "--devices needs the JAX backend"),
        (FOUR_DEVICES, ["--devices", "8"], "--devices 8: this run sees 4 device(s)"),
        (FOUR_DEVICES, ["--devices", "two"], "--devices takes all or a number"),
        (FOUR_DEVICES, ["--devices", "3"], "batch 16 does not divide over 3 devices"),
    ],
)
def test_devices_errors_are_one_line(tiny_store, tmp_path, env, extra, message):
    failed = run_cli(*train_args(tiny_store, *extra), "--run", tmp_path / "r", env=env, check=False)
    assert failed.returncode == 2 and message in failed.stderr and "Traceback" not in failed.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_processes(args: list, n: int = 2, env: dict | None = None) -> list[subprocess.Popen]:
    """``n`` latentkit processes forming one data-parallel run over localhost."""
    port = free_port()
    return [
        subprocess.Popen(
            [sys.executable, "-m", "latentkit", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                **JAX,
                **(env or {}),
                "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
                "KERAS_DISTRIBUTION_NUM_PROCESSES": str(n),
                "KERAS_DISTRIBUTION_PROCESS_ID": str(i),
            },
        )
        for i in range(n)
    ]


def start_at_first_checkpoint(args: list, run: Path) -> list[subprocess.Popen]:
    """Two slowed-down processes of one run, returned once the run's first checkpoint exists."""
    processes = start_processes(args, env={"LATENTKIT_THROTTLE_S": "0.3"})
    deadline = time.monotonic() + 300
    while not (run / "checkpoints" / "latest.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return processes


def finish(processes: list[subprocess.Popen], timeout: float = 600) -> list[str]:
    outputs = [p.communicate(timeout=timeout)[0].decode() for p in processes]
    return outputs


def test_two_processes_stop_together_on_a_signal_and_resume_and_train_like_one_device(tiny_store, one_device, tmp_path):
    """SIGUSR2 reaches one process only: both stop at the same step, one checkpoint is written,
    and the resumed two-process run ends as the uninterrupted single-device one (two processes
    train like one device: every step of this run was taken by both)."""
    run = tmp_path / "two"
    args = [*train_args(tiny_store, "--devices", "all"), "--run", run]
    processes = start_at_first_checkpoint(args, run)
    processes[1].send_signal(signal.SIGUSR2)
    outputs = finish(processes)
    assert [p.returncode for p in processes] == [75, 75], outputs
    saved, _ = checkpoint.load(run / "checkpoints")
    assert 0 < saved.meta["epoch"] * 10 + saved.meta["step"] < 20
    processes = start_processes(args)
    outputs = finish(processes)
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert "trained epoch" in outputs[0] and "resuming" in outputs[0]  # process 0 says what the run did
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["devices"] == 2
    assert_same_weights(one_device, run)


def test_two_processes_killed_resume_from_the_checkpoint(tiny_store, one_device, tmp_path):
    """Both processes SIGKILLed mid-run (a lost node, a preempted job without warning): the rerun
    resumes from process 0's last checkpoint and ends as the uninterrupted single-device run."""
    run = tmp_path / "two"
    args = [*train_args(tiny_store, "--devices", "all"), "--run", run]
    processes = start_at_first_checkpoint(args, run)
    for process in processes:
        process.send_signal(signal.SIGKILL)
    finish(processes)
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] * 10 + saved.meta["step"] < 20  # killed before the end
    processes = start_processes(args)
    outputs = finish(processes)
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert "resuming" in outputs[0]
    assert_same_weights(one_device, run)
