"""Reading CelebA as users have it: the ``img_align_celeba`` folder or its zip, plus the
annotation text files (CRLF lines; the attribute file's count line, header line and runs
of spaces). Nothing here writes files.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from latentkit.errors import LatentkitError

IMAGE_DIR = "img_align_celeba"
PARTITION_FILE = "list_eval_partition.txt"
ATTRIBUTE_FILE = "list_attr_celeba.txt"
# The official split by file number, used when list_eval_partition.txt is absent.
SPLIT_BOUNDS = (162_770, 182_637)
NO_PARTITION = 255
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class CelebaSource:
    """What an input holds: image names (sorted) and their annotations."""

    path: Path
    is_zip: bool
    names: list[str]
    members: list[str]  # path of each image inside the folder or zip
    partition: np.ndarray  # (n,) uint8
    attribute_names: list[str]
    attributes: np.ndarray  # (n, 40) int8, 0 where unknown
    annotation_files: dict[str, str] = field(default_factory=dict)


def open_celeba(src: str | os.PathLike) -> CelebaSource:
    """Index a CelebA folder or zip; raise LatentkitError when it holds no images."""
    path = Path(src)
    if not path.exists():
        raise LatentkitError(f"{path} does not exist")
    texts: dict[str, str] = {}
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise LatentkitError(f"{path} is neither a folder nor a zip file")
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(IMAGE_SUFFIXES)]
            for member in archive.namelist():
                if Path(member).name in (PARTITION_FILE, ATTRIBUTE_FILE):
                    texts[Path(member).name] = archive.read(member).decode("utf-8", "replace")
        search = [path.parent]
    else:
        image_dir = path / IMAGE_DIR if (path / IMAGE_DIR).is_dir() else path
        members = [str(image_dir / e.name) for e in os.scandir(image_dir) if e.name.lower().endswith(IMAGE_SUFFIXES)]
        search = [image_dir, image_dir.parent]
    if not members:
        raise LatentkitError(f"no images (*.jpg, *.png) found in {path}")
    for folder in search:  # files beside the folder or zip win over copies inside a zip
        for name in (PARTITION_FILE, ATTRIBUTE_FILE):
            if name not in texts and (folder / name).is_file():
                texts[name] = (folder / name).read_text("utf-8", "replace")
    members.sort(key=lambda m: Path(m).name)
    names = [Path(m).name for m in members]
    partition = _partition(names, texts.get(PARTITION_FILE))
    attribute_names, attributes = _attributes(names, texts.get(ATTRIBUTE_FILE))
    return CelebaSource(
        path=path, is_zip=path.is_file(), names=names, members=members, partition=partition,
        attribute_names=attribute_names, attributes=attributes,
        annotation_files={k: "found" for k in texts},
    )  # fmt: skip


def _partition(names: list[str], text: str | None) -> np.ndarray:
    if text is None:
        out = np.zeros(len(names), np.uint8)
        for i, name in enumerate(names):
            stem = Path(name).stem
            number = int(stem) if stem.isdigit() else 0
            out[i] = 0 if number <= SPLIT_BOUNDS[0] else (1 if number <= SPLIT_BOUNDS[1] else 2)
        return out
    table = {}
    for line in text.splitlines():  # splitlines handles CRLF
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("0", "1", "2"):
            table[parts[0]] = int(parts[1])
    return np.array([table.get(name, NO_PARTITION) for name in names], np.uint8)


def _attributes(names: list[str], text: str | None) -> tuple[list[str], np.ndarray]:
    if text is None:
        return [], np.zeros((len(names), 0), np.int8)
    lines = text.splitlines()
    if len(lines) < 2:
        raise LatentkitError(f"{ATTRIBUTE_FILE} is too short: expected a count line and a header line")
    header = lines[1].split()
    index = {name: i for i, name in enumerate(names)}
    values = np.zeros((len(names), len(header)), np.int8)
    for line in lines[2:]:
        parts = line.split()  # runs of spaces
        if len(parts) == len(header) + 1 and parts[0] in index:
            values[index[parts[0]]] = np.array(parts[1:], np.int8)
    return header, values


class ImageReader:
    """Reads image bytes by member path; one zip handle per thread (ZipFile seeks a shared file)."""

    def __init__(self, source: CelebaSource) -> None:
        self._source = source
        self._local = threading.local()
        self._handles: list[zipfile.ZipFile] = []

    def read(self, member: str) -> bytes:
        if not self._source.is_zip:
            with open(member, "rb") as handle:
                return handle.read()
        archive = getattr(self._local, "archive", None)
        if archive is None:
            archive = self._local.archive = zipfile.ZipFile(self._source.path)
            self._handles.append(archive)
        return archive.read(member)

    def close(self) -> None:
        for archive in self._handles:
            archive.close()


def decode_face(data: bytes, *, crop: tuple[int, int, int, int], size: int) -> np.ndarray:
    """Decode a JPEG/PNG, crop ``crop`` (x0, y0, x1, y1) and resize to (size, size, 3) uint8.

    Raises ``ValueError`` (or PIL's errors) for a corrupt image or a crop outside it.
    """
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if crop[2] > width or crop[3] > height:
            raise ValueError(f"crop {crop} outside a {width}x{height} image")
        rgb = image.convert("RGB")  # grayscale and CMYK JPEGs too
        out = rgb.crop(crop).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.uint8)
