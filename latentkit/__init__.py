"""latentkit: study autoencoder latent spaces on real image datasets with small machines."""

__version__ = "0.1.0"

import os as _os

# TensorFlow's C++ log (grappler's "remapper failed" lines during the first epoch and the like)
# hides the job's own output: off unless you set it, or pass --verbose (latentkit.model.backend).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Before any backend touches a GPU: allocate on demand, so VRAM figures mean what a job needs.
from latentkit.machine.allocators import configure_allocators as _configure_allocators

_configure_allocators()
