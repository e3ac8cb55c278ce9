"""Specs, networks, the sampling formula, the dataset, checkpoints, data parallelism, ``train``,
``encode``, decoding, and every memory estimate. The only room that imports Keras: the
modules that do at import (``networks``, ``dataset``, ``train``) are imported by name, not
re-exported here, so ``from latentkit.model import ...`` never loads a backend. Neither are
names that are also modules (``encode``, ``decode``): ``from latentkit.model.encode import encode``."""

from latentkit.model import checkpoint
from latentkit.model.decode import load_model
from latentkit.model.images import check_picture, grid, save_png
from latentkit.model.memory import check_budget, estimate_encode_mb, estimate_ram_mb, estimate_train_mb
from latentkit.model.sampling import reparameterize
from latentkit.model.spec import JobSpec, ModelSpec, find_job, load_spec, parse_set, presets, spec_from_dict

__all__ = ["JobSpec", "ModelSpec", "check_budget", "check_picture", "checkpoint", "estimate_encode_mb",
           "estimate_ram_mb", "estimate_train_mb", "find_job", "grid", "load_model", "load_spec", "parse_set",
           "presets", "reparameterize", "save_png", "spec_from_dict"]  # fmt: skip
