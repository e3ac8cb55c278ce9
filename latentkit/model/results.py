"""What the model room's jobs return, typed: ``train`` (``TrainResult``; a run already trained
returns one before Keras loads, ``fitting``'s epochs return one after) and ``import-model``
(``ImportRecord``: the record it writes to RUN/model/import.json and returns). ``encode``
returns ``latentkit.model.encode.EncodeResult``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict


@dataclass
class TrainResult:
    interrupted: bool
    epoch: int  # epochs finished now
    step: int
    history: list[dict[str, Any]]
    first_epoch: int = 0  # epochs finished when this call began

    @property
    def trained(self) -> int:
        """Epochs this call finished."""
        return self.epoch - self.first_epoch


class ImportSource(TypedDict, total=False):
    path: str  # the file imported, resolved
    sha256: str
    copy: str  # its copy's name in RUN/model


class ImportRecord(TypedDict, total=False):
    """RUN/model/import.json: what ``import-model`` took, checked and copied."""

    sources: list[ImportSource]
    encoder: str | None  # the sub-model taken as the encoder (None: the file itself)
    decoder: str | None
    output: str | int | None  # the encoder output taken as z (--output)
    input_range: str  # "0:1" | "0:255" | "-1:1"
    custom_objects: dict[str, str] | None  # the module or file imported first (--custom-objects)
    factory: dict[str, str] | None  # "module:function" building a .weights.h5 file's model
    unsafe: bool
    data: str  # the store it was checked on ("" when none)
    image_size: int
    kind: str  # "ae" | "vae"
    z_dim: int
    vae_outputs: int  # a VAE's encoder outputs: 2 (mean, log-variance) or 3 (+ z)
    has_decoder: bool
    n_params: int
    time: float
    keras: str  # Keras version and backend at import
    backend: str
