"""How many CPUs this process may use: the one answer every thread pool is sized by."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def usable_cpus(cgroup: Path = CGROUP) -> int:
    """The CPUs this process may run on: its affinity mask (what a SLURM allocation's task
    binding, ``taskset`` or a test worker's share leaves it), further capped by its cgroup's CPU
    quota (how containers and some clusters limit a job), rounded up; never every core of the
    machine (``os.cpu_count``): on a SLURM task given 4 of a node's 64 CPUs that would start 64
    threads. Sizing alone changes little (``bench/cpu_share.py``: 0.99 of the time bound to one
    CPU); the binding itself is what keeps two jobs' threads apart (0.11 beside a busy process)."""
    try:
        cpus = max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows: no affinity mask
        cpus = os.cpu_count() or 1
    quota = cgroup_cpus(cgroup)
    return cpus if quota is None else max(1, min(cpus, math.ceil(quota)))


def cgroup_cpus(root: Path = CGROUP) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (quota / period), or None where none is set
    or none can be read: cgroup v2's ``cpu.max`` ("200000 100000"; "max 100000" is none), at this
    process's own cgroup (``/proc/self/cgroup``) or the root; else v1's ``cpu.cfs_quota_us`` over
    ``cpu.cfs_period_us`` (a quota of -1 is none)."""
    places = [root / _own_cgroup().lstrip("/"), root] if root == CGROUP else [root]
    for place in places:
        try:
            max_quota, max_period = (place / "cpu.max").read_text().split()[:2]
            return None if max_quota == "max" else int(max_quota) / int(max_period)
        except (OSError, ValueError):
            pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


def _own_cgroup() -> str:
    """This process's cgroup v2 path ("0::/PATH" in /proc/self/cgroup), "" where there is none."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return ""
    return next((line[3:] for line in lines if line.startswith("0::")), "")
