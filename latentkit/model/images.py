"""Image grids written atomically as PNG (or JPEG/WebP by suffix), tagged as latentkit's."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from latentkit.core import LatentkitError, atomic_write, check_file


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


FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
SOFTWARE = "latentkit"  # written into every picture: a later run may replace it, and no other file


def check_picture(path: str | os.PathLike, *, force: bool = False, option: str = "--out") -> Path:
    """Refuse up front a picture latentkit cannot write: an unknown suffix, a folder in the way,
    or an existing file that is not one of latentkit's pictures (unless ``force``)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise LatentkitError(f"{option} {path}: give a picture name ending in {', '.join(FORMATS)}")
    return check_file(path, option, force=force, ours=made_by_latentkit)


def made_by_latentkit(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a picture that latentkit wrote (its Software tag or comment)."""
    try:
        with Image.open(path) as image:
            tag = image.info.get("Software") or image.info.get("comment") or image.getexif().get(0x0131)
    except Exception:  # not a picture at all
        return False
    return (tag.decode("utf-8", "replace") if isinstance(tag, bytes) else str(tag or "")).startswith(SOFTWARE)


def save_png(picture: np.ndarray, path: str | os.PathLike, *, sharpen: float | None = None) -> Path:
    """Write a picture atomically in the format its suffix names (PNG unless .jpg/.jpeg/.webp),
    tagged as latentkit's; optional PIL sharpening."""
    path = Path(path)
    image = Image.fromarray(to_uint8(picture))
    if sharpen:
        image = ImageEnhance.Sharpness(image).enhance(sharpen)
    kind = FORMATS.get(path.suffix.lower(), "PNG")
    exif = Image.Exif()
    exif[0x0131] = SOFTWARE  # the EXIF Software tag: JPEG and WebP
    extra = {"pnginfo": _png_info()} if kind == "PNG" else {"exif": exif, "quality": 95}
    with atomic_write(path) as handle:
        image.save(handle, format=kind, **extra)
    return path


def _png_info():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", SOFTWARE)
    return info
