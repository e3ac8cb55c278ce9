"""A run's model described without Keras, whatever made it: latentkit's ``train`` (a checkpoint
and a spec) or ``import-model`` (a saved Keras model and its import record). Jobs check their
arguments against it before a backend loads; ``latentkit.model.codec`` loads the model itself.
Also: which store a run's latents are rows of, and whether they still match the model."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentkit.core import LatentkitError, RunPaths
from latentkit.model import checkpoint
from latentkit.model.results import ImportRecord
from latentkit.model.spec import spec_from_dict


@dataclass(frozen=True)
class RunModel:
    """What the jobs that run a run's model need to know of it, read without Keras."""

    root: Path
    kind: str  # "ae" or "vae"
    z_dim: int
    image_size: int
    data: str  # the store it trained on (or was checked on at import); "" when none
    version: str  # the model's state in words: what latents record as the model they were encoded from
    seed: int = 0  # a VAE's sampling noise (encode)
    eps_factor: float = 1.0
    kl_factor: float | None = None
    n_params: int = 0
    saved: checkpoint.Checkpoint | None = None  # latentkit's own runs
    imported: ImportRecord | None = None  # import-model's record (RUN/model/import.json)
    warning: str | None = None  # the latest checkpoint was unreadable and an older one is used

    @property
    def has_decoder(self) -> bool:
        return self.imported is None or bool(self.imported.get("has_decoder"))

    def need_decoder(self, what: str) -> None:
        """Refuse, in one line, what needs a decoder on a run imported without one."""
        if not self.has_decoder:
            raise LatentkitError(
                f"{self.root} was imported without a decoder: {what} needs one "
                f"(import the model again with its decoder)"
            )


def check_run_folder(run: str | os.PathLike) -> None:
    """Refuse a ``--run`` that is no folder at all, in one line."""
    if not RunPaths.of(run).root.is_dir():
        raise LatentkitError(
            f"no run at {run}: not a run directory that `latentkit train` or `latentkit import-model` wrote"
        )


def read_run(run: str | os.PathLike) -> RunModel:
    """The run's model, described from its checkpoint or its import record (no Keras)."""
    paths = RunPaths.of(run)
    check_run_folder(run)
    if paths.imported.exists():
        return _describe_import(paths)
    saved, warning = checkpoint.load(paths.checkpoints)
    if saved is None:
        raise LatentkitError(
            f"no checkpoint in {paths.checkpoints}: {run} is not a run directory yet: train the "
            f"run first, or import a model into a new one"
        )
    spec = spec_from_dict(saved.meta["spec"])
    return RunModel(
        root=paths.root,
        kind=spec.model.kind,
        z_dim=spec.model.z_dim,
        image_size=spec.model.image_size,
        data=saved.meta.get("data", ""),
        version=checkpoint.describe(saved.meta),
        seed=spec.train.seed,
        eps_factor=spec.model.eps_factor,
        kl_factor=spec.model.kl_factor if spec.model.kind == "vae" else None,
        n_params=int(sum(np.prod(v.shape) for v in saved.model)),
        saved=saved,
        warning=warning,
    )


def latents_store(run: str | os.PathLike, described: RunModel) -> Path:
    """The store whose rows the run's latents are: the one ``encode`` recorded in latents.zarr
    (``encode --data`` may have encoded another), else the one the run trained on."""
    from latentkit.store import open_store, str_attr

    latents = RunPaths.of(run).latents
    if (latents / "zarr.json").exists():
        group = open_store(latents)
        if group.attrs.get("source"):
            return Path(str_attr(group, "source"))
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


def _describe_import(paths: RunPaths) -> RunModel:
    """``read_run`` for a run that ``import-model`` wrote: its import record, RUN/model/import.json."""
    try:
        record = json.loads(paths.imported.read_text(encoding="utf-8"))
        version = "imported " + " + ".join(
            f"{Path(s['path']).name} sha256 {s['sha256'][:12]}" for s in record["sources"]
        )
        return RunModel(
            root=paths.root,
            kind=record["kind"],
            z_dim=record["z_dim"],
            image_size=record["image_size"],
            data=record.get("data", ""),
            version=version,
            n_params=record.get("n_params", 0),
            imported=record,
        )
    except (ValueError, KeyError, TypeError) as error:
        raise LatentkitError(
            f"{paths.imported} is damaged ({type(error).__name__}: {error}): import the model again into a new --run"
        ) from error
