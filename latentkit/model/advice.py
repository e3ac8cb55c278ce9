"""What ``train`` tells the user about how its training goes, read from the history:
which epoch has the lowest validation loss (its checkpoint is kept as RUN/checkpoints/best.npz),
when the model begins to overfit, and when an epoch is a single step.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from latentkit.model.checkpoint import saved_epoch

RISING_EPOCHS = 3  # the validation loss rising this many epochs in a row while the training loss falls: overfitting
RISE_MARGIN = 0.01  # and ending above the lowest by more than 1 % of what it fell from epoch 1 to that lowest:
# on the digits a rise of 330.4 -> 331.2 after a fall of 120 was noise; on noise images, whose loss never falls, any rise counts
STEPS_WANTED = 10  # a suggested batch gives about this many steps an epoch (a power of two at most images / 10)
SMALLEST_BATCH = 8  # and is never below this


def best_epoch(history: list[dict[str, Any]]) -> int | None:
    """The epoch with the lowest validation loss (the first of equal ones); None without validation."""
    valid = [(float(row["val_loss"]), int(row["epoch"])) for row in history if _has_validation(row)]
    valid = [(loss, epoch) for loss, epoch in valid if math.isfinite(loss)]
    return min(valid)[1] if valid else None


def overfitting(history: list[dict[str, Any]], *, best: Path) -> dict[str, Any] | None:
    """Overfitting as it begins: by the last epoch the validation loss has risen ``RISING_EPOCHS``
    epochs in a row, beyond its lowest by more than ``RISE_MARGIN`` of its fall to that lowest, while the training loss fell
    over the same epochs (first to last), and one epoch
    before it had not (so it is said once per onset). Returns where it began (``since``: the first
    epoch whose validation loss rose), both losses at the window's ends, the best validation epoch
    and ``best`` (RUN/checkpoints/best.npz) where it holds that epoch (``best_checkpoint``, else None:
    a --from run's best before its start); None otherwise."""
    if not _overfits(history) or _overfits(history[:-1]):
        return None
    first, last = history[-RISING_EPOCHS - 1], history[-1]
    epoch = best_epoch(history)
    return {
        "since": int(first["epoch"]) + 1,
        "val_loss": [float(first["val_loss"]), float(last["val_loss"])],
        "loss": [float(first["loss"]), float(last["loss"])],
        "best_epoch": epoch,
        "best_val_loss": float(next(r["val_loss"] for r in history if int(r["epoch"]) == epoch)),
        "best_checkpoint": str(best) if saved_epoch(best) == epoch else None,
    }


def overfitting_warning(found: dict[str, Any], *, data, run: Path, lr: float) -> str:
    """The one line ``train`` prints when ``overfitting`` finds it: since when, the best validation
    epoch and its kept checkpoint, and the command that goes on from it."""
    (v0, v1), (t0, t1) = found["val_loss"], found["loss"]
    line = (
        f"warning: the model is overfitting since epoch {found['since']}: its validation loss rose "
        f"{RISING_EPOCHS} epochs in a row ({v0:.6g} -> {v1:.6g}) while its training loss fell ({t0:.6g} -> "
        f"{t1:.6g}); the best validation epoch was {found['best_epoch']} (val_loss {found['best_val_loss']:.6g})"
    )
    best = found["best_checkpoint"]
    if best is None:
        return line
    run = run if run.name else run.resolve()  # --run .
    return (
        line + f", kept as {best} until a better epoch replaces it; to go on from it in a new run at a lower "
        f"rate (or train on more images): latentkit train --data {data} --run {run.with_name(run.name + '-best')} --from {best} --lr {lr / 10:g}"
    )


def single_step_note(images: int, batch: int) -> str | None:
    """One line when an epoch is a single step (fewer than two batches of training images, the rest
    left out), with a batch that gives about ``STEPS_WANTED`` steps; None otherwise."""
    if images >= 2 * batch:
        return None
    left = f", {images - batch:,} of them left out of each epoch" if images > batch else ""
    line = f"note: an epoch is a single step here ({images:,} training images at batch {batch}{left}): the weights change once an epoch"
    suggested = max(SMALLEST_BATCH, 2 ** int(math.log2(max(images / STEPS_WANTED, 1))))
    if suggested >= batch or images // suggested < 2:
        return line + f"; prepare more images (at least {2 * SMALLEST_BATCH} for two steps of {SMALLEST_BATCH})"
    return line + f"; train a new --run with --batch {suggested} ({images // suggested} steps an epoch)"


def _overfits(history: list[dict[str, Any]]) -> bool:
    window = history[-RISING_EPOCHS - 1 :]
    if len(window) <= RISING_EPOCHS or not all(_has_validation(row) for row in window):
        return False
    valid = [float(row["val_loss"]) for row in window]
    every = [float(row["val_loss"]) for row in history if _has_validation(row)]
    lowest = min(every)
    return (
        all(b > a for a, b in zip(valid, valid[1:]))
        and float(window[-1]["loss"]) < float(window[0]["loss"])
        and valid[-1] - lowest > RISE_MARGIN * (every[0] - lowest)
    )


def _has_validation(row: dict[str, Any]) -> bool:
    return row.get("val_loss") not in (None, "")
