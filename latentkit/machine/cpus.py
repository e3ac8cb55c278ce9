"""The CPUs this process may run on."""

from __future__ import annotations

import os


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask (what a SLURM allocation's task
    binding, ``taskset`` or a test worker's share leaves it), not every core of the machine
    (``os.cpu_count``), so a thread pool (openTSNE's) is no larger than the CPUs it can use.
    Sizing alone changes little (``bench/cpu_share.py``: 0.99 of the time bound to one CPU);
    the binding itself is what keeps two jobs' threads apart (0.11 beside a busy process)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows: no affinity mask
        return os.cpu_count() or 1
