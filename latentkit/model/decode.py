"""A trained run's model, loaded for decoding: what ``generate``, ``reconstruct``,
``interpolate`` and ``compare`` decode with. Keras is imported when a model is loaded."""

from __future__ import annotations

import os

import numpy as np

from latentkit.core import LatentkitError, RunPaths
from latentkit.model import checkpoint
from latentkit.model.spec import spec_from_dict


def trained_checkpoint(run: str | os.PathLike) -> checkpoint.Checkpoint:
    """The run's latest checkpoint, read without Keras: its metadata (spec, store) lets a job
    check its arguments before a backend loads."""
    directory = RunPaths.of(run).checkpoints
    saved, _ = checkpoint.load(directory)
    if saved is None:
        raise LatentkitError(f"no checkpoint in {directory}: train the run first")
    return saved


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
