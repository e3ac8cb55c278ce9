"""Splitting a job's units (chunks) over cooperating processes: the array index a batch engine
hands each task (SLURM, Kubernetes Indexed Jobs, AWS Batch, Google Cloud Batch, LSF, PBS), or
``--task I --tasks N``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from latentkit.core import LatentkitError


@dataclass(frozen=True)
class ArrayEngine:
    """One batch engine's array variables.

    ``count`` is None where the engine hands a task no count (the user passes ``--tasks N``);
    ``first`` is the engine's first index, or ``first_from`` the variable that holds it.
    ``submit`` says how to submit N tasks there (``{n}``, ``{last}`` = N - 1), for the error lines.
    """

    name: str
    index: str
    count: str | None
    submit: str
    first: int = 0
    first_from: str | None = None
    step: str | None = None  # a step other than 1 would skip tasks: refused
    not_an_array: str | None = None  # LSF sets LSB_JOBINDEX=0 in every job that is not an array

    def is_set(self, env: Mapping[str, str]) -> bool:
        value = env.get(self.index, "").strip()
        return value != "" and value != self.not_an_array


ENGINES = (
    # SLURM_ARRAY_TASK_ID need not start at 0 (--array=1-4): offset by SLURM_ARRAY_TASK_MIN.
    ArrayEngine(
        "SLURM",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "sbatch --array=0-{last}",
        first_from="SLURM_ARRAY_TASK_MIN",
    ),
    # No count in the pod: it is the Job's spec.completions.
    ArrayEngine("Kubernetes", "JOB_COMPLETION_INDEX", None, "an Indexed Job with completions: {n}"),
    ArrayEngine("AWS Batch", "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE", "--array-properties size={n}"),
    ArrayEngine("Google Cloud Batch", "BATCH_TASK_INDEX", "BATCH_TASK_COUNT", "taskCount: {n}"),
    # LSF counts from 1 (bsub -J "name[1-N]"); LSB_JOBINDEX_END is the last index, N for [1-N].
    ArrayEngine(
        "LSF",
        "LSB_JOBINDEX",
        "LSB_JOBINDEX_END",
        'bsub -J "name[1-{n}]"',
        first=1,
        step="LSB_JOBINDEX_STEP",
        not_an_array="0",
    ),
    ArrayEngine("PBS Pro", "PBS_ARRAY_INDEX", None, "qsub -J 0-{last}"),
    ArrayEngine("Torque", "PBS_ARRAYID", None, "qsub -t 0-{last}"),
)


def resolve_task(task: int | None, tasks: int | None) -> tuple[int, int]:
    """Return ``(task, tasks)``: the options where given, else the batch engine's array variables.

    Outside an array the job is one task of one. An engine that gives an index but no count
    (Kubernetes, PBS) needs ``--tasks N``: nothing is guessed. Two engines' variables at once,
    or an index outside the N tasks, are refused in one line.
    """
    if task is None or tasks is None:
        task, tasks = _from_engine(os.environ, task, tasks)
    if tasks < 1:
        raise LatentkitError(f"--tasks must be at least 1, got {tasks}")
    if not 0 <= task < tasks:
        raise LatentkitError(f"--task must be in 0..{tasks - 1}, got {task}")
    return task, tasks


def array_engine(env: Mapping[str, str] | None = None) -> ArrayEngine | None:
    """The batch engine whose array variables are set, None outside an array; two at once are refused."""
    env = os.environ if env is None else env
    found = [engine for engine in ENGINES if engine.is_set(env)]
    if len(found) > 1:
        names = ", ".join(f"{e.index} ({e.name})" for e in found)
        raise LatentkitError(
            f"the array variables of more than one batch engine are set: {names}; "
            f"unset all but one, or pass --task I --tasks N"
        )
    return found[0] if found else None


def _from_engine(env: Mapping[str, str], task: int | None, tasks: int | None) -> tuple[int, int]:
    engine = array_engine(env)
    if engine is None:
        return (0 if task is None else task), (1 if tasks is None else tasks)
    if engine.step is not None and env.get(engine.step, "1").strip() not in ("", "1"):
        raise LatentkitError(
            f"{engine.step}={env[engine.step]} ({engine.name}): an array with a step would leave chunks "
            f"undone; submit every index: {engine.submit.format(n='N', last='N-1')}"
        )
    if tasks is None:
        if engine.count is None or not env.get(engine.count, "").strip():
            raise LatentkitError(
                f"{engine.index} is set ({engine.name}) but no task count: pass --tasks N, "
                f"N the number of tasks ({engine.submit.format(n='N', last='N-1')})"
            )
        tasks = _whole_number(env, engine.count)
    if task is None:
        first = engine.first
        if engine.first_from and env.get(engine.first_from, "").strip():
            first = _whole_number(env, engine.first_from)
        index = _whole_number(env, engine.index)
        task = index - first
        if tasks >= 1 and not 0 <= task < tasks:
            raise LatentkitError(
                f"{engine.index}={index} ({engine.name}) is outside the {tasks} tasks' indices "
                f"{first}..{first + tasks - 1}: submit {engine.submit.format(n=tasks, last=tasks - 1)}, "
                f"or pass --tasks N to match the array"
            )
    return task, tasks


def _whole_number(env: Mapping[str, str], name: str) -> int:
    value = env[name].strip()
    try:
        return int(value)
    except ValueError:
        raise LatentkitError(f"{name}={value!r} is not a whole number (it sets --task/--tasks)") from None


def task_units(n_units: int, task: int, tasks: int) -> range:
    """Units owned by ``task``: round-robin, so every task gets work from the start."""
    return range(task, n_units, tasks)
