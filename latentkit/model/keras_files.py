"""An outside Keras model, loaded as safely as Keras allows: the modules its custom classes come
from, the file or the factory, Keras 3's pitfalls in one line each, and its encoder and decoder
found among its sub-models (``latentkit.model.import_model`` makes a run of it)."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from latentkit.core import JobEvents, LatentkitError
from latentkit.model.results import ImportRecord

# -- modules: custom classes and factories ------------------------------------------------


def module_record(given: str, option: str) -> dict[str, str]:
    """How to import a module again from any folder (a dotted name, found from the working
    folder too, or a .py file): its name and the sys.path entry it is under. Checked here
    without importing it (``_resolve`` imports it once Keras is loaded)."""
    path = Path(given)
    if given.endswith(".py") or path.is_file():
        if not path.is_file():
            raise LatentkitError(f"{option} {given}: no such file")
        return {"module": path.stem, "path_entry": str(path.resolve().parent)}
    return {"module": given, "path_entry": os.getcwd()}


def factory_record(factory: str) -> dict[str, str]:
    module, sep, function = factory.rpartition(":")
    if not sep or not module or not function.isidentifier():
        raise LatentkitError(f"--factory takes MODULE:FUNCTION (e.g. mymodels:build_autoencoder), got {factory!r}")
    return module_record(module, "--factory") | {"function": function}


def resolve_module(record: dict[str, str] | None, option: str) -> None:
    """Import the module (after Keras, so its import stays quiet), and record the folder its
    top-level package is in: /x for /x/a/b.py (module a.b) or /x/a/b/__init__.py."""
    if record is None:
        return
    module = _import(record, option)
    parts = record["module"].split(".")
    if module.__file__:
        origin = Path(module.__file__).resolve()
        record["path_entry"] = str(origin.parents[len(parts) - 1 + (origin.name == "__init__.py")])
    if "function" in record and not callable(getattr(module, record["function"], None)):
        raise LatentkitError(
            f"--factory {record['module']}:{record['function']}: {record['module']} has no function "
            f"{record['function']}"
        )


def _import(record: dict[str, str], option: str) -> ModuleType:
    if record["path_entry"] not in sys.path:
        sys.path.insert(0, record["path_entry"])
    try:
        return importlib.import_module(record["module"])
    except ModuleNotFoundError as error:
        raise LatentkitError(
            f"{option} {record['module']}: no module named {error.name!r} (give a module importable "
            f"from {record['path_entry']}, or a .py file)"
        ) from None
    except Exception as error:
        raise LatentkitError(
            f"{option} {record['module']}: importing it failed: {type(error).__name__}: {first_line(error)}"
        ) from None


def _custom_objects(record: ImportRecord, keras) -> dict[str, Any]:
    """The Keras classes the --custom-objects module defines (registered or not), by class name."""
    given = record.get("custom_objects")
    if not given:
        return {}
    module = _import(given, "--custom-objects")
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, keras.layers.Layer)
    }


# -- loading, with the pitfalls in one line each -------------------------------------------


def load_file(path: Path, record: ImportRecord, keras):
    objects = _custom_objects(record, keras)
    try:
        factory = record.get("factory")
        if factory:
            return _from_factory(path, factory, keras)
        return keras.saving.load_model(path, custom_objects=objects, compile=False, safe_mode=not record["unsafe"])
    except LatentkitError:
        raise
    except Exception as error:
        raise LatentkitError(pitfall(path, error, record, keras)) from None


def _from_factory(path: Path, factory: dict[str, str], keras):
    try:
        model = getattr(_import(factory, "--factory"), factory["function"])()
    except LatentkitError:
        raise
    except Exception as error:
        raise LatentkitError(
            f"--factory {factory['module']}:{factory['function']}() failed: {type(error).__name__}: {first_line(error)}"
        ) from None
    if not isinstance(model, keras.Model):
        raise LatentkitError(
            f"--factory {factory['module']}:{factory['function']}() returned a "
            f"{type(model).__name__}, not a Keras model"
        )
    if not model.built:
        raise LatentkitError(
            f"the model --factory {factory['module']}:{factory['function']}() returns is not built: "
            f"build it in the factory (model.build(input_shape) or call it on a batch)"
        )
    model.load_weights(path)
    return model


def pitfall(path: Path, error: Exception, record: ImportRecord, keras) -> str:
    text = str(error)
    foreign = _foreign_backend(error, keras.backend.backend())
    if foreign:
        return _backend_line(path, error, foreign, keras.backend.backend())
    missing = _missing_class(error)
    if missing is not None:
        name = missing
        given = record.get("custom_objects")
        if given:
            return (
                f"{path} uses the class {name}, which {given['module']} does not define or register: pass the "
                f"module that defines it with @keras.saving.register_keras_serializable() to --custom-objects"
            )
        return (
            f"{path} uses the class {name}, which Keras does not know: pass --custom-objects MODULE (or a .py "
            f"file) that defines it with @keras.saving.register_keras_serializable()"
        )
    if "`Lambda` layer" in text or "safe_mode" in text:
        return (
            f"{path} has a Lambda layer, whose stored Python code would run on loading: latentkit loads it only "
            f"with --unsafe (do so only for a model you trust)"
        )
    if "was never built" in text:
        layer = text.split("'")[1] if "'" in text else "?"
        return (
            f"{path}: layer {layer!r} was never built when the model was saved, so Keras cannot place its "
            f"weights (keras #18823): its class's build() must create every weight; fix it and save again, or "
            f"save the weights and import them with --factory"
        )
    if "File format not supported" in text:
        return (
            f"{path} is not a file Keras 3 loads (.keras or legacy .h5): save the model with model.save('model.keras')"
        )
    return (
        f"{path} could not be loaded by Keras {keras.__version__} on the {keras.backend.backend()} backend: "
        f"{type(error).__name__}: {first_line(error)}"
    )


BACKEND_PACKAGES = {"jax": "jax", "jaxlib": "jax", "torch": "torch", "tensorflow": "tensorflow"}


def _foreign_backend(error: BaseException, current: str) -> str | None:
    """Another backend's package that the failing code ran into (a layer calling jax.numpy under
    TensorFlow), from the frames of the error and its causes; None when there is none."""
    import re
    import traceback

    seen = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        for frame in traceback.extract_tb(cause.__traceback__):
            match = re.search(r"[/\\](jax|jaxlib|torch|tensorflow)[/\\]", frame.filename)
            if match and BACKEND_PACKAGES[match.group(1)] != current:
                return BACKEND_PACKAGES[match.group(1)]
        cause = cause.__cause__ or cause.__context__
    return None


def _backend_line(path: Path, error: BaseException, foreign: str, current: str) -> str:
    import re

    layer = None
    cause: BaseException | None = error
    while cause is not None and layer is None:
        found = re.search(r"when calling (\w+)\.call\(\)", str(cause))
        layer = found.group(1) if found else None
        cause = cause.__cause__ or cause.__context__
    who = f"its layer {layer}" if layer else "one of its layers"
    return (
        f"{path.name}: {who} calls {foreign} functions directly, so it runs only under Keras' {foreign} backend "
        f"(this is {current}): run with KERAS_BACKEND={foreign}"
    )


def _missing_class(error: BaseException) -> str | None:
    """The class or function Keras could not find, from the error or any error behind it."""
    import re

    seen = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        found = re.search(r"Could not (?:locate|deserialize) (?:class|function) '([^']+)'", str(cause))
        if found and "keras.src" not in found.group(1):
            return found.group(1)
        cause = cause.__cause__ or cause.__context__
    return None


def first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [""])[0][:300]


@dataclass
class _Parts:
    encoder: Any
    decoder: Any
    record: ImportRecord  # what the import records of where they were found (encoder, decoder)


def _sub_models(model, keras) -> dict[str, Any]:
    """Sub-networks of a model by layer name and by attribute name (a subclassed model's self.encoder)."""
    found = {layer.name: layer for layer in model.layers if isinstance(layer, keras.Model)}
    for attribute, value in vars(model).items():
        layer = not attribute.startswith("_") and isinstance(value, keras.layers.Layer) and value is not model
        if layer and (isinstance(value, keras.Model) or getattr(value, "_layers", None)):
            found.setdefault(attribute, value)
    return found


def _rank_of_input(layer) -> int | None:
    shape = input_shape(layer)
    return None if shape is None else len(shape)


def input_shape(layer) -> tuple | None:
    try:
        inputs = layer.inputs
    except (AttributeError, ValueError):
        inputs = None
    if inputs:
        return tuple(inputs[0].shape)
    shapes = getattr(layer, "_build_shapes_dict", None) or {}
    shape = next(iter(shapes.values()), None)
    return tuple(shape) if shape is not None else None


def find_parts(models: list, record: ImportRecord, keras, events: JobEvents | None) -> _Parts:
    if len(models) == 2:
        return _Parts(models[0], models[1], {})
    model = models[0]
    parts = _sub_models(model, keras)
    wanted = {"encoder": record.get("encoder"), "decoder": record.get("decoder")}

    def listing() -> str:
        if not parts:
            return "it has no sub-models"
        return "it has: " + ", ".join(f"{name} (input {input_shape(part)})" for name, part in parts.items())

    chosen: dict[str, str] = {}
    for role, name in wanted.items():
        if name is not None:
            if name not in parts:
                raise LatentkitError(f"--{role} {name}: the model has no sub-model of that name; {listing()}")
            chosen[role] = name
        elif role in parts:
            chosen[role] = role
    if len(chosen) < 2 and parts and not (wanted["encoder"] and not wanted["decoder"] and "decoder" not in parts):
        by_rank = {rank: [n for n, p in parts.items() if _rank_of_input(p) == rank] for rank in (2, 4)}
        for role, rank in (("encoder", 4), ("decoder", 2)):
            if role not in chosen and len(by_rank[rank]) == 1:
                chosen[role] = by_rank[rank][0]
                if events is not None:
                    events.message(f"{role}: the sub-model {chosen[role]!r} (input {input_shape(parts[chosen[role]])})")
        if "encoder" not in chosen or "decoder" not in chosen:
            raise LatentkitError(
                f"cannot tell the encoder and decoder apart: give --encoder NAME and --decoder NAME; {listing()}"
            )
    if not chosen:  # no sub-models: the file is an encoder on its own, or one network from images to images
        return _Parts(model, None, {"encoder": None, "decoder": None})
    decoder = chosen.get("decoder")
    return _Parts(
        parts[chosen["encoder"]],
        None if decoder is None else parts.get(decoder),
        {"encoder": chosen["encoder"], "decoder": decoder},
    )


def call_failed(path: Path, part: str, error: Exception, what: str = "fails on one batch") -> str:
    from latentkit.model.backend import keras

    current = keras.backend.backend()
    foreign = _foreign_backend(error, current)
    if foreign:
        return _backend_line(path, error, foreign, current)
    return f"{path.name}'s {part} {what} under Keras' {current} backend: {type(error).__name__}: {first_line(error)}"
