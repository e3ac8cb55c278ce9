"""Image grids written atomically as PNG."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from latentkit.core.atomic import atomic_write


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float [0, 1] images to uint8 (uint8 passes through)."""
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint(np.asarray(images, np.float32) * 255), 0, 255).astype(np.uint8)


def grid(images: np.ndarray, columns: int, pad: int = 2) -> np.ndarray:
    """(n, H, W, 3) images as one (rows*H, columns*W, 3) picture, white gaps between tiles."""
    images = to_uint8(images)
    n, h, w, c = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, c), 255, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w] = image
    return out


def save_png(picture: np.ndarray, path: str | os.PathLike, *, sharpen: float | None = None) -> Path:
    """Write a PNG atomically; optional PIL sharpening."""
    image = Image.fromarray(to_uint8(picture))
    if sharpen:
        image = ImageEnhance.Sharpness(image).enhance(sharpen)
    with atomic_write(path) as handle:
        image.save(handle, format="PNG")
    return Path(path)
