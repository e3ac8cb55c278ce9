"""A run opened once: its paths, its model described from the checkpoint (no Keras), the store
its latents' rows come from, and its model behind ``Codec`` — each read on first use and kept,
so a job that needs them twice loads the checkpoint once. Jobs take one and hand it down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from latentkit.core import RunPaths
from latentkit.model.codec import Codec
from latentkit.model.runs import RunModel, latents_store, read_run, stale_latents


@dataclass
class OpenedRun:
    root: Path

    @classmethod
    def of(cls, run: str | os.PathLike | OpenedRun) -> OpenedRun:
        """The run at ``run`` (nothing read yet), or ``run`` itself when already opened."""
        return run if isinstance(run, OpenedRun) else cls(Path(run))

    @property
    def paths(self) -> RunPaths:
        return RunPaths.of(self.root)

    @cached_property
    def described(self) -> RunModel:
        """The model as the jobs need to know it (kind, z_dim, image size, decoder), read without Keras."""
        return read_run(self.root)

    @cached_property
    def data(self) -> Path:
        """The image store whose rows the run's latents are."""
        return latents_store(self.root, self.described)

    @property
    def stale(self) -> str | None:
        """Why the latents no longer match the model (encoded from an older checkpoint), or None."""
        return stale_latents(self.root, self.described)

    @cached_property
    def _model(self) -> Any:
        """The Keras model, loaded from the checkpoint once (never handed out: the codec's array
        functions are what the analysis room sees)."""
        from latentkit.model.codec import load_model

        return load_model(self.root, self.described)

    def codec(self, *, mu_only: bool = True) -> Codec:
        """The model's array functions over the one loaded model; ``mu_only`` False: a VAE's
        reconstructions decode a z drawn with its noise. The flag is the model's: take the codec
        where it is used."""
        return Codec(self._model, mu_only=mu_only)
