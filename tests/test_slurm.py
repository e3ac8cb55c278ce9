"""The slurm/ scripts on a real local SLURM: job arrays and signal -> checkpoint -> requeue."""

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures.commands import cli, run_cli
from fixtures.images import make_celeba
from fixtures.runs import TINY
from fixtures.stores import assert_identical, assert_same_store
from local_slurm import LocalSlurm, ensure_installed

from latentkit.model import checkpoint

pytestmark = pytest.mark.system  # pytest -m "not system" leaves these out (docs/contributing.md, "The fast tier")

SCRIPTS = Path(__file__).resolve().parent.parent / "slurm"
SMALL = ["--cpus-per-task=1", "--mem=2G"]  # the scripts ask for more than this 2-core node has


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    why = ensure_installed()
    if why:
        if os.environ.get("CI"):  # CI must run against a real SLURM: a missing one is a failure
            pytest.fail(f"no local SLURM in CI: {why}")
        pytest.skip(why)
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    # Jobs find this interpreter's latentkit through PATH.
    cluster.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{cluster.env['PATH']}"
    yield cluster
    cluster.stop()


def test_prepare_array_equals_one_process(slurm, tmp_path):
    root = make_celeba(tmp_path / "c", n=40)
    cli("prepare", "celeba", root, "--out", tmp_path / "one.zarr", "--chunk", "4")
    job = slurm.sbatch(
        *SMALL,
        "--array=1-3",
        f"--output={tmp_path}/prepare-%A_%a.log",
        str(SCRIPTS / "prepare.sbatch"),
        env={"SRC": str(root), "OUT": str(tmp_path / "array.zarr"), "EXTRA_ARGS": "--chunk 4"},
    )
    slurm.wait(job)
    logs = sorted(tmp_path.glob("prepare-*.log"))
    assert len(logs) == 3, logs
    assert_same_store(tmp_path / "one.zarr", tmp_path / "array.zarr")


def test_encode_array_equals_one_process(slurm, tmp_path):
    data = tmp_path / "s32.zarr"
    cli("prepare", "synthetic", "--n", "250", "--size", "32", "--chunk", "64", "--out", data)
    run = tmp_path / "run"
    cli("train", "--data", data, "--run", run, "--job", "demo", *TINY, "--epochs", "1")
    cli("encode", "--run", run, "--chunk", "40", "--batch", "16", "--out", tmp_path / "one.zarr")
    job = slurm.sbatch(
        *SMALL,
        "--array=0-2",
        f"--output={tmp_path}/encode-%A_%a.log",
        str(SCRIPTS / "encode.sbatch"),
        env={"RUN": str(run), "CHUNK": "40", "EXTRA_ARGS": f"--batch 16 --out {tmp_path / 'array.zarr'}"},
    )
    slurm.wait(job)
    assert_identical(tmp_path / "one.zarr", tmp_path / "array.zarr")


def signal_train_mid_run(slurm, tmp_path, **env) -> tuple[Path, Path]:
    """Submit train.sbatch (3 tiny epochs, slowed down), send USR2 once a checkpoint exists, wait."""
    data = tmp_path / "s32.zarr"
    cli("prepare", "synthetic", "--n", "240", "--size", "32", "--chunk", "64", "--out", data)
    run, log = tmp_path / "run", tmp_path / "train.log"
    extra = " ".join(str(a) for a in [*TINY, "--epochs", "3"])
    job = slurm.sbatch(
        *SMALL,
        f"--output={log}",
        str(SCRIPTS / "train.sbatch"),
        env={
            "DATA": str(data),
            "RUN": str(run),
            "JOB": "demo",
            "EXTRA_ARGS": extra,
            "LATENTKIT_THROTTLE_S": "0.3",
            **env,
        },
    )
    deadline = time.monotonic() + 300
    while not (run / "checkpoints" / "latest.npz").exists():  # steps are running
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.5)
    slurm.run("scancel", "--signal=USR2", "--batch", job)  # what --signal=B:USR2@120 sends
    slurm.wait(job, timeout=600)
    while "requeueing job" in log.read_text() and "restart 1" not in log.read_text():  # requeued, not yet restarted
        assert time.monotonic() < deadline + 600, log.read_text()
        time.sleep(1.0)
        slurm.wait(job, timeout=600)
    return run, log


def test_train_usr2_checkpoints_requeues_and_resumes(slurm, tmp_path):
    run, log = signal_train_mid_run(slurm, tmp_path)
    text = log.read_text()
    assert "requeueing job" in text and "restart 1" in text, text
    assert "resuming" in text
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] == 3 and len(saved.meta["history"]) == 3


def submit_args(root: Path, *extra: str) -> list:
    return [
        "slurm",
        "submit",
        "--run",
        root / "run",
        "--data",
        root / "data.zarr",
        "--synthetic",
        "250",
        "--prepare-tasks",
        "2",
        "--prepare-args",
        "--size 32 --chunk 64",
        "--job",
        "demo",
        "--train-args",
        " ".join(map(str, [*TINY, "--epochs", "1"])),
        "--encode-tasks",
        "3",
        "--chunk",
        "40",
        "--encode-args",
        "--batch 20",
        "--analyze-args",  # what is tested here is the chain, not the analysis (test_analyze)
        "--no-tsne --no-kmeans --no-figures --no-quality --no-report --sample 100",
        "--sbatch-arg=--cpus-per-task=1",
        "--sbatch-arg=--mem=2G",
        *extra,
    ]


def test_dry_run_prints_the_chain(tmp_path):
    out = cli(*submit_args(tmp_path, "--dry-run")).stdout
    from latentkit.pipeline.slurm import script_path

    text = out.replace(str(tmp_path.resolve()), "ROOT").replace(str(script_path("x").parent), "SCRIPTS")
    assert text == (Path(__file__).parent / "golden" / "slurm_dry_run.txt").read_text()


def test_submitted_chain_completes_and_equals_serial_runs(slurm, tmp_path):
    result = run_cli(*submit_args(tmp_path), env=slurm.env)
    ids = dict(part.split(" ") for part in result.stdout.splitlines()[0].removeprefix("submitted ").split(", "))
    assert list(ids) == ["prepare", "train", "encode", "analyze"]
    slurm.wait(ids["analyze"], timeout=900)
    status = run_cli("status", "--run", tmp_path / "run", env=slurm.env).stdout
    for name in ids:
        assert f"slurm    {name} {ids[name]}: COMPLETED" in status, status
    assert (tmp_path / "run" / "analysis" / "report.json").exists()
    cli("prepare", "synthetic", "--n", "250", "--size", "32", "--chunk", "64", "--out", tmp_path / "serial.zarr")
    assert_same_store(tmp_path / "serial.zarr", tmp_path / "data.zarr")
    cli("encode", "--run", tmp_path / "run", "--chunk", "40", "--batch", "20", "--out", tmp_path / "serial_z.zarr")
    assert_identical(tmp_path / "serial_z.zarr", tmp_path / "run" / "latents.zarr")
    again = run_cli(*submit_args(tmp_path), env=slurm.env).stdout
    assert "every step is complete: nothing submitted" in again


def test_a_failed_array_task_stops_the_chain_and_status_names_it(slurm, tmp_path):
    import shutil

    data, run = tmp_path / "data.zarr", tmp_path / "run"
    cli("prepare", "synthetic", "--n", "250", "--size", "32", "--chunk", "64", "--out", data)
    cli("train", "--data", data, "--run", run, "--job", "demo", *TINY, "--epochs", "1")
    chunk = data / "images" / "c" / "1" / "0" / "0" / "0"  # rows 64..127: encode task 1 of 2 reads them
    chunk.write_bytes(b"not zstd at all" * 10)
    args = submit_args(tmp_path)
    args[args.index("--encode-tasks") + 1] = "2"
    result = run_cli(*args, env=slurm.env).stdout
    assert "prepare  already complete" in result and "train    already complete" in result
    ids = dict(part.split(" ") for part in result.splitlines()[-2].removeprefix("submitted ").split(", "))
    slurm.wait(ids["encode"], timeout=600)
    slurm.wait(ids["analyze"], timeout=120)  # cancelled by --kill-on-invalid-dep, not pending forever
    status = run_cli("status", "--run", run, env=slurm.env).stdout
    assert "slurm    encode task 1 FAILED" in status, status
    assert not (run / "analysis" / "report.json").exists()
    assert "COMPLETED" not in status.split("slurm    analyze")[1].splitlines()[0]
    shutil.rmtree(run / "latents.zarr", ignore_errors=True)


def test_train_stops_requeueing_at_the_cap(slurm, tmp_path):
    run, log = signal_train_mid_run(slurm, tmp_path, MAX_REQUEUES="0")
    text = log.read_text()
    assert "requeue cap reached (0 of MAX_REQUEUES=0)" in text and "requeueing job" not in text, text
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] < 3  # stopped, checkpointed, not resumed


def test_srun_two_tasks_train_data_parallel_like_one_device(slurm, tmp_path):
    """train.sbatch with DEVICES=all: srun starts one process per task, jax.distributed reads
    the SLURM environment, and the two processes train like one device with the same batch."""
    data = tmp_path / "s32.zarr"
    cli("prepare", "synthetic", "--n", "240", "--size", "32", "--chunk", "64", "--out", data)
    jax_cpu = {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    args = [*TINY, "--epochs", "2"]
    run_cli("train", "--data", data, "--run", tmp_path / "one", "--job", "demo", *args, env=jax_cpu)
    run, log = tmp_path / "two", tmp_path / "train.log"
    job = slurm.sbatch(
        "--ntasks=2",
        "--cpus-per-task=1",
        "--mem=4G",
        f"--output={log}",
        str(SCRIPTS / "train.sbatch"),
        env={
            "DATA": str(data),
            "RUN": str(run),
            "JOB": "demo",
            "DEVICES": "all",
            "EXTRA_ARGS": " ".join(map(str, args)),
            **jax_cpu,
        },
    )
    slurm.wait(job, timeout=600)
    text = log.read_text()
    assert "trained epochs 1-2" in text, text[-3000:]
    (one, _), (two, _) = checkpoint.load(tmp_path / "one" / "checkpoints"), checkpoint.load(run / "checkpoints")
    assert two.meta["devices"] == 2 and two.meta["epoch"] == 2
    for a, b in zip(one.model, two.model):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


def test_a_chain_the_partition_cannot_hold_is_refused_at_submit(slurm, tmp_path):
    """The scripts ask for 4 CPUs and 16 GB for train; this node has fewer: without the fix the
    chain would sit PENDING (PartitionConfig) for ever. One line names the fix; nothing is queued."""
    args = [a for a in submit_args(tmp_path) if not str(a).startswith("--sbatch-arg")]
    result = cli(*args, env=slurm.env, check=False)
    lines = [line for line in result.stderr.splitlines() if line.startswith("latentkit:")]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "the largest node of the default partition has" in lines[0] and "--sbatch-arg=--cpus-per-task=" in lines[0]
    assert not (tmp_path / "run").exists()  # no logs folder, no slurm.json: nothing went to sbatch


def test_status_explains_a_pending_reason_that_waiting_will_not_end():
    from latentkit.cli.console import slurm_lines

    lines = slurm_lines(
        {
            "jobs": {"train": "12"},
            "states": {"train": [{"JobId": "12", "JobState": "PENDING", "Reason": "PartitionConfig"}]},
        }
    )
    assert lines[0] == "slurm    train 12: PENDING"
    assert lines[1].startswith("slurm    train pending (PartitionConfig): it asks for more CPUs or memory")
    assert "--sbatch-arg=--cpus-per-task=N" in lines[1]


def test_submit_prepares_the_image_size_the_spec_trains_on(tmp_path):
    out = cli(
        "slurm",
        "submit",
        "--run",
        tmp_path / "r",
        "--data",
        tmp_path / "d.zarr",
        "--synthetic",
        "100",
        "--job",
        "demo",
        "--dry-run",
    ).stdout
    assert "EXTRA_ARGS='--size 64'" in out.splitlines()[0]  # the demo preset's 64 px, not prepare's default 96
    out = cli(
        "slurm",
        "submit",
        "--run",
        tmp_path / "r",
        "--data",
        tmp_path / "d.zarr",
        "--synthetic",
        "100",
        "--job",
        "demo",
        "--train-args",
        "--set model.image_size=32",
        "--dry-run",
    ).stdout
    assert "EXTRA_ARGS='--size 32'" in out.splitlines()[0]
