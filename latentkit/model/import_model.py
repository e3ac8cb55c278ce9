"""Outside models: a run made from a saved Keras model (``latentkit import-model``).

The model's files are copied into RUN/model with a record, ``import.json``: where they came
from (path, SHA-256), which sub-models are the encoder and the decoder, which encoder output
is z (or that it returns a VAE's mean and log-variance), the pixel range it expects, and
the module its custom classes come from. Every job that runs a model (encode, generate,
reconstruct, interpolate, report, compare) loads it from there through ``load_imported``,
which wraps the encoder and decoder so they take and give what latentkit's own networks do:
images in [0, 1] -> z (or mean, log-variance, mean) and z -> images in [0, 1].

Keras' ``safe_mode`` stays on (a ``Lambda`` layer's code would run on loading) unless the
import said ``--unsafe``. The Keras 3 pitfalls that cost users hours get one line each
(``latentkit.model.keras_files``: loading, pitfalls, finding the parts).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.core import JobEvents, LatentkitError, RunPaths, atomic_write, check_folder, own_folder, write_json
from latentkit.model.keras_files import (
    call_failed,
    factory_record,
    find_parts,
    input_shape,
    load_file,
    module_record,
    resolve_module,
)
from latentkit.model.results import ImportRecord
from latentkit.model.runs import RunModel, read_run

RANGES = {"0:1": (1.0, 0.0), "0:255": (255.0, 0.0), "-1:1": (2.0, -1.0)}  # model pixels = unit * scale + offset
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
CHECK_BATCH = 8  # images the shapes and ranges are checked on


def import_model(
    *,
    sources: Sequence[str | os.PathLike],
    run: str | os.PathLike,
    encoder: str | None = None,
    decoder: str | None = None,
    output: str | None = None,
    custom_objects: str | None = None,
    factory: str | None = None,
    unsafe: bool = False,
    input_range: str = "0:1",
    data: str | os.PathLike | None = None,
    events: JobEvents | None = None,
) -> ImportRecord:
    """Make RUN from a saved model: one file holding encoder and decoder, an encoder and a
    decoder file, an encoder alone, or a ``.weights.h5`` with ``factory`` ("module:function"
    building the model). Checks the model on one batch (of ``data`` when given) and returns
    the record it wrote."""
    events = events or JobEvents()
    files = _check_sources(sources, factory)
    if input_range not in RANGES:
        raise LatentkitError(f"--input-range must be one of {', '.join(RANGES)}, got {input_range!r}")
    paths = RunPaths.of(check_folder(run, "--run"))
    if paths.checkpoints.exists():
        raise LatentkitError(f"{run} is a run latentkit trained: import the model into a new --run")
    digests = [_sha256(path) for path in files]
    chosen = {
        "encoder": encoder,
        "decoder": decoder,
        "output": _parse_output(output),
        "input_range": input_range,
        "unsafe": unsafe,
    }
    if paths.imported.exists():
        return _already_imported(paths, digests, chosen, events)
    images = _check_images(data)
    record: ImportRecord = {
        "sources": [{"path": str(path.resolve()), "sha256": digest} for path, digest in zip(files, digests)],
        "encoder": encoder,
        "decoder": decoder,
        "output": _parse_output(output),
        "input_range": input_range,
        "custom_objects": module_record(custom_objects, "--custom-objects") if custom_objects else None,
        "factory": factory_record(factory) if factory else None,
        "unsafe": unsafe,
        "data": str(Path(data).resolve()) if data else "",
    }
    if unsafe:
        events.message(
            "warning: --unsafe: Keras' safe mode is off: code stored in the model (a Lambda layer) "
            "runs in this process and in every job that loads this run; do so only for a model you trust"
        )

    from latentkit.model.backend import keras

    resolve_module(record["custom_objects"], "--custom-objects")
    resolve_module(record["factory"], "--factory")
    models = [load_file(path, record, keras) for path in files]
    found = find_parts(models, record, keras, events)
    record.update(found.record)
    image_size = _image_size(found.encoder, images, files[0])
    record["image_size"] = image_size
    wrapped_encoder, kind, z_dim = _wrap_encoder(found.encoder, record, image_size, keras, files[0])
    record["kind"], record["z_dim"] = kind, z_dim
    if kind == "vae":
        events.message(
            f"the encoder returns {record['vae_outputs']} outputs of {z_dim}: taken as a VAE's "
            f"(mean, log-variance{', z' if record['vae_outputs'] == 3 else ''}); "
            f"--output NAME takes one of them as an AE's z instead"
        )
    batch = images if images is not None else np.random.default_rng(0).random((CHECK_BATCH, image_size, image_size, 3))
    z = _check_encoder(wrapped_encoder, batch.astype(np.float32), kind, files[0])
    wrapped_decoder = None
    if found.decoder is not None:
        wrapped_decoder = _wrap_decoder(found.decoder, record, z_dim, image_size, keras, files[-1])
        _check_decoder(found.decoder, wrapped_decoder, z, record, image_size, files[-1], events)
    else:
        events.message(
            f"no decoder in {files[0].name}: encode, analyze and attributes work; generate, reconstruct, "
            f"interpolate, compare and the report's reconstructions and generated images need "
            f"one"
        )
    record["has_decoder"] = wrapped_decoder is not None
    record["n_params"] = int(sum(part.count_params() for part in (found.encoder, found.decoder) if part is not None))
    record["time"], record["keras"], record["backend"] = time.time(), keras.__version__, keras.backend.backend()

    own_folder(paths.root)
    folder = own_folder(paths.imported.parent)
    for source, name in zip(record["sources"], _copy_names(files, factory)):
        with open(source["path"], "rb") as original, atomic_write(folder / name) as copy:
            shutil.copyfileobj(original, copy, 2**22)
        source["copy"] = name
    write_json(paths.imported, record)  # last: the import is whole once this exists
    return record


class ImportedModel:
    """An imported model behind latentkit's interface: ``encoder`` and ``decoder`` take and give
    [0, 1] images; a VAE's encoder gives (mean, log-variance, mean); a call reconstructs."""

    def __init__(self, encoder, decoder, kind: str):
        self.encoder, self.decoder, self.kind = encoder, decoder, kind

    def __call__(self, x, training: bool = False):
        z = self.encoder(x, training=False)
        return self.decoder(z[0] if self.kind == "vae" else z, training=False)

    def set_mu_only(self, mu_only: bool) -> None:
        """Nothing to switch: z here is always the mean (encode draws a VAE's z itself, seeded)."""


def load_imported(described: RunModel) -> ImportedModel:
    """The run's imported model, loaded from RUN/model as the import recorded it."""
    from latentkit.model.backend import keras

    record, folder = described.imported, RunPaths.of(described.root).model_folder
    assert record is not None  # called for imported runs only
    files = [folder / source["copy"] for source in record["sources"]]
    models = [load_file(path, record, keras) for path in files]
    found = find_parts(models, record, keras, None)
    encoder, _, _ = _wrap_encoder(found.encoder, record, record["image_size"], keras, files[0])
    decoder = None
    if found.decoder is not None:
        decoder = _wrap_decoder(found.decoder, record, record["z_dim"], record["image_size"], keras, files[-1])
    return ImportedModel(encoder, decoder, record["kind"])


# -- checks before Keras --------------------------------------------------------------------


def _check_sources(sources, factory: str | None) -> list[Path]:
    files = [Path(s) for s in sources]
    if not 1 <= len(files) <= 2:
        raise LatentkitError(f"give one model file, or an encoder and a decoder file: got {len(files)}")
    for path in files:
        if path.is_dir():
            if (path / "saved_model.pb").exists():
                raise LatentkitError(
                    f"{path} is a TensorFlow SavedModel: Keras 3 loads .keras and .h5 files; "
                    f"load it where it was made and save it with model.save('model.keras')"
                )
            raise LatentkitError(f"{path} is a folder: give a .keras or .h5 model file (or .weights.h5 with --factory)")
        if not path.is_file():
            raise LatentkitError(f"no model file {path}")
        name = path.name.lower()
        with open(path, "rb") as handle:
            head = handle.read(8)
        if name.endswith(".weights.h5"):
            if factory is None:
                raise LatentkitError(
                    f"{path} holds weights only: give --factory MODULE:FUNCTION, a function that "
                    f"builds the model they belong to"
                )
            if head != HDF5_SIGNATURE:
                raise LatentkitError(f"{path} is not an HDF5 weights file")
        elif name.endswith(".keras"):
            if not zipfile.is_zipfile(path):
                raise LatentkitError(f"{path} is not a Keras model file (a .keras file is a zip archive)")
        elif name.endswith(".h5"):
            if head != HDF5_SIGNATURE:
                raise LatentkitError(f"{path} is not a Keras model file (an .h5 file is HDF5)")
        else:
            raise LatentkitError(f"{path}: give a .keras or .h5 model file (or .weights.h5 with --factory)")
    if factory is not None and (len(files) != 1 or not files[0].name.lower().endswith(".weights.h5")):
        raise LatentkitError("--factory builds the model a .weights.h5 file belongs to: give one .weights.h5 file")
    return files


def _parse_output(output: str | None) -> str | int | None:
    if output is None:
        return None
    return int(output) if output.lstrip("-").isdigit() else output


def _check_images(data) -> np.ndarray | None:
    """A batch of the store's first usable images in [0, 1], or None without --data."""
    if data is None:
        return None
    from latentkit.store import get_array, open_store, to_unit_float

    group = open_store(data, holds="images")
    rows = np.flatnonzero(np.asarray(get_array(group, "ok")[: 4 * CHECK_BATCH]).astype(bool))[:CHECK_BATCH]
    if len(rows) == 0:
        raise LatentkitError(f"{data} has no usable image among its first rows to check the model on")
    return to_unit_float(get_array(group, "images").get_orthogonal_selection((rows,)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(2**22):
            digest.update(block)
    return digest.hexdigest()


def _already_imported(paths: RunPaths, digests: list[str], chosen: dict[str, Any], events: JobEvents) -> ImportRecord:
    """A rerun of the same import is done already; another model or other options are refused."""
    record = read_run(paths.root).imported
    assert record is not None  # the run holds import.json: read_run read it
    if [s["sha256"] for s in record["sources"]] != digests:
        where = ", ".join(s["path"] for s in record["sources"])
        raise LatentkitError(f"{paths.root} holds another imported model (from {where}): choose a new --run")
    # --encoder/--decoder left out this time mean "what was found": only a different explicit choice differs
    differ = [
        key
        for key, value in chosen.items()
        if record.get(key) != value and not (key in ("encoder", "decoder") and value is None)
    ]
    if differ:
        was = ", ".join(f"--{key.replace('_', '-')} {record.get(key)}" for key in differ)
        raise LatentkitError(
            f"{paths.root} holds this model imported with {was}: choose a new --run to import it otherwise"
        )
    events.message(f"{paths.root} already holds this model (same SHA-256): nothing to do")
    return record


def _copy_names(files: list[Path], factory: str | None) -> list[str]:
    if factory is not None:
        return ["model.weights.h5"]
    suffixes = [".h5" if f.name.lower().endswith(".h5") else ".keras" for f in files]
    if len(files) == 2:
        return [f"encoder{suffixes[0]}", f"decoder{suffixes[1]}"]
    return [f"model{suffixes[0]}"]


# -- wrapping and checking on one batch ----------------------------------------------------


def _image_size(encoder, images: np.ndarray | None, path: Path) -> int:
    shape = input_shape(encoder)
    if shape is None or len(shape) != 4:
        if images is None:
            raise LatentkitError(
                f"cannot tell the image size {path.name}'s encoder takes: give --data STORE to check "
                f"it on the store's images"
            )
        return images.shape[1]
    height, width, channels = shape[1:]
    if channels is not None and channels != 3:
        raise LatentkitError(
            f"{path.name}'s encoder takes {channels}-channel images: latentkit's stores hold RGB (3 channels)"
        )
    if height is not None and width is not None and height != width:
        raise LatentkitError(
            f"{path.name}'s encoder takes {height}x{width} images: latentkit's stores hold square ones"
        )
    size = height or width
    if images is not None and size is not None and images.shape[1] != size:
        raise LatentkitError(
            f"{path.name}'s encoder takes {size}x{size} images, the store holds "
            f"{images.shape[1]}x{images.shape[2]}: prepare a store of that size "
            f"(latentkit prepare ... --size {size})"
        )
    if size is None:
        if images is None:
            raise LatentkitError(f"{path.name}'s encoder takes any image size: give --data STORE to fix it")
        size = images.shape[1]
    return int(size)


def _outputs(value, names: list[str] | None) -> tuple[list, list[str]]:
    if isinstance(value, dict):
        return list(value.values()), list(value)
    if isinstance(value, (list, tuple)):
        return list(value), list(names or []) or [str(i) for i in range(len(value))]
    return [value], list(names or ["0"])


def _output_names(encoder) -> list[str] | None:
    try:
        return list(encoder.output_names)
    except (AttributeError, ValueError):
        return None


def _wrap_encoder(encoder, record: ImportRecord, size: int, keras, path: Path):
    """keras.Model: [0, 1] images -> z (AE) or [mean, log-variance, mean] (VAE), float32;
    with the encoder's kind and z dimension."""
    scale, offset = RANGES[record["input_range"]]
    x = keras.Input((size, size, 3), dtype="float32", name="image")
    try:
        raw = encoder(x * scale + offset if (scale, offset) != (1.0, 0.0) else x)
    except Exception as error:
        raise LatentkitError(call_failed(path, "encoder", error, f"cannot take {size}x{size}x3 images")) from None
    values, names = _outputs(raw, _output_names(encoder))
    shapes = [tuple(v.shape) for v in values]
    wanted = record.get("output")
    if wanted is not None:
        index = wanted if isinstance(wanted, int) else (names.index(wanted) if wanted in names else None)
        if index is None or not -len(values) <= index < len(values):
            raise LatentkitError(f"--output {wanted}: the encoder's outputs are {', '.join(names)} (shapes {shapes})")
        values, shapes, kind = [values[index]], [shapes[index]], "ae"
    elif len(values) == 1:
        kind = "ae"
    elif len(values) in (2, 3) and len(set(shapes)) == 1 and len(shapes[0]) == 2:
        kind = "vae"
        record["vae_outputs"] = len(values)
    else:
        raise LatentkitError(
            f"the encoder returns {len(values)} outputs ({', '.join(names)}; shapes {shapes}): "
            f"give --output NAME|INDEX for the one that is z"
        )
    if len(shapes[0]) != 2:
        raise LatentkitError(
            f"the encoder's z has shape {shapes[0]}: latentkit studies flat z-points (N, D); "
            f"end the encoder with Flatten() or pick a flat output with --output"
        )
    z_dim = int(shapes[0][1])
    cast = [keras.ops.cast(v, "float32") for v in values]
    outputs = cast[0] if kind == "ae" else [cast[0], cast[1], cast[0]]
    return keras.Model(x, outputs, name="imported_encoder"), kind, z_dim


def _wrap_decoder(decoder, record: ImportRecord, z_dim: int, size: int, keras, path: Path):
    """keras.Model: z -> images in [0, 1] (float32)."""
    scale, offset = RANGES[record["input_range"]]
    z = keras.Input((z_dim,), dtype="float32", name="z")
    try:
        raw = decoder(z)
    except Exception as error:
        raise LatentkitError(
            call_failed(path, "decoder", error, f"cannot take z-points of {z_dim} (what the encoder gives)")
        ) from None
    values, _ = _outputs(raw, None)
    image = values[0]
    if tuple(image.shape[1:]) != (size, size, 3):
        raise LatentkitError(
            f"{path.name}'s decoder gives {tuple(image.shape[1:])}, the encoder takes "
            f"{(size, size, 3)}: give the decoder that belongs to this encoder"
        )
    unit = (keras.ops.cast(image, "float32") - offset) / scale
    return keras.Model(z, unit, name="imported_decoder")


def _check_encoder(encoder, batch: np.ndarray, kind: str, path: Path) -> np.ndarray:
    try:
        out = encoder(batch, training=False)
    except Exception as error:
        raise LatentkitError(call_failed(path, "encoder", error)) from None
    z = np.asarray(out[0] if kind == "vae" else out)
    if not np.isfinite(z).all():
        raise LatentkitError(
            f"{path.name}'s encoder gives NaN or infinite z on a batch of images: check "
            f"--input-range and the saved weights"
        )
    return z


def _check_decoder(
    raw_decoder, decoder, z: np.ndarray, record: ImportRecord, size: int, path: Path, events: JobEvents
) -> None:
    """Decode the batch's z; warn when the decoder's own outputs look like another pixel range."""
    try:
        values, _ = _outputs(raw_decoder(z, training=False), None)
        decoder(z, training=False)
    except Exception as error:
        raise LatentkitError(call_failed(path, "decoder", error)) from None
    raw = np.asarray(values[0], np.float64)
    low, high = float(raw.min()), float(raw.max())
    looks = "0:255" if high > 2.0 else "-1:1" if low < -0.02 else "0:1"
    if looks != record["input_range"]:
        events.message(
            f"warning: the decoder's outputs on one batch lie in [{low:.2f}, {high:.2f}], which looks like "
            f"--input-range {looks}, not {record['input_range']}: decoded images would be scaled wrongly"
        )
