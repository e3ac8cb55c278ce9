"""Specs, networks, the sampling formula, the dataset, checkpoints, data parallelism, ``train``,
``encode``, ``import-model``, a run's model described (``runs``) and loaded behind array
functions (``codec``), and every memory estimate. The only room that imports Keras: the
modules that do at import (``networks``, ``dataset``, ``fitting``) are imported by name, not
re-exported here, so ``from latentkit.model import ...`` never loads a backend. Neither are
names that are also modules (``encode``): ``from latentkit.model.encode import encode``."""

from latentkit.model import checkpoint
from latentkit.model.codec import Codec, load_model
from latentkit.model.images import check_picture, grid, save_png
from latentkit.model.memory import check_budget, estimate_encode_mb, estimate_ram_mb, estimate_train_mb
from latentkit.model.runs import RunModel, latents_store, read_run, stale_latents
from latentkit.model.sampling import reparameterize
from latentkit.model.spec import JobSpec, ModelSpec, find_job, load_spec, parse_set, presets, spec_from_dict

__all__ = [
    "Codec",
    "JobSpec",
    "ModelSpec",
    "RunModel",
    "check_budget",
    "check_picture",
    "checkpoint",
    "estimate_encode_mb",
    "estimate_ram_mb",
    "estimate_train_mb",
    "find_job",
    "grid",
    "latents_store",
    "load_model",
    "load_spec",
    "parse_set",
    "presets",
    "read_run",
    "reparameterize",
    "save_png",
    "spec_from_dict",
    "stale_latents",
]
