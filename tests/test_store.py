"""The shared mechanisms every job uses: atomic writes, the chunk runner, store format checks."""

import json

import numpy as np
import pytest
import zarr
from conftest import cli

from latentkit import store
from latentkit.core.atomic import atomic_write, write_json
from latentkit.core.errors import LatentkitError
from latentkit.core.paths import RunPaths
from latentkit.store.chunks import chunk_progress, plan_chunks, run_chunks
from latentkit.store.layout import ArraySpec


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "sub" / "report.json"
    write_json(path, {"a": 1})
    with pytest.raises(RuntimeError), atomic_write(path, "w") as handle:
        handle.write('{"half": ')
        raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.json"]  # no temp left


def test_atomic_write_keeps_the_previous_version(tmp_path):
    path, previous = tmp_path / "latest.bin", tmp_path / "previous.bin"
    for payload in (b"one", b"two", b"three"):
        with atomic_write(path, keep_previous=previous) as handle:
            handle.write(payload)
    assert path.read_bytes() == b"three" and previous.read_bytes() == b"two"


def _store(path, n=10, chunk=3):
    arrays = {"x": ArraySpec((2,), "int32")}
    return store.create_or_open(path, n=n, chunk=chunk, arrays=arrays, attrs={"source": "t"}, identity=("source",))


def _produce(calls):
    def produce(start, stop):
        calls.append(start)
        return {"x": np.stack([np.arange(start, stop)] * 2, axis=1).astype("int32")}

    return produce


def test_chunk_runner_resumes_after_a_failure_and_splits_over_tasks(tmp_path):
    group = _store(tmp_path / "s.zarr")
    produce = _produce([])

    def failing(start, stop):
        if start == 6:
            raise RuntimeError("killed")
        return produce(start, stop)

    with pytest.raises(RuntimeError):
        run_chunks(group, failing, description="t")
    progress = chunk_progress(group)
    assert progress.done.tolist() == [True, True, False, False] and progress.missing == [2, 3]
    assert plan_chunks(group, 1, 2).mine == [1, 3] and plan_chunks(group, 1, 2).todo == [3]

    again: list[int] = []
    result = run_chunks(group, _produce(again), task=1, tasks=2, description="t")
    assert (result.chunks_written, result.chunks_skipped) == (1, 1) and again == [9]
    result = run_chunks(group, _produce(again), description="t")
    assert (result.chunks_written, result.chunks_skipped) == (1, 3) and again == [9, 6]
    assert chunk_progress(group).complete
    np.testing.assert_array_equal(group["x"][:, 0], np.arange(10))
    assert chunk_progress(group).row_mask().all()


def test_every_chunk_is_timed_by_its_own_work_the_last_one_too(tmp_path):
    """Write-behind marks the last chunk right after the one before it: its share of the wall
    time still counts its own production (once it was near zero: 159,884 items/s reported)."""
    import time

    group, seen = _store(tmp_path / "s.zarr"), []
    produce = _produce([])

    def slow(start, stop):
        time.sleep(0.05)
        return produce(start, stop)

    began = time.perf_counter()
    run_chunks(group, slow, description="t", after_write=seen.append)
    wall = time.perf_counter() - began
    assert [c.k for c in seen] == [0, 1, 2, 3]
    assert all(c.seconds >= c.produce_s >= 0.05 for c in seen), [(c.k, c.seconds, c.produce_s) for c in seen]
    # the shares add up to the wall time, no chunk's production counted twice (it once was: the
    # second-to-last chunk's share held the last one's production, which then counted again)
    assert sum(c.seconds for c in seen) <= wall


def test_every_written_chunk_has_its_file_even_all_zeros(tmp_path):
    """A chunk of nothing but the fill value is written too (zarr would skip it): a done chunk
    always has its file, the partial last one included."""
    group = _store(tmp_path / "s.zarr")
    run_chunks(group, lambda start, stop: {"x": np.zeros((stop - start, 2), "int32")}, description="t")
    keys = [group["x"].metadata.encode_chunk_key((k, 0)) for k in range(4)]
    assert all((tmp_path / "s.zarr" / "x" / key).is_file() for key in keys)
    assert store.open_store(tmp_path / "s.zarr")["x"][:].sum() == 0


def test_a_store_of_a_newer_format_is_refused(tmp_path):
    path = tmp_path / "future.zarr"
    _store(path)
    zarr.open_group(path, mode="r+").attrs["format_version"] = store.FORMAT_VERSION + 1
    with pytest.raises(LatentkitError, match="newer than this latentkit reads"):
        store.open_store(path)
    with pytest.raises(LatentkitError, match="newer than this latentkit reads"):
        _store(path)
    result = cli("info", path, check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "upgrade latentkit" in result.stderr


def test_run_paths_name_the_run_directory(tmp_path):
    paths = RunPaths.of(tmp_path)
    assert [
        p.relative_to(tmp_path).as_posix()
        for p in (
            paths.job_spec,
            paths.checkpoints,
            paths.history,
            paths.monitor,
            paths.latents,
            paths.analysis,
            paths.samples,
        )
    ] == ["job.toml", "checkpoints", "history.csv", "monitor.jsonl", "latents.zarr", "analysis", "samples"]


def test_peak_rss_is_the_jobs_own_not_the_process_that_started_it():
    """ru_maxrss carries over fork and exec: a job started by a big process (a pytest worker, a
    notebook kernel) read that process's peak as its own. peak_rss_mb reads the job's own."""
    import subprocess
    import sys

    from latentkit.machine.monitor import peak_rss_mb

    held = bytearray(800 * 2**20)  # touched: 800 MB resident in this process
    assert peak_rss_mb() > 800
    code = (
        "import resource, json\nfrom latentkit.machine.monitor import peak_rss_mb\n"
        "print(json.dumps([peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))"
    )
    own, inherited = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    del held
    assert own < 300 < 800 < inherited  # the kernel's figure would have been this process's 800 MB


def test_usable_cpus_are_the_affinity_mask_a_slurm_allocation_leaves():
    """A process bound to one CPU (as ``taskset`` or a SLURM allocation binds it) sizes its
    thread pools (openTSNE's) for that one, not for every core of the machine."""
    import os
    import subprocess
    import sys

    from latentkit.core import usable_cpus

    assert usable_cpus() == len(os.sched_getaffinity(0))
    first = min(os.sched_getaffinity(0))
    code = "from latentkit.core import usable_cpus; import os; print(usable_cpus(), os.cpu_count())"
    bound = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {first}),
    )
    usable, machine = map(int, bound.stdout.split())
    assert usable == 1 and machine == os.cpu_count()


def test_a_cgroup_cpu_quota_caps_the_usable_cpus(tmp_path):
    """Issue 47: a container's or a cluster's CPU quota, in the kernel's own files: cgroup v2's
    cpu.max ("150000 100000" is 1.5 CPUs, rounded up to 2; "max" is none) and v1's cfs quota
    over its period (-1 is none)."""
    import os

    from latentkit.core.cpus import cgroup_cpus, usable_cpus

    mask = len(os.sched_getaffinity(0))
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpus(tmp_path / "v2") == 1.5 and usable_cpus(tmp_path / "v2") == min(mask, 2)
    (tmp_path / "v2" / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpus(tmp_path / "v2") is None and usable_cpus(tmp_path / "v2") == mask
    (tmp_path / "v1" / "cpu").mkdir(parents=True)
    (tmp_path / "v1" / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "v1" / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpus(tmp_path / "v1") == 0.5 and usable_cpus(tmp_path / "v1") == 1
    (tmp_path / "v1" / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpus(tmp_path / "v1") is None
    assert cgroup_cpus(tmp_path / "nothing") is None


def test_prepare_bound_to_one_cpu_decodes_with_one_thread(tmp_path):
    """Issue 47: prepare sized its threads by every core of the machine; bound to one CPU (as a
    SLURM task given 1 of a node's CPUs) it says it decodes with one."""
    import os
    import subprocess
    import sys

    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (40, 40), (60 * i, 20, 200)).save(folder / f"{i}.png")
    first = min(os.sched_getaffinity(0))
    code = "import sys; from latentkit.cli.main import run; sys.exit(run())"
    bound = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "prepare",
            "images",
            str(folder),
            "--out",
            str(tmp_path / "s.zarr"),
            "--size",
            "32",
        ],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {first}),
    )
    assert bound.returncode == 0, bound.stderr
    assert "prepare: 1 decoding thread (the CPUs this process may use)" in bound.stdout + bound.stderr
