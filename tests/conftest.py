"""Fixtures: a CelebA look-alike in CelebA's real formats, built at test time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import zarr
from PIL import Image

ATTRIBUTES = [
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
]
CORRUPT, GRAY = 5, 7  # file numbers (1-based) of the corrupt and the grayscale JPEG


# The longest modules first. pytest-xdist hands out whole files in collection order (--dist
# loadfile --no-loadscope-reorder; by default it hands out the files with the most tests first):
# a long file handed out last runs alone at the end while the other worker waits. The order:
# each file's summed durations in a full run (BENCHMARKS.md, "Stop 43").
SLOWEST_FIRST = (
    "test_colab.py",
    "test_slurm.py",
    "test_parallel.py",
    "test_gpu_check.py",
    "test_train.py",
    "test_generate.py",
    "test_outside_models.py",
    "test_quality.py",
    "test_faults.py",
    "test_studies.py",
    "test_vram.py",
    "test_bad_input.py",
    "test_encode.py",
    "test_analyze.py",
    "test_look.py",
)


def pytest_configure(config):
    """One JAX compilation cache for the session's processes (the controller sets it before the
    workers start; they and every process they start inherit it): a training process on JAX
    compiles the same small programs as the one before it (what that saves: bench/jax_cache.py,
    in BENCHMARKS.md). Removed at the end. A worker first takes its share of the CPUs."""
    import tempfile

    if hasattr(config, "workerinput"):
        _pin_to_a_share_of_the_cpus(
            int(config.workerinput["workerid"].removeprefix("gw")), int(config.workerinput["workercount"])
        )
        return
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    config._jax_cache = tempfile.mkdtemp(prefix="latentkit-tests-jax-cache-")
    os.environ.update(
        {
            "JAX_COMPILATION_CACHE_DIR": config._jax_cache,
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
        }
    )


def _pin_to_a_share_of_the_cpus(worker: int, workers: int) -> None:
    """Each xdist worker, and every process it starts, runs on its own share of the CPUs (one
    core each on a 2-core machine), as one job on a SLURM node runs on its allocation. Without
    it the threads of one worker's libraries (openTSNE, OpenBLAS, TensorFlow) spread over every
    core and collide with the other worker's: a t-SNE beside a busy process took 9x as long
    (``bench/cpu_share.py``). ``latentkit.core.usable_cpus`` sizes openTSNE's threads to the share."""
    if not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= workers > 1:
        os.sched_setaffinity(0, cpus[worker::workers])


# the CPUs this process was given before a worker took its share (conftest loads before configure)
WHOLE_MACHINE = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def every_cpu() -> None:
    """For a process that stands for a machine of its own (the local SLURM's daemons, which
    count the node's CPUs): the whole machine again, not the test worker's share."""
    if WHOLE_MACHINE:
        os.sched_setaffinity(0, WHOLE_MACHINE)


def pytest_unconfigure(config):
    import shutil

    if getattr(config, "_jax_cache", None):
        shutil.rmtree(config._jax_cache, ignore_errors=True)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's tests keep their order


def make_celeba(root: Path, n: int = 40, *, zip_it: bool = False) -> Path:
    """Write n 178x218 JPEGs named 000001.jpg... plus CRLF partition and attribute files.

    Returns the folder holding ``img_align_celeba/`` or, with ``zip_it``, the zip path
    (annotation files beside it, as users keep them on Drive).
    """
    rng = np.random.default_rng(0)
    images = root / "img_align_celeba"
    images.mkdir(parents=True)
    yy, xx = np.mgrid[0:218, 0:178]
    for i in range(1, n + 1):
        name = images / f"{i:06d}.jpg"
        if i == CORRUPT:
            name.write_bytes(b"\xff\xd8\xff\xe0" + rng.bytes(500))  # JPEG magic, garbage after
            continue
        base = rng.integers(0, 255, 3)
        pixels = (base + 60 * np.sin(xx[..., None] / (5 + i) + yy[..., None] / 17 + np.arange(3))).clip(0, 255)
        image = Image.fromarray(pixels.astype(np.uint8), "RGB")
        (image.convert("L") if i == GRAY else image).save(name, quality=90)
    splits = [0 if i <= n * 0.6 else (1 if i <= n * 0.8 else 2) for i in range(1, n + 1)]
    (root / "list_eval_partition.txt").write_bytes(
        "".join(f"{i:06d}.jpg {s}\r\n" for i, s in zip(range(1, n + 1), splits)).encode()
    )
    values = rng.choice([-1, 1], size=(n, len(ATTRIBUTES)))
    rows = [f"{i:06d}.jpg " + " ".join(f"{v:2d}" for v in row) for i, row in zip(range(1, n + 1), values)]
    text = f"{n}\r\n" + " ".join(ATTRIBUTES) + " \r\n" + "\r\n".join(rows) + "\r\n"
    (root / "list_attr_celeba.txt").write_bytes(text.encode())
    np.save(root / "expected_attributes.npy", values)
    if not zip_it:
        return root
    archive = root / "img_align_celeba.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for path in sorted(images.iterdir()):
            z.write(path, f"img_align_celeba/{path.name}")
    for path in images.iterdir():
        path.unlink()
    images.rmdir()
    return archive


@pytest.fixture
def celeba_folder(tmp_path: Path) -> Path:
    return make_celeba(tmp_path / "celeba")


@pytest.fixture
def celeba_zip(tmp_path: Path) -> Path:
    return make_celeba(tmp_path / "drive", zip_it=True)


def cli(*args, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """``latentkit ARGS`` in this process, through the console script's own entry (``run``):
    the exit status, stdout and stderr, as ``run_cli`` gives them, in milliseconds rather than
    the ~10 s a fresh process takes to import TensorFlow. For whatever needs no process of its
    own: refused commands, one-line errors, quick jobs. ``env`` is set for the call only."""
    import contextlib
    import io
    import traceback

    from latentkit.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    saved = {key: os.environ.get(key) for key in (env or {})}
    os.environ.update({key: str(value) for key, value in (env or {}).items()})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run([str(a) for a in args])
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 1
            except Exception:  # what a user would see: a traceback and exit 1
                traceback.print_exc()
                code = 1
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    result = subprocess.CompletedProcess(["latentkit", *map(str, args)], code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"latentkit {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_cli(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """``latentkit ARGS`` in a fresh process: for signals, backends, allocator settings, locks
    held by another pid, and whatever must start with nothing loaded."""
    result = subprocess.run(
        [sys.executable, "-m", "latentkit", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"latentkit {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def cli_in_a_fresh_process(*commands: list, env: dict | None = None) -> list[subprocess.CompletedProcess]:
    """Each of ``commands`` through ``cli()``, one after the other, in one fresh process: for
    commands that must meet nothing this process has loaded (a custom class Keras registered
    here, another Keras backend through ``env``), at one start-up for all of them instead of one each."""
    import json

    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from conftest import cli; "
        "print(json.dumps([[r.returncode, r.stdout, r.stderr] for r in "
        "(cli(*c, check=False) for c in json.loads(sys.argv[2]))]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent), json.dumps([[str(a) for a in c] for c in commands])],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return [
        subprocess.CompletedProcess(["latentkit", *map(str, c)], *r)
        for c, r in zip(commands, json.loads(done.stdout.splitlines()[-1]))
    ]


def start_cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "latentkit", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )


def kill_when(process: subprocess.Popen, ready, timeout: float = 300) -> None:
    """SIGKILL ``process`` as soon as ``ready()`` is true; fail if it ends first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"process ended before the kill point:\n{process.stdout.read().decode()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("kill point never reached")
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def chunks_done(path: Path) -> int:
    try:
        return int(zarr.open_group(path, mode="r")["chunk_done"][:].sum())
    except Exception:  # not created yet
        return 0


def assert_same_store(a: Path, b: Path, *, ignore_attrs: tuple[str, ...] = ()) -> None:
    ga, gb = zarr.open_group(a, mode="r"), zarr.open_group(b, mode="r")
    assert sorted(ga.array_keys()) == sorted(gb.array_keys())
    for key in ga.array_keys():
        np.testing.assert_array_equal(ga[key][:], gb[key][:], err_msg=key)
    strip = lambda attrs: {k: v for k, v in attrs.items() if k not in ignore_attrs}  # noqa: E731
    assert strip(dict(ga.attrs)) == strip(dict(gb.attrs))


# A model small enough to train in seconds: as CLI options and as spec overrides.
TINY = [
    "--set",
    "model.image_size=32",
    "--set",
    "model.z_dim=8",
    "--set",
    "model.encoder_filters=[8,16]",
    "--set",
    "model.encoder_kernels=[3,3]",
    "--set",
    "model.encoder_strides=[2,2]",
    "--set",
    "model.decoder_filters=[8,3]",
    "--set",
    "model.decoder_kernels=[3,3]",
    "--set",
    "model.decoder_strides=[2,2]",
    "--batch",
    "16",
]
TINY_OVERRIDES = {
    "model.image_size": 32,
    "model.z_dim": 8,
    "model.encoder_filters": [8, 16],
    "model.encoder_kernels": [3, 3],
    "model.encoder_strides": [2, 2],
    "model.decoder_filters": [8, 3],
    "model.decoder_kernels": [3, 3],
    "model.decoder_strides": [2, 2],
    "train.batch": 16,
}


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    """240 synthetic 32 px faces in chunks of 64 (the last one partial), made once for the
    session. Tests read it; a test that needs to change a store copies it first."""
    from latentkit.ingest.prepare import prepare_synthetic

    path = tmp_path_factory.mktemp("data") / "s32.zarr"
    prepare_synthetic(out=path, n=240, size=32, chunk=64)
    return path


@pytest.fixture(scope="session")
def tiny_ae(tiny_store, tmp_path_factory) -> Path:
    """The demo preset shrunk to TINY, trained one epoch on ``tiny_store``, encoded in chunks of
    64 and analyzed (no t-SNE, k-means or figures): made once. Tests that write into a run use
    ``copy_run`` first."""
    from latentkit.analysis.analyze import AnalyzeOptions, analyze
    from latentkit.model.encode import encode
    from latentkit.model.train import train

    run = tmp_path_factory.mktemp("tiny-ae") / "run"
    train(data=tiny_store, run=run, job="demo", overrides={**TINY_OVERRIDES, "train.epochs": 1})
    encode(run=run, chunk=64)
    analyze(
        latents=run / "latents.zarr",
        out=run / "analysis",
        options=AnalyzeOptions(tsne=False, kmeans=False, figures=False, generator_samples=500),
    )
    return run


def copy_run(run: Path, to: Path, *, trained_only: bool = False) -> Path:
    """A copy of ``run`` at ``to`` (``trained_only``: its spec and checkpoints, not its latents or analysis)."""
    import shutil

    ignore = shutil.ignore_patterns("latents.zarr", "analysis", "locks") if trained_only else None
    shutil.copytree(run, to, ignore=ignore)
    return to


def read_latents(path: Path) -> dict[str, np.ndarray]:
    group = zarr.open_group(path, mode="r")
    return {key: group[key][:] for key in group.array_keys() if key != "chunk_done"}


def assert_identical(a: Path, b: Path) -> None:
    la, lb = read_latents(a), read_latents(b)
    assert sorted(la) == sorted(lb)
    for key in la:
        assert la[key].tobytes() == lb[key].tobytes(), key  # bitwise


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium driven by Selenium (Debian's chromium and chromium-driver,
    installed here when missing and this is root with apt); skipped, saying why, only where
    no browser can be installed. Its console log is kept ("goog:loggingPrefs")."""
    import shutil

    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            quiet = {"capture_output": True, "timeout": 900, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
            subprocess.run(["apt-get", "update", "-qq"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], **quiet)
        if not (shutil.which("chromium") and shutil.which("chromedriver")):
            pytest.skip(
                "no chromium/chromedriver and they cannot be installed here (apt-get install chromium "
                "chromium-driver as root)"
            )
    options = webdriver.ChromeOptions()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()
