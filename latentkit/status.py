"""What a run has done so far, read without loading TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from latentkit import checkpoint, store
from latentkit.errors import LatentkitError
from latentkit.monitor import read_monitor
from latentkit.spec import spec_from_dict


def run_status(run: str | os.PathLike, out: str | os.PathLike | None = None, last: int = 5) -> dict[str, Any]:
    """Epochs trained, latent chunks done and missing, and the last monitor lines of a run."""
    run = Path(run)
    if not run.is_dir():
        raise LatentkitError(f"no run directory {run}")
    saved, warning = checkpoint.load(run / "checkpoints")
    status: dict[str, Any] = {"run": str(run), "checkpoint_warning": warning}
    if saved is not None:
        spec = spec_from_dict(saved.meta["spec"])
        status["train"] = {"job": spec.name, "epoch": saved.meta["epoch"], "epochs": spec.train.epochs,
                           "step": saved.meta["step"], "steps_per_epoch": saved.meta.get("steps_per_epoch"),
                           "last_loss": (saved.meta["history"] or [{}])[-1].get("loss")}  # fmt: skip
    out = Path(out or run / "latents.zarr")
    if (out / "zarr.json").exists():
        group = store.open_store(out)
        done = store.done_chunks(group)
        status["encode"] = {"path": str(out), "n": group.attrs["n"], "chunk": group.attrs["chunk"],
                            "chunks_done": int(done.sum()), "chunks_total": len(done),
                            "missing": np.flatnonzero(~done).tolist()}  # fmt: skip
    status["monitor"] = read_monitor(run / "monitor.jsonl", last)
    return status
