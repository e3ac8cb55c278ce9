"""The core room: atomic writes, a run's paths, and the CPUs a process may use (its affinity mask, a cgroup's quota)."""

import json

import pytest

from latentkit.core.atomic import atomic_write, write_json
from latentkit.core.paths import RunPaths


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
