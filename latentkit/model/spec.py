"""Job specs: TOML presets (jobs/, installed as ``latentkit.presets``), resolved into frozen
dataclasses, overridable from the CLI."""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from latentkit.core import LatentkitError

PRESETS_PACKAGE = "latentkit.presets"  # the repository's jobs/ folder, shipped inside the wheel
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")  # the Keras dtype policies train.precision may name
UPSAMPLINGS = ("transpose", "resize")  # how the decoder grows the image: Conv2DTranspose, or upsampling + Conv2D


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines a model's shape (a resumed run must not change it)."""

    kind: str = "ae"  # "ae" or "vae"
    image_size: int = 96
    z_dim: int = 256
    encoder_filters: tuple[int, ...] = (32, 64, 128, 256)
    encoder_kernels: tuple[int, ...] = (3, 3, 3, 3)
    encoder_strides: tuple[int, ...] = (2, 2, 2, 2)
    decoder_filters: tuple[int, ...] = (128, 64, 32, 3)
    decoder_kernels: tuple[int, ...] = (3, 3, 3, 3)
    decoder_strides: tuple[int, ...] = (2, 2, 2, 2)
    activation: str = "leaky_relu"  # leaky_relu, relu or selu
    batch_norm: bool = False
    loss: str = "bce"  # bce or mse
    kl_factor: float = 5.0  # VAE only
    eps_factor: float = 1.0  # VAE only: z = mu + exp(logvar / 2) * eps * eps_factor
    extra_dense: bool = False  # VAE only: Dense(z_dim) between Flatten and mu/logvar
    upsampling: str = "transpose"  # decoder: "transpose" (Conv2DTranspose) or "resize" (nearest upsampling + Conv2D)
    residual_blocks: int = 0  # decoder: residual blocks (two 3x3 convolutions and a skip) after each stage but the last


@dataclass(frozen=True)
class TrainSpec:
    epochs: int = 10
    batch: int = 128
    lr: float = 5e-4
    seed: int = 0
    partition: str = "train"
    checkpoint_every: int = 200  # steps; a checkpoint is also written at every epoch end
    steps_per_execution: int = 4  # training steps per compiled call: fewer host round trips on a GPU
    precision: str = "float32"  # float32 | mixed_float16 | mixed_bfloat16 (a GPU's tensor cores)
    keep_epochs: tuple[int, ...] = ()  # epochs whose checkpoint is kept for good (RUN/checkpoints/epoch_NNNN.npz)
    keep_every: int = 0  # keep every K-th epoch's checkpoint too (0: none)

    def keeps(self, epoch: int) -> bool:
        """Whether epoch ``epoch``'s checkpoint is kept for good (``--keep-epochs``, ``--keep-every``)."""
        return epoch in self.keep_epochs or (self.keep_every > 0 and epoch % self.keep_every == 0)


@dataclass(frozen=True)
class JobSpec:
    name: str = "custom"
    model: ModelSpec = field(default_factory=ModelSpec)
    train: TrainSpec = field(default_factory=TrainSpec)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def presets() -> dict[str, Traversable]:
    """The installed presets by name (``ae-case1``, ``vae``, ...), read with importlib.resources."""
    found = {
        f.name.removesuffix(".toml"): f for f in resources.files(PRESETS_PACKAGE).iterdir() if f.name.endswith(".toml")
    }
    return dict(sorted(found.items()))


def find_job(name_or_path: str | os.PathLike) -> Path | Traversable:
    """A TOML path, or the name of an installed preset (``ae-case1`` or ``ae-case1.toml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    known = presets()
    preset = known.get(path.name.removesuffix(".toml"))
    if preset is not None and path.parent == Path("."):
        return preset
    raise LatentkitError(f"no job spec {name_or_path} (presets: {', '.join(known)})")


def load_spec(name_or_path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> JobSpec:
    path = find_job(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise LatentkitError(f"{path} is not valid TOML: {error}") from None
    data.setdefault("name", path.name.removesuffix(".toml"))
    return spec_from_dict(data, overrides)


def spec_from_dict(data: dict[str, Any], overrides: dict[str, Any] | None = None) -> JobSpec:
    data = {
        "model": dict(data.get("model", {})),
        "train": dict(data.get("train", {})),
        "name": data.get("name", "custom"),
    }
    for key, value in (overrides or {}).items():
        section, _, name = key.partition(".")
        if section not in ("model", "train") or not name:
            raise LatentkitError(f"--set {key}: give model.FIELD=VALUE or train.FIELD=VALUE")
        data[section][name] = value
    try:
        model = _build(ModelSpec, data["model"])
        train = _build(TrainSpec, data["train"])
    except (TypeError, ValueError) as error:
        raise LatentkitError(f"bad job spec: {error}") from None
    _validate(model, train)
    return JobSpec(name=data["name"], model=model, train=train)


KINDS = {int: "a whole number", float: "a number"}


def _build(cls, values: dict[str, Any]):
    section = "model" if cls is ModelSpec else "train"
    fields = [f.name for f in dataclasses.fields(cls)]
    for name in sorted(set(values) - set(fields)):
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f": did you mean {section}.{close[0]}?" if close else f" (it has {', '.join(fields)})"
        raise ValueError(f"{section}.{name} is not a field of the {section} section{hint}")
    converted: dict[str, Any] = {}
    for name, value in values.items():
        default = getattr(cls(), name)
        try:
            if isinstance(default, tuple):
                items = value if isinstance(value, (list, tuple)) else str(value).split(",")
                converted[name] = tuple(int(v) for v in items)
            elif isinstance(default, bool):
                converted[name] = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            else:
                converted[name] = type(default)(value)
        except (TypeError, ValueError):
            kind = "whole numbers (4,4,8)" if isinstance(default, tuple) else KINDS.get(type(default), "text")
            raise ValueError(f"{section}.{name} must be {kind}, got {value!r}") from None
    return cls(**converted)


def _validate(model: ModelSpec, train: TrainSpec) -> None:
    problems = []
    if model.kind not in ("ae", "vae"):
        problems.append(f"model.kind must be ae or vae, not {model.kind!r}")
    if model.activation not in ("leaky_relu", "relu", "selu"):
        problems.append(f"model.activation must be leaky_relu, relu or selu, not {model.activation!r}")
    if model.loss not in ("bce", "mse"):
        problems.append(f"model.loss must be bce or mse, not {model.loss!r}")
    if not len(model.encoder_filters) == len(model.encoder_kernels) == len(model.encoder_strides):
        problems.append("encoder_filters, encoder_kernels and encoder_strides must have the same length")
    if not len(model.decoder_filters) == len(model.decoder_kernels) == len(model.decoder_strides):
        problems.append("decoder_filters, decoder_kernels and decoder_strides must have the same length")
    down = 1
    for s in model.encoder_strides:
        down *= s
    up = 1
    for s in model.decoder_strides:
        up *= s
    if down >= 1 and up >= 1 and (model.image_size % down or down != up):
        problems.append(
            f"image_size {model.image_size} must be divisible by the encoder's total stride {down}, "
            f"and the decoder's total stride ({up}) must equal it"
        )
    sizes = {
        "model.image_size": [model.image_size],
        "model.z_dim": [model.z_dim],
        "model.encoder_filters": model.encoder_filters,
        "model.encoder_kernels": model.encoder_kernels,
        "model.encoder_strides": model.encoder_strides,
        "model.decoder_filters": model.decoder_filters,
        "model.decoder_kernels": model.decoder_kernels,
        "model.decoder_strides": model.decoder_strides,
    }
    problems += [
        f"{name} must be positive whole numbers, got {list(values)}"
        for name, values in sizes.items()
        if not all(isinstance(v, int) and v >= 1 for v in values)
    ]
    if not model.encoder_filters or not model.decoder_filters:
        problems.append("the encoder and the decoder need at least one layer each")
    if not (train.lr > 0 and model.kl_factor >= 0 and model.eps_factor >= 0):
        problems.append(
            f"train.lr must be positive and model.kl_factor, model.eps_factor not negative "
            f"(got {train.lr}, {model.kl_factor}, {model.eps_factor})"
        )
    if model.decoder_filters and model.decoder_filters[-1] != 3:
        problems.append("the decoder's last filter count must be 3 (RGB)")
    if train.epochs < 1 or train.batch < 1 or train.checkpoint_every < 1 or train.steps_per_execution < 1:
        problems.append(
            "train.epochs, train.batch, train.checkpoint_every and train.steps_per_execution must be positive"
        )
    if model.upsampling not in UPSAMPLINGS:
        problems.append(f"model.upsampling must be one of {', '.join(UPSAMPLINGS)}, not {model.upsampling!r}")
    if model.residual_blocks < 0:
        problems.append(f"model.residual_blocks must not be negative, got {model.residual_blocks}")
    if train.keep_every < 0 or any(e < 1 for e in train.keep_epochs):
        problems.append(
            f"train.keep_epochs must be epochs (1, 2, ...) and train.keep_every not negative "
            f"(got {list(train.keep_epochs)}, {train.keep_every})"
        )
    if train.precision not in PRECISIONS:
        problems.append(f"train.precision must be one of {', '.join(PRECISIONS)}, not {train.precision!r}")
    if problems:
        raise LatentkitError("bad job spec: " + "; ".join(problems))


def to_toml(spec: JobSpec) -> str:
    """A resolved spec as TOML (the values are numbers, strings, booleans and lists)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(v)

    data = spec.to_dict()
    lines = [f"name = {value(data['name'])}"]
    for section in ("model", "train"):
        lines += ["", f"[{section}]"] + [f"{k} = {value(v)}" for k, v in data[section].items()]
    return "\n".join(lines) + "\n"


def parse_set(items: list[str]) -> dict[str, Any]:
    """``--set model.z_dim=128`` pairs into overrides (values parsed as TOML when they can be)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise LatentkitError(f"--set takes SECTION.FIELD=VALUE, got {item!r}")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out
