"""Splitting a job's units (chunks) over cooperating processes, SLURM arrays included."""

from __future__ import annotations

import os

from latentkit.core import LatentkitError


def resolve_task(task: int | None, tasks: int | None) -> tuple[int, int]:
    """Return ``(task, tasks)``, defaulting to the SLURM array environment.

    ``SLURM_ARRAY_TASK_ID`` need not start at 0 (``--array=1-4``), so it is offset by
    ``SLURM_ARRAY_TASK_MIN``. Outside an array the job is one task of one.
    """
    env = os.environ
    if tasks is None:
        tasks = int(env.get("SLURM_ARRAY_TASK_COUNT", "1"))
    if task is None:
        task = int(env.get("SLURM_ARRAY_TASK_ID", "0")) - int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
    if tasks < 1:
        raise LatentkitError(f"--tasks must be at least 1, got {tasks}")
    if not 0 <= task < tasks:
        raise LatentkitError(f"--task must be in 0..{tasks - 1}, got {task}")
    return task, tasks


def task_units(n_units: int, task: int, tasks: int) -> range:
    """Units owned by ``task``: round-robin, so every task gets work from the start."""
    return range(task, n_units, tasks)
