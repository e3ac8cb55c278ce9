"""Every memory estimate in one place, from the spec alone (no Keras): the parameters, a training
step's and an encoder call's GPU memory (``--max-vram``), and an encode worker's RAM
(``--max-ram``, ``latentkit env``'s suggested ``--chunk``/``--batch``).
"""

from __future__ import annotations

import numpy as np

from latentkit.core import MB, LatentkitError, parse_size
from latentkit.model.spec import ModelSpec

TF_BASELINE_MB = 900  # RSS of a Python process with TensorFlow and a small model, measured here
DATA_CACHE_CHUNKS = 2  # chunks of images the encode reader keeps (the one encoded, the one read ahead)


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
    last = len(spec.decoder_filters) - 1
    for i, (filters, kernel, stride) in enumerate(
        zip(spec.decoder_filters, spec.decoder_kernels, spec.decoder_strides)
    ):
        params += kernel * kernel * filters * channels + filters  # a transposed or a resize convolution alike
        side, channels = side * stride, filters
        activations += (3 if spec.upsampling == "resize" else 2) * side * side * filters
        if i != last:  # residual blocks: two 3x3 convolutions each, their activations and the sum
            params += spec.residual_blocks * 2 * (9 * filters * filters + filters)
            activations += spec.residual_blocks * 5 * side * side * filters
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
    if need_mb * MB > parse_size(max_vram, option="--max-vram"):
        detail = ", ".join(f"{k} {v:,.0f} MB" for k, v in parts.items())
        raise LatentkitError(
            f"{what} needs about {need_mb:,.0f} MB of GPU memory, over --max-vram {max_vram} ({detail}): lower --batch"
        )


def estimate_ram_mb(*, image_shape, batch: int, chunk: int, data_chunk: int, n_params: int, outputs: int, z_dim: int):
    """Peak RSS estimate (MB) of an encode worker; independent of N by construction."""
    image_bytes = int(np.prod(image_shape))
    parts = {
        "tensorflow + runtime": TF_BASELINE_MB,
        "model (weights + optimizer state)": n_params * 4 * 3 / 2**20,
        "data chunk cache": DATA_CACHE_CHUNKS * data_chunk * image_bytes / 2**20,
        "batches in flight (uint8, float32 in the graph)": batch * image_bytes * (2 + 4) / 2**20,
        "encoder activations": 4 * batch * image_bytes * 4 / 2**20,
        "output chunks (one written while the next is encoded)": 2 * chunk * z_dim * 4 * outputs / 2**20,
    }
    return sum(parts.values()), parts
