"""GPU memory that means something: the backends' allocator settings and their own figures.

TensorFlow maps nearly all of a GPU at first use unless memory growth is on, and JAX
preallocates 75 % of it: NVML's "used" then reads the pool, not what a job needs.
``import latentkit`` (before any backend) sets both to allocate on demand; the backends' own
variables, set by the user, win, and ``--vram-pool`` (``LATENTKIT_VRAM_POOL=1``) keeps their
preallocated pools for speed. Nothing here imports a backend; without a GPU every figure is None.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from latentkit.core import MB

POOL_ENV = "LATENTKIT_VRAM_POOL"
# variable: (value that allocates on demand, value that keeps the backend's pool)
ALLOCATOR_SETTINGS = {
    "TF_FORCE_GPU_ALLOW_GROWTH": ("true", "false"),
    "XLA_PYTHON_CLIENT_PREALLOCATE": ("false", "true"),
}
# What latentkit itself set ("NAME=value,..."), so that processes started from this one (a
# notebook's `!latentkit train --vram-pool`) do not take those values for the user's choice.
OURS_ENV = "LATENTKIT_ALLOCATOR_DEFAULTS"


def _set_by_user() -> set[str]:
    ours = set(filter(None, os.environ.get(OURS_ENV, "").split(",")))
    return {name for name in ALLOCATOR_SETTINGS if name in os.environ and f"{name}={os.environ[name]}" not in ours}


_SET_BY_USER = _set_by_user()


def configure_allocators(*, pool: bool | None = None) -> None:
    """Set the backends' allocator variables: on demand (default) or their preallocated pools.

    Must run before a backend first touches the GPU (``import latentkit`` does it); a
    variable the user set in the environment is left alone.
    """
    pool = os.environ.get(POOL_ENV) == "1" if pool is None else pool
    ours = []
    for name, (grow, keep) in ALLOCATOR_SETTINGS.items():
        if name not in _SET_BY_USER:
            os.environ[name] = keep if pool else grow
            ours.append(f"{name}={os.environ[name]}")
    os.environ[OURS_ENV] = ",".join(ours)


def backend_loaded() -> bool:
    return "tensorflow" in sys.modules or "jax" in sys.modules


def backend_memory(*, reset_peak: bool = True) -> dict[str, Any]:
    """Bytes (MB) the running backend has in use on the first GPU now and at its peak.

    TensorFlow's peak is reset after each reading, so it is the peak since the previous
    line; JAX has no reset, so its peak is since the process started (``vram_peak_since``).
    All None without a GPU or before the backend is loaded (reading never loads one).
    """
    empty = {"vram_backend_mb": None, "vram_backend_peak_mb": None, "vram_peak_since": None}
    keras = sys.modules.get("keras")
    if keras is None:
        return empty
    try:
        backend = keras.backend.backend()
        if backend == "tensorflow":
            tf = sys.modules["tensorflow"]  # loaded by Keras: read, never imported here
            if not tf.config.list_logical_devices("GPU"):
                return empty
            info = tf.config.experimental.get_memory_info("GPU:0")
            if reset_peak:
                tf.config.experimental.reset_memory_stats("GPU:0")
            return {
                "vram_backend_mb": round(info["current"] / MB, 1),
                "vram_backend_peak_mb": round(info["peak"] / MB, 1),
                "vram_peak_since": "line" if reset_peak else "start",
            }
        if backend == "jax":
            jax = sys.modules["jax"]
            gpus = [d for d in jax.local_devices() if d.platform == "gpu"]
            stats = gpus[0].memory_stats() if gpus else None
            if not stats:
                return empty
            return {
                "vram_backend_mb": round(stats["bytes_in_use"] / MB, 1),
                "vram_backend_peak_mb": round(stats.get("peak_bytes_in_use", 0) / MB, 1),
                "vram_peak_since": "start",
            }
    except Exception:  # a backend without these APIs, a device that will not say: n/a
        return empty
    return empty


def is_out_of_memory(error: BaseException) -> bool:
    """TensorFlow's ResourceExhaustedError or JAX's RESOURCE_EXHAUSTED runtime error."""
    if type(error).__name__ == "ResourceExhaustedError":
        return True
    text = str(error)
    return type(error).__name__ in ("XlaRuntimeError", "JaxRuntimeError") and (
        "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower()
    )


def keras_backend() -> str:
    """The backend Keras will load in this process, read as Keras reads it (``KERAS_BACKEND``,
    else ``~/.keras/keras.json``, else TensorFlow), without importing it."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"
