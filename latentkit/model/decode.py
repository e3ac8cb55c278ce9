"""A run's model, whatever made it: latentkit's ``train`` (a checkpoint and a spec) or
``import-model`` (a saved Keras model, ``latentkit.model.imported``). ``read_run`` describes it
without Keras, so jobs check their arguments before a backend loads; ``load_model`` loads it
for encoding and decoding. Keras is imported when a model is loaded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from latentkit.core import LatentkitError, RunPaths
from latentkit.model import checkpoint
from latentkit.model.runmodel import RunModel
from latentkit.model.spec import spec_from_dict


def read_run(run: str | os.PathLike) -> RunModel:
    """The run's model, described from its checkpoint or its import record (no Keras)."""
    paths = RunPaths.of(run)
    if not paths.root.is_dir():
        raise LatentkitError(f"no run at {run}: not a run directory that `latentkit train` or "
                             f"`latentkit import-model` wrote")  # fmt: skip
    if paths.imported.exists():
        from latentkit.model.imported import describe

        return describe(paths)
    saved, warning = checkpoint.load(paths.checkpoints)
    if saved is None:
        raise LatentkitError(f"no checkpoint in {paths.checkpoints}: {run} is not a run directory yet: train the "
                             f"run first, or import a model into a new one")  # fmt: skip
    spec = spec_from_dict(saved.meta["spec"])
    return RunModel(root=paths.root, kind=spec.model.kind, z_dim=spec.model.z_dim, image_size=spec.model.image_size,
                    data=saved.meta.get("data", ""), version=checkpoint.describe(saved.meta), seed=spec.train.seed,
                    eps_factor=spec.model.eps_factor,
                    kl_factor=spec.model.kl_factor if spec.model.kind == "vae" else None,
                    n_params=int(sum(np.prod(v.shape) for v in saved.model)), saved=saved, warning=warning)  # fmt: skip


def latents_store(run: str | os.PathLike, described: RunModel) -> Path:
    """The store whose rows the run's latents are: the one ``encode`` recorded in latents.zarr
    (``encode --data`` may have encoded another), else the one the run trained on."""
    from latentkit.store import open_store

    latents = RunPaths.of(run).latents
    if (latents / "zarr.json").exists():
        source = open_store(latents).attrs.get("source")
        if source:
            return Path(source)
    if not described.data:
        raise LatentkitError(f"{run} names no store of images: give --data STORE")
    return Path(described.data)


def stale_latents(run: str | os.PathLike, described: RunModel) -> str | None:
    """Why the run's latents (and the analysis fitted to them) no longer match its model: they
    were encoded from an older checkpoint (or another imported model); None when they match or
    do not exist."""
    from latentkit.store import open_store

    latents = RunPaths.of(run).latents
    if not (latents / "zarr.json").exists():
        return None
    encoded_from = open_store(latents).attrs.get("checkpoint")
    if encoded_from is None or encoded_from == described.version:
        return None
    return (
        f"the latents (and an analysis fitted to them) are from {encoded_from}; the model is now at "
        f"{described.version}: run `latentkit encode --run {run} --restart-stale` and `latentkit analyze --run {run}`"
    )


def load_model(run: str | os.PathLike, described: RunModel | None = None):
    """The run's model: ``.encoder`` (images in [0, 1] -> z, or (mu, logvar, z) for a VAE),
    ``.decoder`` (z -> images in [0, 1]), a call (reconstruction) and ``set_mu_only``.
    ``described``: ``read_run``'s answer, when the caller has it already."""
    described = described or read_run(run)
    if described.imported is not None:
        from latentkit.model.imported import load_imported

        return load_imported(described)
    from latentkit.model.networks import build_model

    model = build_model(spec_from_dict(described.saved.meta["spec"]).model)
    checkpoint.restore(model, described.saved, optimizer=False)
    return model


def decode(model, z: np.ndarray) -> np.ndarray:
    # One-off batches of varying size: an eager call traces nothing (predict_on_batch would
    # trace a function per shape).
    return np.asarray(model.decoder(np.asarray(z, np.float32), training=False))
