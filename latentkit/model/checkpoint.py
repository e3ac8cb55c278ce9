"""One checkpoint file holds everything needed to resume: model and optimizer variables,
epoch, step, seeds, the spec, the history so far. Written atomically (``latentkit.core.atomic``);
the previous checkpoint is kept and used when the latest one is unreadable.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.core import LatentkitError, TrainingDiverged, atomic_write
from latentkit.core.paths import BEST_CHECKPOINT, LATEST_CHECKPOINT, PREVIOUS_CHECKPOINT, kept_checkpoint

LATEST, PREVIOUS = LATEST_CHECKPOINT, PREVIOUS_CHECKPOINT  # file names: core.paths owns them
BEST = BEST_CHECKPOINT  # the epoch with the lowest validation loss so far, for `train --from`


@dataclass
class Checkpoint:
    meta: dict[str, Any]
    model: list[np.ndarray]
    optimizer: list[np.ndarray]
    path: Path


def save(directory: str | os.PathLike, *, meta: dict[str, Any], model_variables, optimizer_variables) -> Path:
    """Atomically replace ``latest.npz``; the one it replaces becomes ``previous.npz``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {f"model/{i}": host_array(v) for i, v in enumerate(model_variables)}
    bad = [i for i, a in arrays.items() if a.dtype.kind == "f" and not np.isfinite(a).all()]
    if bad:  # never replace a good checkpoint with broken weights
        raise TrainingDiverged(
            f"weights {', '.join(bad[:3])} are NaN or infinite: not saved; {directory / LATEST} is kept as it was"
        )
    arrays |= {f"optimizer/{i}": host_array(v) for i, v in enumerate(optimizer_variables)}
    arrays["meta"] = np.array(json.dumps(meta))
    latest = directory / LATEST
    # Between the two renames only previous.npz exists: load() falls back to it.
    with atomic_write(latest, keep_previous=directory / PREVIOUS) as handle:
        np.savez(handle, allow_pickle=True, **arrays)  # numpy's default, given so **arrays is not checked against it
    return latest


def kept_path(directory: str | os.PathLike, epoch: int) -> Path:
    """RUN/checkpoints/epoch_NNNN.npz: epoch ``epoch``'s checkpoint, kept for good."""
    return kept_checkpoint(Path(directory), epoch)


def keep(directory: str | os.PathLike, epoch: int) -> Path:
    """Copy the latest checkpoint (an epoch's end) to ``kept_path``, atomically; never pruned."""
    return copy(Path(directory) / LATEST, kept_path(directory, epoch))


def keep_best(directory: str | os.PathLike, best: bool, epoch: int, *, source: str | os.PathLike | None = None) -> None:
    """Where epoch ``epoch`` is the ``best`` (the lowest validation loss so far) and best.npz does not
    hold it yet, copy its checkpoint (the latest, at the epoch's end, or ``source``) there, atomically.
    Run after every epoch's checkpoint, and on resume (a copy a kill prevented; a --from run's first best)."""
    if best and saved_epoch(Path(directory) / BEST) != epoch:
        copy(source or Path(directory) / LATEST, Path(directory) / BEST)


def copy(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """``source`` copied whole to ``target`` (``atomic_write``: a reader sees the old file or the new one)."""
    import shutil

    with open(source, "rb") as reading, atomic_write(target) as handle:
        shutil.copyfileobj(reading, handle, 2**22)
    return Path(target)


def saved_epoch(path: str | os.PathLike) -> int | None:
    """The epoch a checkpoint file was written at (its meta alone is read), None when there is no readable one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return int(json.loads(str(data["meta"]))["epoch"])
    except Exception:  # missing, or cut off by a kill before atomic writes: as if there were none
        return None


def read_kept(path: str | os.PathLike) -> Checkpoint:
    """A kept checkpoint (or any checkpoint file) to start a new run from; one line when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise LatentkitError(
            f"--from {path}: no such checkpoint file (kept ones are RUN/checkpoints/epoch_NNNN.npz and best.npz)"
        )
    try:
        found = _read(path)
    except Exception as error:
        raise LatentkitError(f"--from {path} is not a readable latentkit checkpoint ({type(error).__name__})") from None
    if found.meta["step"] != 0:
        raise LatentkitError(
            f"--from {path} was written mid-epoch (step {found.meta['step']}): start from an epoch's end"
        )
    return found


def describe(meta: dict[str, Any]) -> str:
    """A checkpoint in words, the same for every reader: 'epoch 3 step 12 at 2026-11-30 08:41:07 UTC'
    (what latents record as the checkpoint they were encoded from)."""
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(meta["time"]))
    return f"epoch {meta['epoch']} step {meta['step']} at {when}"


def host_array(value) -> np.ndarray:
    """A variable's or tensor's value as numpy; a value replicated over several processes
    (data-parallel training) is not addressable whole from one of them: its local copy is read."""
    value = getattr(value, "value", value)
    if not getattr(value, "is_fully_addressable", True):
        value = value.addressable_data(0)
    return np.asarray(value)


def _read(path: Path) -> Checkpoint:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        model = [data[f"model/{i}"] for i in range(meta["n_model_variables"])]
        optimizer = [data[f"optimizer/{i}"] for i in range(meta["n_optimizer_variables"])]
    return Checkpoint(meta=meta, model=model, optimizer=optimizer, path=path)


def load(directory: str | os.PathLike) -> tuple[Checkpoint | None, str | None]:
    """The newest intact checkpoint and a warning when the latest had to be skipped.

    Returns ``(None, None)`` when there is no checkpoint at all; raises LatentkitError
    when checkpoints exist but none can be read.
    """
    directory = Path(directory)
    candidates = [directory / LATEST, directory / PREVIOUS]
    present = [p for p in candidates if p.exists()]
    if not present:
        return None, None
    problems = []
    for path in present:
        try:
            checkpoint = _read(path)
        except Exception as error:  # truncated, zeroed, not a zip, missing keys: try the older one
            problems.append(f"{path.name}: {type(error).__name__}: {error}")
            continue
        warning = f"skipped unreadable {problems[0]}; resuming from {path.name}" if problems else None
        return checkpoint, warning
    raise LatentkitError(f"no readable checkpoint in {directory} ({'; '.join(problems)}): delete it to start over")


def restore(model, checkpoint: Checkpoint, *, optimizer: bool = True) -> None:
    """Assign saved values to a freshly built model and, with ``optimizer``, its (built) optimizer.

    Jobs that only run the model (encode, generate) leave the optimizer out: its state is
    training's business (and differs in shape under mixed_float16's loss scaling).
    """
    variables = model.variables
    optimizer_variables = model.optimizer.variables if optimizer else []
    saved_optimizer = checkpoint.optimizer if optimizer else []
    if len(variables) != len(checkpoint.model) or len(optimizer_variables) != len(saved_optimizer):
        raise LatentkitError(f"{checkpoint.path} does not fit this model (variable counts differ)")
    for variable, value in zip([*variables, *optimizer_variables], [*checkpoint.model, *saved_optimizer]):
        if tuple(variable.shape) != value.shape:
            raise LatentkitError(
                f"{checkpoint.path}: {variable.path} has shape {value.shape}, model wants {variable.shape}"
            )
        variable.assign(value)
