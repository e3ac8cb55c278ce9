"""Submitting the whole pipeline to SLURM as one chain of jobs, and reading its state back.

prepare (array) -> train (requeue-safe) -> encode (array) -> analyze, each ``afterok`` on the
one before, with ``--kill-on-invalid-dep=yes`` so a failed step cancels what depends on it
instead of leaving it pending forever. A step whose output is complete is not submitted
again. The job ids go to ``RUN/slurm.json`` for ``latentkit status``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from latentkit.core import LatentkitError, RunPaths, check_folder, own_folder, write_json
from latentkit.pipeline.steps import Where, steps_done

SCRIPTS_PACKAGE = "latentkit.slurm_scripts"  # the repository's slurm/ folder, shipped inside the wheel


@dataclass(frozen=True)
class Step:
    """One sbatch job of the chain: a step of the pipeline (``latentkit.pipeline.steps``)."""

    name: str  # prepare | train | encode | analyze
    script: str
    export: dict[str, str]
    array: str | None = None
    done: bool = False


@dataclass
class Submission:
    steps: list[Step]
    commands: list[list[str]] = field(default_factory=list)
    job_ids: dict[str, str] = field(default_factory=dict)


def script_path(name: str) -> Path:
    return Path(str(resources.files(SCRIPTS_PACKAGE) / name))


def plan(
    *,
    run: str | os.PathLike,
    data: str | os.PathLike,
    src: str | None = None,
    synthetic: int | None = None,
    source: str = "celeba",
    job: str | None = None,
    epochs: int | None = None,
    prepare_tasks: int = 1,
    encode_tasks: int = 1,
    chunk: int = 20_000,
    extra_prepare: str = "",
    extra_train: str = "",
    extra_encode: str = "",
    extra_analyze: str = "",
) -> list[Step]:
    """The four steps, each marked done when its output is already complete."""
    if (src is None) == (synthetic is None):
        raise LatentkitError("give exactly one of --from SRC or --synthetic N")
    if prepare_tasks < 1 or encode_tasks < 1:
        raise LatentkitError("--prepare-tasks and --encode-tasks must be at least 1")
    if src is not None and not Path(src).exists():  # refused here, not hours later in a queued prepare
        raise LatentkitError(
            f"--from {src} does not exist (this node sees the cluster's shared storage as the jobs will)"
        )
    paths, data = RunPaths.of(check_folder(Path(run).resolve(), "--run")), Path(data).resolve()
    size = _spec_size(job, extra_train)
    if "--size" not in shlex.split(extra_prepare):  # the store the model will read: its image size
        extra_prepare = " ".join(x for x in (f"--size {size}", extra_prepare) if x)
    prepare_env = {"OUT": str(data), "EXTRA_ARGS": extra_prepare} | (
        {"SOURCE": "synthetic", "N": str(synthetic)}
        if src is None
        else {"SOURCE": source, "SRC": str(Path(src).resolve())}
    )
    train_env = {"DATA": str(data), "RUN": str(paths.root), "JOB": job or "ae-case1"}
    train_env["EXTRA_ARGS"] = " ".join(x for x in (f"--epochs {epochs}" if epochs else "", extra_train) if x)
    sbatch = {  # each step's script, variables and array
        "prepare": ("prepare.sbatch", prepare_env, _array(prepare_tasks)),
        "train": ("train.sbatch", train_env, None),
        "encode": (
            "encode.sbatch",
            {"RUN": str(paths.root), "CHUNK": str(chunk), "EXTRA_ARGS": extra_encode},
            _array(encode_tasks),
        ),
        "analyze": ("analyze.sbatch", {"RUN": str(paths.root), "EXTRA_ARGS": extra_analyze}, None),
    }
    return [Step(name, *sbatch[name], done=done) for name, done in steps_done(Where(data, paths, epochs)).items()]


def _spec_size(job: str | None, extra_train: str) -> int:
    """The image size the train step's spec asks for (its --set overrides included): checked
    now, so an unknown preset is refused at submit, not in a queued job."""
    from latentkit.model import load_spec, parse_set

    words = shlex.split(extra_train)
    sets = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--set"] + [
        w.removeprefix("--set=") for w in words if w.startswith("--set=")
    ]
    return load_spec(job or "ae-case1", parse_set(sets)).model.image_size


def _array(tasks: int) -> str | None:
    return f"0-{tasks - 1}" if tasks > 1 else None


def sbatch_command(step: Step, *, depends_on: str | None, log_dir: Path, sbatch_args: list[str]) -> list[str]:
    log = f"{log_dir}/latentkit-{step.name}-" + ("%A_%a" if step.array else "%j") + ".log"
    command = [
        "sbatch",
        "--parsable",
        "--kill-on-invalid-dep=yes",
        f"--job-name=latentkit-{step.name}",
        f"--output={log}",
    ]
    if depends_on:
        command.append(f"--dependency=afterok:{depends_on}")
    if step.array:
        command.append(f"--array={step.array}" + ("%2" if step.name == "encode" else ""))
    # The step's variables travel in sbatch's environment (--export=ALL): values may hold
    # commas and spaces ("--set model.encoder_filters=[8,16]"), which --export=NAME=value splits.
    command.append("--export=ALL")
    return command + list(sbatch_args) + [str(script_path(step.script))]


def submit(
    steps: list[Step],
    *,
    run: str | os.PathLike,
    sbatch_args: list[str],
    dry_run: bool = False,
    env: dict[str, str] | None = None,
) -> Submission:
    """Submit the steps that are not done, chained; ``dry_run`` only builds the command lines."""
    paths = RunPaths.of(Path(run).resolve())
    if not dry_run and shutil.which("sbatch", path=(env or os.environ).get("PATH")) is None:
        raise LatentkitError("sbatch is not on PATH: run this on a SLURM login node (or use --dry-run)")
    if not dry_run:
        check_fits([s for s in steps if not s.done], sbatch_args, env)
    result = Submission(steps)
    previous = None
    for step in steps:
        if step.done:
            continue
        command = sbatch_command(step, depends_on=previous, log_dir=paths.logs, sbatch_args=sbatch_args)
        result.commands.append(command)
        if dry_run:  # the id sbatch would print, as a shell variable
            previous = f"${step.name.upper()}_ID"
            continue
        own_folder(paths.logs)
        own_folder(paths.root)  # the run's folder: train writes into it next
        done = subprocess.run(command, capture_output=True, text=True, env={**(env or os.environ), **step.export})
        if done.returncode:
            raise LatentkitError(f"sbatch for {step.name} failed: {done.stderr.strip() or done.stdout.strip()}")
        previous = result.job_ids[step.name] = done.stdout.strip().split(";")[0]
    if not dry_run and result.job_ids:
        write_json(paths.slurm_record, {"jobs": result.job_ids, "logs": str(paths.logs)})
    return result


def requests(script: str, sbatch_args: list[str]) -> tuple[int, int]:
    """CPUs per task and memory (MB) a step asks for: its script's #SBATCH lines, then --sbatch-arg."""
    lines = [
        line.removeprefix("#SBATCH").strip()
        for line in script_path(script).read_text().splitlines()
        if line.startswith("#SBATCH")
    ]
    asked = {}
    for arg in [*lines, *sbatch_args]:
        key, _, value = arg.partition("=")
        key = {"-c": "--cpus-per-task"}.get(key, key)
        if key in ("--cpus-per-task", "--mem"):
            asked[key] = value
    return int(asked.get("--cpus-per-task", 1)), _megabytes(asked.get("--mem", "0"))


def _megabytes(text: str) -> int:
    """SLURM's memory units: a number of MB, or with K/M/G/T."""
    number, unit = text.rstrip("KMGTkmgt"), (text[-1:].upper() if text[-1:].isalpha() else "M")
    return int(float(number or 0) * 1024 ** "KMGT".index(unit) / 1024)


def check_fits(steps: list[Step], sbatch_args: list[str], env: dict[str, str] | None = None) -> None:
    """Refuse a chain whose steps ask for more CPUs or memory than any node of the partition has:
    such jobs would sit PENDING (PartitionConfig) for ever. Read from ``sinfo``; skipped without it."""
    if shutil.which("sinfo", path=(env or os.environ).get("PATH")) is None:
        return
    partition = None
    for i, arg in enumerate(sbatch_args):
        if arg.startswith("--partition=") or arg.startswith("-p="):
            partition = arg.partition("=")[2]
        elif arg in ("-p", "--partition") and i + 1 < len(sbatch_args):
            partition = sbatch_args[i + 1]
    shown = subprocess.run(["sinfo", "-h", "-N", "-o", "%P %c %m"], capture_output=True, text=True, env=env)
    nodes = []
    for line in shown.stdout.splitlines():
        name, node_cpus, node_memory = (line.split() + ["", "", ""])[:3]
        default = name.endswith("*")
        if (partition is None and default) or name.rstrip("*") == partition:
            nodes.append((int(node_cpus.rstrip("+") or 0), int(node_memory.rstrip("+") or 0)))
    if not nodes:
        return  # an unknown partition: sbatch itself says so
    where = partition or "the default partition"
    cpus, memory = max(c for c, _ in nodes), max(m for _, m in nodes)
    for step in steps:
        want_cpus, want_mb = requests(step.script, sbatch_args)
        if want_cpus > cpus or want_mb > memory:
            raise LatentkitError(
                f"{step.name} asks for {want_cpus} CPUs and {want_mb:,} MB, the largest node of {where} has {cpus} "
                f"CPUs and {memory:,} MB: it would pend for ever; pass --sbatch-arg=--cpus-per-task={min(want_cpus, cpus)} "
                f"--sbatch-arg=--mem={min(want_mb, memory)}M (or another --sbatch-arg=--partition=...)"
            )


def job_states(run: str | os.PathLike, env: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The recorded job ids with each job's (and array task's) SLURM state, or None."""
    record = RunPaths.of(run).slurm_record
    if not record.exists():
        return None
    import json

    jobs = json.loads(record.read_text())["jobs"]
    if shutil.which("scontrol", path=(env or os.environ).get("PATH")) is None:
        return {"jobs": jobs, "states": None, "note": "scontrol is not on PATH: states n/a"}
    states: dict[str, list[dict[str, str]]] = {}
    for name, job_id in jobs.items():
        shown = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, env=env)
        states[name] = [_fields(line) for line in shown.stdout.splitlines() if line.strip()] or [
            {"JobId": job_id, "JobState": "gone (finished long ago, or never ran)"}
        ]
    return {"jobs": jobs, "states": states}


def _fields(line: str) -> dict[str, str]:
    wanted = ("JobId", "ArrayJobId", "ArrayTaskId", "JobState", "Reason", "ExitCode", "StdOut", "Restarts")
    out = {}
    for token in shlex.split(line):
        key, _, value = token.partition("=")
        if key in wanted:
            out[key] = value
    return out
