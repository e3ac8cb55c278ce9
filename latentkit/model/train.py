"""The train job: stream the store through the model, checkpoint atomically, resume exactly.

The loop is ours rather than ``fit``'s so a resumed run continues mid-epoch: the order of
epoch e is drawn from (seed, e), the checkpoint holds the epoch and the step, and a
resumed run skips the batches already done (BackupAndRestore would redo the epoch).
SIGTERM, SIGUSR1 and SIGUSR2 ask for a checkpoint at the next step boundary, after which
the job exits with ``INTERRUPTED_EXIT`` so a batch script can requeue it.

This module checks every argument (spec, resume, store, memory budget) without a backend;
``fitting`` holds what runs on Keras: the dataset, the epochs, the checkpoints (what each
epoch measures beside the loss: ``epoch_measures``).
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from latentkit.core import JobEvents, LatentkitError, RunPaths, check_folder, own_folder
from latentkit.model import checkpoint
from latentkit.model.memory import check_budget, estimate_train_mb
from latentkit.model.parallel import parse_devices
from latentkit.model.results import TrainResult
from latentkit.model.spec import JobSpec, load_spec, spec_from_dict
from latentkit.store import get_array, open_store, run_lock, select_rows

RESUMABLE_CHANGES = {"epochs", "checkpoint_every", "steps_per_execution", "keep_epochs", "keep_every"}  # train fields a
# resumed run may change; a run started --from a kept checkpoint may change every train field (lr, batch, ...) and
BRANCH_MODEL_CHANGES = {"kl_factor", "eps_factor"}  # these model fields (the loss's weights, not the weights' shapes)


def resolve_spec(paths: RunPaths, job: str | None, overrides: dict[str, Any]) -> JobSpec:
    """The spec a run uses: --job if given, else the run's own job.toml, else ae-case1."""
    if job is not None:
        return load_spec(job, overrides)
    if paths.job_spec.is_file():
        return load_spec(paths.job_spec, overrides)
    return load_spec("ae-case1", overrides)


def check_resume(spec: JobSpec, saved: dict[str, Any], *, branch: bool = False) -> None:
    """Refuse a resume whose spec changes the model's shape or (``branch`` False) the data order."""
    old = spec_from_dict(saved)
    changed = [
        f"model.{k}: {v!r} -> {getattr(spec.model, k)!r}"
        for k, v in vars(old.model).items()
        if getattr(spec.model, k) != v and not (branch and k in BRANCH_MODEL_CHANGES)
    ]
    changed += [
        f"train.{k}: {v!r} -> {getattr(spec.train, k)!r}"
        for k, v in vars(old.train).items()
        if not branch and k not in RESUMABLE_CHANGES and getattr(spec.train, k) != v
    ]
    if changed:
        raise LatentkitError(
            "this run's checkpoint was made with another spec (" + "; ".join(changed) + "): "
            "use a new --run, or resume with the run's own spec (leave out --job)"
        )


def branch_changes(spec: JobSpec, saved: dict[str, Any]) -> str:
    """What a run started --from changes of the checkpoint's settings, in words ('train.lr: 0.002 -> 0.0001')."""
    old = spec_from_dict(saved)
    changes = [
        f"model.{k}: {getattr(old.model, k)!r} -> {getattr(spec.model, k)!r}"
        for k in sorted(BRANCH_MODEL_CHANGES)
        if getattr(old.model, k) != getattr(spec.model, k)
    ]
    changes += [
        f"train.{k}: {v!r} -> {getattr(spec.train, k)!r}"
        for k, v in vars(old.train).items()
        if k not in RESUMABLE_CHANGES and getattr(spec.train, k) != v
    ]
    return "; ".join(changes)


def train(
    *,
    data: str | os.PathLike,
    run: str | os.PathLike,
    job: str | None = None,
    overrides: dict[str, Any] | None = None,
    events: JobEvents | None = None,
    mirror: str | os.PathLike | None = None,
    max_vram: str | None = None,
    devices: str | int | None = None,
    start_from: str | os.PathLike | None = None,
) -> TrainResult:
    """Train (or resume training) the model of ``job`` on the store ``data`` into ``run``.

    ``mirror``: a folder (on Drive, on cluster storage) that gets a copy of the run after
    every checkpoint, on a background thread (``latentkit.transfer.sync.Mirror``).
    ``max_vram``: refuse up front when the estimated device memory of a step is larger.
    Out of GPU memory during a step raises ``GpuOutOfMemory`` (exit 71): the last checkpoint
    stays as it was (a failed step's device state is not trusted) and a rerun resumes there.
    ``devices``: "all" or a count: data-parallel training on the JAX backend
    (``latentkit.model.parallel``), across the processes of a multi-process launch too.
    ``start_from``: a kept checkpoint (``--keep-epochs``: RUN/checkpoints/epoch_NNNN.npz; best.npz) a new
    run starts from: its weights, optimizer state, epoch and history, under this call's spec
    (the model's shape must match; the learning rate, batch, KL factor and eps factor may
    change, and take effect: the rate restored with the optimizer's state is replaced by the
    spec's). The studies went back so to the epoch before a jump. ``run`` must be new, or the
    same command's own run (rerun to resume it); any other run is refused.
    """
    events = events or JobEvents()
    paths = RunPaths.of(check_folder(run, "--run"))
    if paths.imported.exists():
        raise LatentkitError(
            f"{run} holds an imported model (`latentkit import-model`): latentkit trains only the "
            f"runs it made; encode, analyze and generate use this one as it is"
        )
    saved, warning = checkpoint.load(paths.checkpoints)
    if warning:
        events.message(f"warning: {warning}")
    origin = None if start_from is None else str(Path(start_from).resolve())
    if origin is not None and saved is not None and saved.meta.get("started_from") != origin:
        raise LatentkitError(
            f"--from starts a new run, and {run} is a run of its own ({checkpoint.describe(saved.meta)}): "
            f"give --from a new --run, or leave out --from to resume {run}"
        )
    if origin is not None and saved is None:  # a new run from a kept checkpoint: its spec, changed by overrides
        assert start_from is not None  # origin is its resolved path
        saved = checkpoint.read_kept(start_from)
        spec = (
            resolve_spec(paths, job, overrides or {})
            if job or paths.job_spec.is_file()
            else spec_from_dict(saved.meta["spec"], overrides or {})
        )
        check_resume(spec, saved.meta["spec"], branch=True)
        events.message(
            f"starting from {start_from}: epoch {saved.meta['epoch']}, its weights, optimizer and history; "
            f"{branch_changes(spec, saved.meta['spec']) or 'the same settings'}"
        )
    else:  # a new run, or a resume (of a run started --from, too: the same command run again)
        spec = resolve_spec(paths, job, overrides or {})
        if saved is not None:
            check_resume(spec, saved.meta["spec"])
    check_store(data, spec)
    if mirror is not None:
        check_folder(mirror, "--mirror")
    if max_vram is not None:
        check_budget(
            *estimate_train_mb(spec.model, spec.train.batch),
            max_vram=max_vram,
            what=f"a training step of batch {spec.train.batch}",
        )
    if devices is not None:
        parse_devices(devices)
    if saved is not None and saved.meta["step"] == 0 and saved.meta["epoch"] >= spec.train.epochs:
        events.message(
            f"{paths.root} is already trained to epoch {saved.meta['epoch']} of {spec.train.epochs}: "
            f"nothing to do (--epochs N trains on to epoch N)"
        )
        epoch = saved.meta["epoch"]
        return TrainResult(False, epoch, 0, saved.meta["history"], epoch)
    # Every argument checked: now the backend.
    from latentkit.model.fitting import open_dataset, run_epochs
    from latentkit.model.parallel import SINGLE
    from latentkit.model.parallel import start as start_parallel

    parallel = start_parallel(devices, batch=spec.train.batch) if devices is not None else SINGLE
    if not parallel.writes:
        events = JobEvents()  # one process speaks for the run
    dataset = open_dataset(data, spec, parallel)
    own_folder(paths.root)
    started_from = origin if origin is not None or saved is None else saved.meta.get("started_from")
    # One writer per run: a second train on it is refused (the other processes of a
    # data-parallel run write nothing and take no lock).
    with run_lock(paths.root, "train", warn=events.message) if parallel.writes else nullcontext():
        return run_epochs(
            paths,
            spec,
            saved,
            parallel,
            dataset,
            data=data,
            events=events,
            mirror=mirror,
            started_from=started_from,
        )


def check_store(data: str | os.PathLike, spec: JobSpec) -> None:
    """The store fits the model and holds a batch of its partition (read without a backend)."""
    group = open_store(data, holds="images")
    shape = tuple(get_array(group, "images").shape[1:])
    if shape != (spec.model.image_size, spec.model.image_size, 3):
        side, want = shape[0], spec.model.image_size
        raise LatentkitError(
            f"{data} holds {side}x{side} images, the model expects {want}x{want}: prepare a store "
            f"with --size {want}, or train with --set model.image_size={side}"
        )
    if len(select_rows(group, spec.train.partition)) < spec.train.batch:
        raise LatentkitError(
            f"fewer than one batch ({spec.train.batch}) of {spec.train.partition} images in {data}: "
            f"lower --batch, or prepare more images"
        )
