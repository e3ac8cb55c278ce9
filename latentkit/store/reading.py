"""Reading rows of a store without Keras: row selection, a small chunk cache, pixel scaling."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from latentkit.core import LatentkitError
from latentkit.store.chunks import chunk_progress
from latentkit.store.layout import PARTITIONS

UNIT_SCALE = np.float32(1 / 255)


def finished_latents(run):
    """A run's latents.zarr, every chunk written: refused in one line when it is missing or unfinished."""
    from latentkit.core import RunPaths
    from latentkit.store.layout import open_store

    latents = RunPaths.of(run).latents
    if not (latents / "zarr.json").exists():
        raise LatentkitError(f"{run} has no latents: run `latentkit encode --run {run}` first")
    group = open_store(latents, holds="z")
    if not chunk_progress(group).complete:
        raise LatentkitError(f"{latents} is incomplete: finish `latentkit encode --run {run}` first")
    return group


def select_rows(group, partition: str | None) -> np.ndarray:
    """Rows that are written, decoded fine, and in ``partition`` (None or 'all': every one)."""
    mask = chunk_progress(group).row_mask() & group["ok"][:]
    if partition not in (None, "all"):
        if partition not in PARTITIONS:
            raise LatentkitError(f"unknown partition {partition!r}: use train, valid, test or all")
        mask &= group["partition"][:] == PARTITIONS[partition]
    return np.flatnonzero(mask)


def sample_rows(rows, n: int | None, *, seed: int = 0) -> np.ndarray:
    """At most ``n`` of ``rows``, a seeded random sample across all of them (a folder sorted by
    class shows every class, not its first rows), sorted so reads stay sequential; the same
    seed gives the same rows. All of ``rows`` when ``n`` is None or not smaller."""
    rows = np.asarray(rows)
    if n is None or n >= len(rows):
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))


def to_unit_float(images, *, ops=np):
    """uint8 pixels to float32 in [0, 1]: the one scaling every job uses.

    ``ops`` is ``numpy`` or ``keras.ops``: the train and encode jobs move batches as uint8
    (a quarter of the bytes) and scale them inside their compiled step with this formula.
    A product, not a quotient: XLA turns ``x / 255`` into ``x * (1 / 255)``, so only the
    product is bitwise the same in numpy, eager and compiled code (255 maps to exactly 1.0).
    """
    if ops is np:
        return np.multiply(images, UNIT_SCALE, dtype=np.float32)
    return ops.multiply(ops.cast(images, "float32"), UNIT_SCALE)


class ChunkCache:
    """The last few chunks of an image array, as uint8, read whole (thread-safe)."""

    def __init__(self, images, capacity: int = 2) -> None:
        self.images = images
        self.chunk = images.chunks[0]
        self.capacity = capacity
        self._chunks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def range_into(self, start: int, stop: int, out: np.ndarray) -> None:
        """Copy rows start..stop into ``out`` (uint8), chunk by chunk: no temporaries."""
        row = start
        while row < stop:
            k = row // self.chunk
            end = min(stop, (k + 1) * self.chunk)
            out[row - start : end - start] = self._get(k)[row - k * self.chunk : end - k * self.chunk]
            row = end

    def rows(self, indices: np.ndarray) -> np.ndarray:
        """uint8 images at sorted-or-not ``indices``, in that order."""
        out = np.empty((len(indices), *self.images.shape[1:]), np.uint8)
        chunk_ids = indices // self.chunk
        for k in np.unique(chunk_ids):
            where = chunk_ids == k
            out[where] = self._get(int(k))[indices[where] - k * self.chunk]
        return out

    def _get(self, k: int) -> np.ndarray:
        with self._lock:
            if k in self._chunks:
                self._chunks.move_to_end(k)
                return self._chunks[k]
            data = self.images[k * self.chunk : (k + 1) * self.chunk]
            self._chunks[k] = data
            while len(self._chunks) > self.capacity:
                self._chunks.popitem(last=False)
            return data
