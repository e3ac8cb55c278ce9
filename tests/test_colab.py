"""The Colab way: stage from a slow mount, mirror runs with sync, and the bootstrap notebook
executed headless with two folders standing in for MyDrive and /content."""

import errno
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from fixtures.commands import cli, kill_when, start_cli
from fixtures.images import make_celeba
from fixtures.runs import TINY

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


@pytest.mark.system
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


@pytest.mark.system
def test_sync_killed_mid_way_leaves_no_partial_file_under_a_final_name(trained_run, tmp_path):
    mirror = tmp_path / "mirror"
    process = start_cli("sync", trained_run, mirror, env={"LATENTKIT_THROTTLE_S": "0.2"})
    kill_when(process, lambda: mirror.exists() and sum(1 for p in mirror.rglob("*") if p.is_file()) >= 4)
    for path in mirror.rglob("*"):
        if path.is_file() and not path.name.endswith(".tmp"):
            assert path.read_bytes() == (trained_run / path.relative_to(mirror)).read_bytes(), path


@pytest.mark.system
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


def test_lk_runs_several_commands_in_one_process_up_to_the_first_that_fails(tmp_path, capsys):
    """The notebook's ``lk`` given several commands: one process runs them in order, each
    announced by its ``$ latentkit`` line; the first that fails stops the cell with its own
    one line, and the commands after it do not run."""
    from latentkit.notebook.session import NotebookStop, Session

    store = tmp_path / "s.zarr"
    cli("prepare", "synthetic", "--n", "20", "--size", "32", "--out", store)
    session = Session(tmp_path / "drive", tmp_path / "local", "synthetic:20")
    session.lk(f"info {store}", f"env --dir {tmp_path}")
    shown = capsys.readouterr().out
    assert shown.count("$ latentkit ") == 2 and "images     20 of 20" in shown and "RAM" in shown
    with pytest.raises(NotebookStop) as stopped:
        session.lk(f"info {store}", f"info {tmp_path / 'nothing.zarr'}", f"env --dir {tmp_path}")
    assert str(stopped.value).startswith("latentkit: info exited with status 2 (error: ")
    assert "change what the line above says" in str(stopped.value)
    assert capsys.readouterr().out.count("$ latentkit ") == 2  # the third never ran
    with pytest.raises(NotebookStop, match="lk needs a command"):
        session.lk()


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> dict:
    """A Python environment for the notebook's kernel, as a fresh Colab VM has it: the test
    environment's packages (TensorFlow, ipykernel, ...) lent by symlinks, but no latentkit, so
    what runs is what the bootstrap cell installs; and a wheel built from this checkout."""

    pytest.importorskip("nbclient")
    root = tmp_path_factory.mktemp("kernel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", ROOT],
        check=True,
        capture_output=True,
        timeout=900,
    )
    sys.path.insert(0, str(ROOT / "bench"))
    from notebook_output import kernel_environment  # the one way to make it: bench/notebook_output.py's

    jupyter, python = kernel_environment(root, "latentkit-test")
    return {"jupyter": jupyter, "wheel": next((root / "dist").glob("latentkit-*.whl")), "python": python}


def execute_notebook(
    kernel: dict,
    drive: Path,
    local: Path,
    tmp_path: Path,
    *,
    bootstrap: dict,
    parameters: dict | None = None,
    cells: slice = slice(None),
    allow_errors: bool = False,
):
    """Run colab/bootstrap.ipynb headless as a user would: the bootstrap cell's values edited in
    place (as one edits them on Colab), the study's ``parameters`` injected after the cell tagged
    "parameters" (as papermill does), Drive and /content stood in for by two folders."""
    import nbclient
    import nbformat

    notebook = nbformat.read(ROOT / "colab" / "bootstrap.ipynb", as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    for name, value in bootstrap.items():
        first.source, count = re.subn(rf"^{name} = .*?(  #|$)", f"{name} = {value!r}\\1", first.source, flags=re.M)
        assert count == 1, name
    if parameters:
        at = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", []))
        injected = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
        notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(injected))
    notebook.cells = notebook.cells[cells]
    env = {
        "LATENTKIT_DRIVE": str(drive),
        "LATENTKIT_LOCAL": str(local),
        "JUPYTER_PATH": str(kernel["jupyter"]),
        "LATENTKIT_PROGRESS_S": "2",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # the kernel inherits them
    try:
        client = nbclient.NotebookClient(
            notebook,
            timeout=900,
            kernel_name="latentkit-test",
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(tmp_path)}},
        )
        client.execute()
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    return notebook


def text_of(cell) -> str:
    return "".join(
        o.get("text", "")
        + "".join(str(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))
        + "".join(o.get("traceback", []))
        for o in cell.get("outputs", [])
    )


def assert_sized_for_a_notebook(notebook) -> None:
    """Each cell's saved output: at most 100 messages and 20 KB of text (pictures aside), no
    TensorFlow start-up noise, no progress bar redraws."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        text = text_of(cell)
        assert len(cell.outputs) <= 100, (len(cell.outputs), cell.source[:80])
        assert len(text.encode()) < 20_000, (len(text.encode()), cell.source[:80])
        for noise in ("absl::InitializeLog", "cudart_stub", "cuInit", "\r", "\x1b["):
            assert noise not in text, (noise, cell.source[:80], text[-2000:])


def _history(run: Path) -> list[dict]:
    import csv

    return list(csv.DictReader((run / "history.csv").open()))


@pytest.mark.system
def test_the_notebook_runs_with_its_defaults_shows_the_results_and_a_new_vm_resumes(kernel, tmp_path):
    """Defaults everywhere (ae-case1, 96 px, 10 epochs, the newest wheel found on Drive) but the
    dataset; a second Run all on a new VM takes the run back from Drive and trains one epoch more."""
    drive = tmp_path / "MyDrive"
    make_celeba(drive / "latentkit" / "celeba", n=240, zip_it=True)
    old = drive / "latentkit" / "latentkit-0.0.9-py3-none-any.whl"
    old.write_bytes(b"an older wheel: never chosen over 0.1.0")
    shutil.copy(kernel["wheel"], drive / "latentkit")
    vm = tmp_path / "content"  # Colab's local disk is /content on every VM
    first = execute_notebook(kernel, drive, vm, tmp_path, bootstrap={"DATASET": "celeba/img_align_celeba.zip"})
    assert_sized_for_a_notebook(first)
    code = [c for c in first.cells if c.cell_type == "code"]
    assert f"installed latentkit 0.1.0 from {drive / 'latentkit' / kernel['wheel'].name}" in text_of(code[0])
    saved = drive / "latentkit" / "runs" / "img_align_celeba-ae-case1"  # named after the dataset and the preset
    assert (saved / "analysis" / "report.md").exists() and (saved / "findings.json").exists()
    assert (saved / "analysis" / "report.html").exists()
    assert [row["epoch"] for row in _history(saved)] == [str(e) for e in range(1, 11)]
    assert (vm / "img_align_celeba-96px.zarr").exists()  # the store is named after the dataset and the size
    trained = next(c for c in code if 'lk(f"train' in c.source)
    results = next(c for c in code if 'f"findings --run' in c.source)
    assert any("image/png" in o.get("data", {}) for o in trained.outputs)  # the loss curve
    pictures = [o for o in results.outputs if {"image/png", "image/jpeg"} & set(o.get("data", {}))]
    assert len(pictures) == 4, [o.get("output_type") for o in results.outputs]  # radius, components, faces, recons
    assert sum(len(str(o["data"])) for o in pictures) < 600_000  # big face grids shown as JPEG
    assert "| the studies found |" in text_of(results)

    trained_before = _history(saved)
    shutil.rmtree(vm)  # a new VM: empty local disk; Run all again with one epoch more (and, since the first
    # Run all showed the whole analysis, a lighter one, without its figures and quality stage: what this
    # one checks is the resume)
    second = execute_notebook(
        kernel,
        drive,
        vm,
        tmp_path,
        bootstrap={"DATASET": "celeba/img_align_celeba.zip"},
        parameters={"EPOCHS": 11, "ANALYZE_ARGS": "--no-tsne --no-kmeans --no-quality --no-figures --hit-draws 2000"},
    )
    assert_sized_for_a_notebook(second)
    resumed = _history(saved)
    assert [row["epoch"] for row in resumed] == [str(e) for e in range(1, 12)]
    assert resumed[:10] == trained_before  # taken back from Drive, not trained again (exact resumes: test_train)
    assert zarr.open_group(saved / "latents.zarr", mode="r").attrs["checkpoint"].startswith("epoch 11")


@pytest.mark.system
def test_a_size_the_preset_cannot_take_stops_with_what_to_change(kernel, tmp_path):
    """SIZE set by hand gets its own store and run; one the model cannot take stops at train
    with the spec's line and what to do, not "run the cell again"."""
    drive = tmp_path / "MyDrive"
    shutil.copy(kernel["wheel"], (drive / "latentkit").mkdir(parents=True) or drive / "latentkit")
    notebook = execute_notebook(
        kernel,
        drive,
        tmp_path / "content",
        tmp_path,
        bootstrap={"DATASET": "synthetic:300"},
        parameters={"JOB": "demo", "SIZE": 36, "EPOCHS": 1},
        allow_errors=True,
    )
    train = next(c for c in notebook.cells if c.cell_type == "code" and 'lk(f"train' in c.source)
    error = text_of(train)
    assert "latentkit: train exited with status 2 (error: bad job spec: image_size 36 must be divisible" in error
    assert "change what the line above says (in the parameters cell" in error and "Traceback" not in error
    assert (tmp_path / "content" / "synthetic-300-36px.zarr").exists()  # its own store: the 64 px one stays


@pytest.mark.system
def test_the_bootstrap_cell_alone_installs_from_a_git_url(kernel, tmp_path):
    """The cell users paste into any notebook, on its own, installing from a git URL (this checkout)."""
    drive = tmp_path / "MyDrive"
    (drive / "latentkit").mkdir(parents=True)
    url = f"git+file://{ROOT}"
    notebook = execute_notebook(
        kernel,
        drive,
        tmp_path / "content",
        tmp_path,
        cells=slice(0, 2),
        bootstrap={"DATASET": "synthetic:300", "INSTALL": url},
    )
    out = text_of(notebook.cells[1])
    assert f"installed latentkit 0.1.0 from {url}" in out and "$ latentkit env --dir" in out and "RAM " in out, out
    assert "nothing to stage" in out


def test_a_mirror_on_a_dropped_mount_says_how_to_remount_and_catches_up(trained_run, tmp_path):
    """Drive's mount drops mid-run: files that exist answer ENOTCONN. The mirror warns in one line
    with the remount to do, and the next request copies what was missed."""
    from latentkit.core import JobEvents
    from latentkit.transfer.sync import Mirror

    class Said(JobEvents):
        def __init__(self):
            self.lines = []

        def message(self, text):
            self.lines.append(text)

    real, dropped = os.replace, [True]

    def replace(src, dst):
        if dropped[0] and "drive" in str(dst):
            raise OSError(errno.ENOTCONN, os.strerror(errno.ENOTCONN), str(dst))
        return real(src, dst)

    said, mirror = Said(), tmp_path / "drive" / "run"
    os.replace = replace
    try:
        copies = Mirror(trained_run, mirror, said)
        copies.request()
        deadline = time.monotonic() + 60
        while not said.lines and time.monotonic() < deadline:
            time.sleep(0.05)
        dropped[0] = False  # remounted
        copies.close()
    finally:
        os.replace = real
    assert len(said.lines) >= 1 and "force_remount=True" in said.lines[0] and "[Errno 107]" in said.lines[0], said.lines
    assert (mirror / "checkpoints" / "latest.npz").read_bytes() == (
        trained_run / "checkpoints" / "latest.npz"
    ).read_bytes()


def test_a_runs_mirror_on_drive_stays_a_few_large_files(trained_run, tmp_path):
    """Drive handles few large files well and many small ones badly: a run's mirror holds a file
    per latents chunk and array (plus metadata), never one per image. For a 200k-image run at
    encode's --chunk 20000 that is 10 chunks x (z, ok, chunk_done) = 30 chunk files."""
    mirror = tmp_path / "drive" / "run"
    cli("sync", trained_run, mirror)
    latents = [p for p in (mirror / "latents.zarr").rglob("*") if p.is_file()]
    chunk_files = [p for p in latents if "c" in p.relative_to(mirror / "latents.zarr").parts]
    chunks = zarr.open_group(trained_run / "latents.zarr", mode="r").attrs["n"] // 40  # encoded with --chunk 40
    assert len(chunk_files) == 3 * chunks, sorted(str(p) for p in chunk_files)  # z, ok, chunk_done per chunk
    assert len(latents) - len(chunk_files) <= 6  # zarr.json of the group and its arrays, and the mark
    assert sum(1 for p in mirror.rglob("*") if p.is_file()) < 3 * chunks + 40
