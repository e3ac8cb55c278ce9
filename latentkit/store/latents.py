"""Latents as the analysis room reads them: opened and checked once (``open_latents``), then read
in blocks of whole chunks (``block_ranges``, ``read_blocks``, ``usable_blocks``), so memory holds
one block whatever N is."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import zarr

from latentkit.core import LatentkitError
from latentkit.store.chunks import chunk_progress
from latentkit.store.layout import DONE, get_array, read_all

if TYPE_CHECKING:
    from latentkit.store.vectors import _Rows


def open_latents(path: str | os.PathLike, column: str | None = None) -> tuple[zarr.Array | _Rows, np.ndarray | None]:
    """A (N, D) array (or a group's ``z``) and the rows to use (``ok`` & done), or None for all.
    Also a user's vectors: a .npy file, a folder of .npy shards, a parquet file's ``column``
    (``latentkit.store.vectors``), read as a zarr array is."""
    from latentkit.store.vectors import open_vectors

    path = Path(path)
    if not path.exists():
        raise LatentkitError(f"no latents at {path}")
    vectors = open_vectors(path, column)
    if vectors is not None:
        if 0 in vectors.shape:
            raise LatentkitError(f"{path} is empty (shape {vectors.shape})")
        return vectors, None
    try:
        node = zarr.open(path, mode="r")
    except Exception as error:
        raise LatentkitError(f"{path} is not a zarr array or group ({type(error).__name__})") from None
    mask = None
    if isinstance(node, zarr.Group):
        if "z" not in node:
            raise LatentkitError(f"{path} is a group without a 'z' array")
        if DONE in node:
            progress = chunk_progress(node)
            if not progress.complete:
                raise LatentkitError(
                    f"{path} is incomplete: {len(progress.missing)} chunks not encoded yet (rerun encode)"
                )
        if "ok" in node:
            mask = read_all(node, "ok").astype(bool)
        node = get_array(node, "z")
    if node.ndim != 2:
        raise LatentkitError(f"latents must be a 2-D array (N, D), {path} has shape {node.shape}")
    if node.shape[0] == 0 or node.shape[1] == 0:
        raise LatentkitError(f"{path} is empty (shape {node.shape})")
    return node, mask


def block_ranges(array, read_rows: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of each block: about ``read_rows`` rows, a whole number of the array's chunks."""
    chunk = array.chunks[0]
    step = max(chunk, read_rows // chunk * chunk)
    for start in range(0, array.shape[0], step):
        yield start, min(start + step, array.shape[0])


def read_blocks(array, read_rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """(start, the block's rows as float64) for each block."""
    for start, stop in block_ranges(array, read_rows):
        yield start, np.asarray(array[start:stop], np.float64)


def usable_blocks(array, valid: np.ndarray, read_rows: int) -> Iterator[tuple[int, np.ndarray, int]]:
    """(start, the block's usable rows, rows read) for each block."""
    for start, raw in read_blocks(array, read_rows):
        yield start, raw[valid[start : start + len(raw)]], len(raw)
