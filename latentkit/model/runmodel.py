"""What the jobs that run a run's model need to know of it, read without Keras: the one
description of a run's model, whatever made it (``decode.read_run`` makes it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latentkit.core import LatentkitError
from latentkit.model import checkpoint


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
    imported: dict[str, Any] | None = None  # import-model's record
    warning: str | None = None  # the latest checkpoint was unreadable and an older one is used

    @property
    def has_decoder(self) -> bool:
        return self.imported is None or bool(self.imported.get("has_decoder"))

    def need_decoder(self, what: str) -> None:
        """Refuse, in one line, what needs a decoder on a run imported without one."""
        if not self.has_decoder:
            raise LatentkitError(f"{self.root} was imported without a decoder: {what} needs one "
                                 f"(import the model again with its decoder)")  # fmt: skip
