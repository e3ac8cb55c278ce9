"""The CPUs this process may run on."""

from __future__ import annotations

import os


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask (what a SLURM allocation, ``taskset``
    or a test worker's share leaves it), not every core of the machine (``os.cpu_count``).
    Thread pools sized past it take turns on the same cores, and threads that wait for each
    other (openTSNE's) then wait for the cores too: a t-SNE of 600 points took 1.7 s on one
    thread and 11-24 s on two beside a busy process, on two cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows: no affinity mask
        return os.cpu_count() or 1
