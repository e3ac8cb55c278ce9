"""A trained run's model, loaded for decoding: what ``generate``, ``reconstruct``,
``interpolate`` and ``compare`` decode with. Keras is imported when a model is loaded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from latentkit.core import LatentkitError, RunPaths
from latentkit.model import checkpoint
from latentkit.model.spec import spec_from_dict


def trained_checkpoint(run: str | os.PathLike) -> checkpoint.Checkpoint:
    """The run's latest checkpoint, read without Keras: its metadata (spec, store) lets a job
    check its arguments before a backend loads."""
    paths = RunPaths.of(run)
    if not paths.root.is_dir():
        raise LatentkitError(f"no run at {run}: give a run directory that `latentkit train` wrote")
    directory = paths.checkpoints
    saved, _ = checkpoint.load(directory)
    if saved is None:
        raise LatentkitError(f"no checkpoint in {directory}: train the run first")
    return saved


def latents_store(run: str | os.PathLike, saved: checkpoint.Checkpoint) -> Path:
    """The store whose rows the run's latents are: the one ``encode`` recorded in latents.zarr
    (``encode --data`` may have encoded another), else the one the run trained on."""
    from latentkit.store import open_store

    latents = RunPaths.of(run).latents
    if (latents / "zarr.json").exists():
        source = open_store(latents).attrs.get("source")
        if source:
            return Path(source)
    return Path(saved.meta.get("data", ""))


def stale_latents(run: str | os.PathLike, saved: checkpoint.Checkpoint) -> str | None:
    """Why the run's latents (and the analysis fitted to them) no longer match its model: they
    were encoded from an older checkpoint; None when they match or do not exist."""
    from latentkit.store import open_store

    latents = RunPaths.of(run).latents
    if not (latents / "zarr.json").exists():
        return None
    encoded_from, now = open_store(latents).attrs.get("checkpoint"), checkpoint.describe(saved.meta)
    if encoded_from is None or encoded_from == now:
        return None
    return (
        f"the latents (and an analysis fitted to them) are from {encoded_from}; the model is now at {now}: "
        f"run `latentkit encode --run {run} --restart-stale` and `latentkit analyze --run {run}`"
    )


def load_model(run: str | os.PathLike, saved: checkpoint.Checkpoint | None = None):
    """The run's latest model (weights restored) and the checkpoint's metadata; ``saved``: that
    checkpoint, when the caller has read it already (``trained_checkpoint``)."""
    from latentkit.model.networks import build_model

    saved = saved or trained_checkpoint(run)
    model = build_model(spec_from_dict(saved.meta["spec"]).model)
    checkpoint.restore(model, saved, optimizer=False)
    return model, saved.meta


def decode(model, z: np.ndarray) -> np.ndarray:
    # One-off batches of varying size: an eager call traces nothing (predict_on_batch would
    # trace a function per shape).
    return np.asarray(model.decoder(np.asarray(z, np.float32), training=False))
