"""GPU memory that means something: the backends' allocator settings, their own figures, a budget.

TensorFlow maps nearly all of a GPU at first use unless memory growth is on, and JAX
preallocates 75 % of it: NVML's "used" then reads the pool, not what a job needs.
``import latentkit`` (before any backend) sets both to allocate on demand; the backends' own
variables, set by the user, win, and ``--vram-pool`` (``LATENTKIT_VRAM_POOL=1``) keeps their
preallocated pools for speed. Nothing here imports a backend; without a GPU every figure is None.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from latentkit.spec import ModelSpec

MB = 1024 * 1024
POOL_ENV = "LATENTKIT_VRAM_POOL"
# variable: (value that allocates on demand, value that keeps the backend's pool)
ALLOCATOR_SETTINGS = {"TF_FORCE_GPU_ALLOW_GROWTH": ("true", "false"), "XLA_PYTHON_CLIENT_PREALLOCATE": ("false", "true")}
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
            import tensorflow as tf

            if not tf.config.list_logical_devices("GPU"):
                return empty
            info = tf.config.experimental.get_memory_info("GPU:0")
            if reset_peak:
                tf.config.experimental.reset_memory_stats("GPU:0")
            return {"vram_backend_mb": round(info["current"] / MB, 1), "vram_backend_peak_mb": round(info["peak"] / MB, 1),
                    "vram_peak_since": "line" if reset_peak else "start"}  # fmt: skip
        if backend == "jax":
            import jax

            gpus = [d for d in jax.local_devices() if d.platform == "gpu"]
            stats = gpus[0].memory_stats() if gpus else None
            if not stats:
                return empty
            return {"vram_backend_mb": round(stats["bytes_in_use"] / MB, 1),
                    "vram_backend_peak_mb": round(stats.get("peak_bytes_in_use", 0) / MB, 1), "vram_peak_since": "start"}  # fmt: skip
    except Exception:  # a backend without these APIs, a device that will not say: n/a
        return empty
    return empty


def is_out_of_memory(error: BaseException) -> bool:
    """TensorFlow's ResourceExhaustedError or JAX's RESOURCE_EXHAUSTED runtime error."""
    if type(error).__name__ == "ResourceExhaustedError":
        return True
    text = str(error)
    return type(error).__name__ in ("XlaRuntimeError", "JaxRuntimeError") and (
        "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower())  # fmt: skip


def _layers(spec: ModelSpec) -> tuple[int, int, int]:
    """Parameters of encoder and decoder, and floats of activation per image (forward pass)."""
    side, channels, params, activations = spec.image_size, 3, 0, 0
    for filters, kernel, stride in zip(spec.encoder_filters, spec.encoder_kernels, spec.encoder_strides):
        params += kernel * kernel * channels * filters + filters
        side, channels = side // stride, filters
        activations += 2 * side * side * filters  # convolution output and its activation
    flat = side * side * channels
    heads = 1 if spec.kind == "ae" else 2
    if spec.kind == "vae" and spec.extra_dense:
        params += flat * spec.z_dim + spec.z_dim
        flat = spec.z_dim
    params += heads * (flat * spec.z_dim + spec.z_dim)
    encoder_params = params
    first = side * side * channels
    params += spec.z_dim * first + first
    activations += 2 * first
    for filters, kernel, stride in zip(spec.decoder_filters, spec.decoder_kernels, spec.decoder_strides):
        params += kernel * kernel * filters * channels + filters
        side, channels = side * stride, filters
        activations += 2 * side * side * filters
    return encoder_params, params - encoder_params, activations


def count_params(spec: ModelSpec) -> tuple[int, int]:
    """(encoder, decoder) trainable parameters, from the spec alone (no Keras)."""
    encoder, decoder, _ = _layers(spec)
    return encoder, decoder


def estimate_train_mb(spec: ModelSpec, batch: int) -> tuple[float, dict[str, float]]:
    """Device memory a training step needs, roughly: weights, gradients and Adam's two moments
    (float32), the batch (uint8 and float32), and every activation kept for the backward pass
    plus its gradient. Convolution workspaces come on top (the 25 % margin)."""
    encoder, decoder, activations = _layers(spec)
    image = spec.image_size * spec.image_size * 3
    parts = {
        "weights, gradients, Adam moments": 4 * (encoder + decoder) * 4 / MB,
        "batch (uint8 + float32)": batch * image * 5 / MB,
        "activations and their gradients": batch * activations * 4 * 2 / MB,
    }
    parts["workspace margin (25%)"] = 0.25 * sum(parts.values())
    return sum(parts.values()), parts


def estimate_encode_mb(spec: ModelSpec, batch: int) -> tuple[float, dict[str, float]]:
    """Device memory an encoder call needs, roughly: its weights, the batch, the activations."""
    encoder, _, activations = _layers(spec)
    image = spec.image_size * spec.image_size * 3
    parts = {
        "encoder weights": encoder * 4 / MB,
        "batch (uint8 + float32)": batch * image * 5 / MB,
        "encoder activations": batch * activations * 4 / 2 / MB,  # about half the model's are the encoder's
    }
    parts["workspace margin (25%)"] = 0.25 * sum(parts.values())
    return sum(parts.values()), parts


def check_budget(need_mb: float, parts: dict[str, float], *, max_vram: str, what: str) -> None:
    """Refuse up front, with the estimate's parts, when ``need_mb`` is over ``max_vram``."""
    from latentkit.errors import LatentkitError
    from latentkit.options import parse_size

    if need_mb * MB > parse_size(max_vram):
        detail = ", ".join(f"{k} {v:,.0f} MB" for k, v in parts.items())
        raise LatentkitError(f"{what} needs about {need_mb:,.0f} MB of GPU memory, over --max-vram {max_vram} "
                             f"({detail}): lower --batch")  # fmt: skip
