"""Specs, networks, the sampling formula, the dataset, checkpoints, data parallelism, ``train``,
``encode``, decoding, and every memory estimate. The only room that imports Keras: the
modules that do at import (``networks``, ``dataset``, ``train``) are imported by name, not
re-exported here, so ``from latentkit.model import ...`` never loads a backend."""

from latentkit.model.decode import decode, load_model
from latentkit.model.encode import encode
from latentkit.model.images import grid, save_png
from latentkit.model.memory import estimate_ram_mb
from latentkit.model.spec import find_job, load_spec, parse_set, presets, spec_from_dict

__all__ = [
    "decode",
    "encode",
    "estimate_ram_mb",
    "grid",
    "save_png",
    "find_job",
    "load_model",
    "load_spec",
    "parse_set",
    "presets",
    "spec_from_dict",
]
