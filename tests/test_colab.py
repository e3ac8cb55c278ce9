"""The Colab way: stage from a slow mount, mirror runs with sync, and the bootstrap notebook
executed headless with two folders standing in for MyDrive and /content."""

import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import TINY, cli, kill_when, make_celeba, start_cli

from latentkit.core.errors import LatentkitError
from latentkit.transfer.mount import BLOCK
from latentkit.transfer.stage import stage

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def big_file(tmp_path) -> Path:
    path = tmp_path / "drive" / "archive.zip"
    path.parent.mkdir()
    path.write_bytes(np.random.default_rng(0).bytes(20 * BLOCK + 12345))
    return path


def test_stage_killed_mid_file_resumes_and_verifies(big_file, tmp_path):
    local = tmp_path / "local" / "archive.zip"
    process = start_cli("stage", big_file, local, env={"LATENTKIT_THROTTLE_S": "0.1"})
    partial = local.with_name("archive.zip.partial")
    kill_when(process, lambda: local.with_name("archive.zip.partial.json").exists())  # 64 MiB recorded
    assert not local.exists()  # nothing under the final name
    result = cli("stage", big_file, local)
    assert sha256(local) == sha256(big_file) and not partial.exists()
    read_mb = float(result.stdout.split("read ")[1].split(" MB")[0])
    assert read_mb <= big_file.stat().st_size / 2**20 - 64  # continued after the recorded blocks, not from zero
    again = cli("stage", big_file, local)
    assert "read 0.0 MB, 1 already valid" in again.stdout


def test_stage_replaces_a_truncated_or_corrupted_copy(big_file, tmp_path):
    local = tmp_path / "local" / "archive.zip"
    stage(big_file, local)
    data = bytearray(local.read_bytes())
    data[BLOCK + 7] ^= 0xFF  # one flipped byte
    local.write_bytes(bytes(data))
    assert stage(big_file, local).copied_bytes == big_file.stat().st_size
    assert sha256(local) == sha256(big_file)
    local.write_bytes(local.read_bytes()[:1000])  # truncated, as an interrupted `cp` leaves it
    stage(big_file, local)
    assert sha256(local) == sha256(big_file)


class FlakyMount:
    """open() of a Drive file whose reads fail as a dropped mount or a quota does."""

    def __init__(self, failures):
        self.failures = list(failures)

    def __call__(self, path, mode="rb", **kwargs):
        if self.failures:
            return Failing(self.failures.pop(0))
        return open(path, mode, **kwargs)


class Failing(io.RawIOBase):
    def __init__(self, code):
        self.code = code

    def readinto(self, _buffer):
        raise OSError(self.code, os.strerror(self.code))

    def seekable(self):
        return True

    def seek(self, *_args):
        return 0


def test_stage_retries_transient_read_errors_then_says_one_line(big_file, tmp_path):
    flaky = FlakyMount([errno.EIO, errno.ENOTCONN, errno.ETIMEDOUT])
    stage(big_file, tmp_path / "a.zip", opener=flaky, backoff=0.01)
    assert sha256(tmp_path / "a.zip") == sha256(big_file) and not flaky.failures
    hopeless = FlakyMount([errno.EIO] * 10)
    with pytest.raises(LatentkitError, match=r"failed after 3 tries: \[Errno 5\]"):
        stage(big_file, tmp_path / "b.zip", opener=hopeless, retries=2, backoff=0.01)


def test_stage_retries_errors_of_the_kernel_copy_and_falls_back_where_it_has_none(big_file, tmp_path, monkeypatch):
    """The real path: os.sendfile from the mount's file. EIO/ENOTCONN there are retried; a
    mount whose files cannot be sent (EINVAL) is copied through a buffer, same bytes."""
    real, calls, failures = os.sendfile, [], [errno.EIO, errno.ENOTCONN]

    def sendfile(out_fd, in_fd, offset, count):
        calls.append(offset)
        if len(calls) == 2 and failures:  # the second block, twice
            calls.pop()
            raise OSError(failures.pop(0), os.strerror(errno.EIO))
        return real(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", sendfile)
    stage(big_file, tmp_path / "a.zip", backoff=0.01)
    assert sha256(tmp_path / "a.zip") == sha256(big_file) and not failures
    assert len(calls) >= big_file.stat().st_size // (8 * 2**20)  # the kernel copied every block

    def unsupported(*_args):
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(os, "sendfile", unsupported)
    assert stage(big_file, tmp_path / "b.zip").copied_bytes == big_file.stat().st_size
    assert sha256(tmp_path / "b.zip") == sha256(big_file)


def test_stage_copies_a_folder(tmp_path):
    src = make_celeba(tmp_path / "drive" / "celeba", n=12)
    result = stage(src, tmp_path / "local" / "celeba")
    assert result.files == 12 + 3
    for path in src.rglob("*"):
        if path.is_file():
            assert sha256(tmp_path / "local" / "celeba" / path.relative_to(src)) == sha256(path)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sync")
    data = root / "s32.zarr"
    cli("prepare", "synthetic", "--n", "240", "--size", "32", "--chunk", "64", "--out", data)
    cli("train", "--data", data, "--run", root / "run", "--job", "demo", *TINY, "--epochs", "1")
    cli("encode", "--run", root / "run", "--chunk", "40", "--batch", "20")
    return root / "run"


def test_sync_mirrors_finished_files_and_skips_unchanged_ones(trained_run, tmp_path):
    mirror = tmp_path / "drive" / "run"
    first = cli("sync", trained_run, mirror)
    assert "0 unchanged" in first.stdout
    for path in trained_run.rglob("*"):
        if path.is_file() and not path.name.endswith((".lock", ".tmp")):  # locks and temp files stay behind
            assert (mirror / path.relative_to(trained_run)).read_bytes() == path.read_bytes()
    assert "0 files copied" in cli("sync", trained_run, mirror).stdout
    restored = tmp_path / "local" / "run"
    cli("sync", mirror, restored)  # Drive -> a new VM's local disk
    assert cli("status", "--run", restored).stdout.count("6 of 6 chunks done") == 1


def test_sync_holds_back_chunks_that_are_not_done(trained_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained_run, copy)
    latents = zarr.open_group(copy / "latents.zarr", mode="r+")
    latents["chunk_done"][2] = 0  # chunk 2 "being written": its files exist, its marker does not
    result = cli("sync", copy, tmp_path / "mirror")
    assert "held back" in result.stdout
    mirrored = tmp_path / "mirror" / "latents.zarr"
    assert not (mirrored / "z" / "c" / "2").exists() and (mirrored / "z" / "c" / "3").exists()
    assert cli("status", "--run", tmp_path / "mirror").stdout.count("missing [2]") == 1


def test_sync_killed_mid_way_leaves_no_partial_file_under_a_final_name(trained_run, tmp_path):
    mirror = tmp_path / "mirror"
    process = start_cli("sync", trained_run, mirror, env={"LATENTKIT_THROTTLE_S": "0.2"})
    kill_when(process, lambda: mirror.exists() and sum(1 for p in mirror.rglob("*") if p.is_file()) >= 4)
    for path in mirror.rglob("*"):
        if path.is_file() and not path.name.endswith(".tmp"):
            assert path.read_bytes() == (trained_run / path.relative_to(mirror)).read_bytes(), path


def test_a_rerun_sync_removes_what_a_killed_sync_left_and_nothing_else(trained_run, tmp_path):
    mirror = tmp_path / "mirror"
    cli("sync", trained_run, mirror)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = mirror / "checkpoints" / f".latest.npz.{finished.stdout.strip()}.tmp"  # its writer is gone
    alive = mirror / f".history.csv.{os.getpid()}.tmp"  # a writer still running (this process)
    mine = mirror / ".my-notes.tmp"  # not atomic_write's name: the user's
    for path in (dead, alive, mine):
        path.write_bytes(b"half a file")
    cli("sync", trained_run, mirror)
    assert not dead.exists() and alive.exists() and mine.exists()


def test_env_reports_the_machine(tmp_path):
    report = json.loads(cli("env", "--json", "--dir", tmp_path).stdout)
    assert report["ram_total_mb"] > 0 and report["disk_free_mb"] > 0 and report["versions"]["latentkit"]
    assert report["gpu"] is None or isinstance(report["gpu"], str)  # n/a without a GPU
    assert report["encode"]["chunk"] in (20_000, 10_000, 5_000, 2_000, 1_000)
    assert "encode     --chunk" in cli("env").stdout


def execute_notebook(drive: Path, local: Path, parameters: dict, tmp_path: Path) -> dict:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "colab" / "bootstrap.ipynb", as_version=4)
    at = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", []))
    injected = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(injected))  # as papermill injects parameters
    os.environ.update({"LATENTKIT_DRIVE": str(drive), "LATENTKIT_LOCAL": str(local)})
    try:
        client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
        client.execute()  # the kernel inherits LATENTKIT_DRIVE and LATENTKIT_LOCAL
    finally:
        for key in ("LATENTKIT_DRIVE", "LATENTKIT_LOCAL"):
            os.environ.pop(key, None)
    return notebook


def _history(run: Path) -> list[dict]:
    import csv

    return list(csv.DictReader((run / "history.csv").open()))


def test_the_notebook_runs_headless_then_a_new_vm_resumes_from_drive(tmp_path):
    drive = tmp_path / "MyDrive"
    make_celeba(drive / "latentkit" / "celeba", n=64, zip_it=True)
    params = {"DATASET": "celeba/img_align_celeba.zip", "SIZE": 32, "JOB": "demo", "EPOCHS": 1,
              "TRAIN_ARGS": " ".join(TINY), "ANALYZE_ARGS": "--no-tsne --no-kmeans --sample 100",
              "INSTALL_FROM": ""}  # fmt: skip
    vm = tmp_path / "content"  # Colab's local disk is /content on every VM
    execute_notebook(drive, vm, params, tmp_path)
    saved = drive / "latentkit" / "runs" / "ae-case1"
    assert (saved / "analysis" / "report.md").exists() and (saved / "checkpoints" / "latest.npz").exists()
    assert [row["epoch"] for row in _history(saved)] == ["1"]

    shutil.rmtree(vm)  # a new VM: empty local disk
    execute_notebook(drive, vm, {**params, "EPOCHS": 2}, tmp_path)
    resumed = _history(saved)
    assert [row["epoch"] for row in resumed] == ["1", "2"]

    reference = tmp_path / "reference"  # the same two epochs without a break
    data = vm / "data.zarr"
    cli("train", "--data", data, "--run", reference, "--job", "demo", *TINY, "--epochs", "2")
    np.testing.assert_allclose([float(r["loss"]) for r in resumed], [float(r["loss"]) for r in _history(reference)],
                               rtol=1e-4)  # fmt: skip
    assert zarr.open_group(saved / "latents.zarr", mode="r").attrs["checkpoint"].startswith("epoch 2")
