"""Decoding one image file into the store's square RGB uint8 pixels: the one decode every reader uses.

Any mode Pillow opens (RGB, grayscale, CMYK, palette, 16-bit, RGBA composited on white)
becomes RGB; EXIF orientation is applied (phone photos). A JPEG whose target is at most
half its crop is decoded at reduced scale (``Image.draft``: 1/2, 1/4 or 1/8 in the DCT
domain), which averages pixel blocks before the bilinear resize: measured on CelebA-format
photos at --size 64 the pixels differ from a full decode by 1.36 grey levels on average (up to
~25 at sharp edges), and decoding is 1.4-2x faster (BENCHMARKS.md).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

Crop = tuple[int, int, int, int] | str  # a box (x0, y0, x1, y1) or "center": the largest central square


class CropOutside(ValueError):
    """The crop box does not fit in the image: a crop problem, not a corrupt file."""

    def __init__(self, box, width: int, height: int) -> None:
        super().__init__(f"crop {box} outside a {width}x{height} image")
        self.width, self.height = width, height


def center_box(width: int, height: int) -> tuple[int, int, int, int]:
    side = min(width, height)
    x0, y0 = (width - side) // 2, (height - side) // 2
    return x0, y0, x0 + side, y0 + side


def _box(crop: Crop, width: int, height: int) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) that ``crop`` names in a width x height image."""
    if isinstance(crop, str):
        if crop != "center":
            raise ValueError(f"unknown crop {crop!r}: a box (x0, y0, x1, y1) or 'center'")
        return center_box(width, height)
    return crop


def decode_image(data: bytes, *, crop: Crop, size: int, draft: bool = True) -> np.ndarray:
    """Decode, crop and resize (bilinear) one image to (size, size, 3) uint8.

    Raises ``CropOutside`` for a crop box outside the image, Pillow's errors (or ``ValueError``)
    for a corrupt one.
    """
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        transposed = image.getexif().get(0x0112, 1) not in (1, None)  # EXIF orientation
        box = _box(crop, width, height)
        if not transposed and (box[2] > width or box[3] > height):
            raise CropOutside(box, width, height)
        scale = 1.0
        if draft and not transposed and image.format == "JPEG" and 2 * size <= min(box[2] - box[0], box[3] - box[1]):
            want = (int(width * size / (box[2] - box[0])) + 1, int(height * size / (box[3] - box[1])) + 1)
            image.draft("RGB", want)  # picks the largest DCT reduction that stays at least this big
            scale = 1 / round(width / image.size[0])  # 1/2, 1/4 or 1/8 (the size is rounded up)
        upright: Image.Image = image
        if transposed:
            upright = ImageOps.exif_transpose(image)
            width, height = upright.size
            box = _box(crop, width, height)
            if box[2] > width or box[3] > height:
                raise CropOutside(box, width, height)
        rgb = _to_rgb(upright)
        if scale == 1.0:
            out = rgb.crop(box).resize((size, size), Image.Resampling.BILINEAR)
        else:
            scaled = (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)
            out = rgb.resize((size, size), Image.Resampling.BILINEAR, box=scaled)
    return np.asarray(out, dtype=np.uint8)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode.startswith("I;16") or image.mode == "I":
        return Image.fromarray((np.asarray(image, np.float64) / 257).clip(0, 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")  # grayscale, CMYK, palette, YCbCr


def decode_images(src, *, size: int, crop: Crop, limit: int | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """Your own photos, as ``prepare`` makes them: every image file of a folder, zip or tar
    (``sources.open_source``; sorted by name, at most ``limit``), decoded, cropped and resized
    by ``decode_image``. Returns the images (N, size, size, 3) uint8, their names, and a line
    per file that could not be used (corrupt, crop outside it)."""
    from latentkit.ingest.sources import is_image_name, open_source

    source = open_source(src)
    try:
        names = sorted(f for f in source.files if is_image_name(f))[:limit]
        images, kept, skipped = [], [], []
        for name in names:
            try:
                images.append(decode_image(source.read(name), crop=crop, size=size))
                kept.append(name)
            except CropOutside as error:
                skipped.append(f"{name}: {error}")
            except Exception as error:  # Pillow's errors for a corrupt file
                skipped.append(f"{name}: not a readable image ({type(error).__name__})")
    finally:
        source.close()
    empty = np.zeros((0, size, size, 3), np.uint8)
    return (np.stack(images) if images else empty), kept, skipped
