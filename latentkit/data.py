"""Streaming a store into Keras: float32 [0, 1] batches with chunk-aligned shuffling.

Shuffling permutes the order of chunks, then the order within each chunk, so a batch
needs at most two chunk reads and reads stay sequential. Memory holds at most
``cache_chunks`` decoded chunks whatever the store's size.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import keras
import numpy as np

from latentkit import store
from latentkit.errors import LatentkitError

PARTITIONS = {"train": 0, "valid": 1, "test": 2}


def select_rows(group, partition: str | None) -> np.ndarray:
    """Rows that are written, decoded fine, and in ``partition`` (None or 'all': every one)."""
    mask = store.row_done_mask(group) & group["ok"][:]
    if partition not in (None, "all"):
        if partition not in PARTITIONS:
            raise LatentkitError(f"unknown partition {partition!r}: use train, valid, test or all")
        mask &= group["partition"][:] == PARTITIONS[partition]
    return np.flatnonzero(mask)


def to_unit_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1]: the one scaling every job uses."""
    return np.divide(images, np.float32(255), dtype=np.float32)


class ChunkCache:
    """The last few chunks of an image array, as uint8, read whole (thread-safe)."""

    def __init__(self, images, capacity: int = 2) -> None:
        self.images = images
        self.chunk = images.chunks[0]
        self.capacity = capacity
        self._chunks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

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


def chunk_aligned_order(rows: np.ndarray, chunk: int, seed: int, epoch: int) -> np.ndarray:
    """A permutation of ``rows``: chunks in shuffled order, rows shuffled within each chunk."""
    rng = np.random.default_rng([seed, epoch])
    chunk_ids = rows // chunk
    groups = np.split(rows, np.flatnonzero(np.diff(chunk_ids)) + 1) if len(rows) else []
    return np.concatenate([rng.permutation(groups[g]) for g in rng.permutation(len(groups))]) if groups else rows


class ZarrImageDataset(keras.utils.PyDataset):
    """Batches of a store's images as float32 in [0, 1].

    Parameters
    ----------
    path : store written by ``latentkit prepare``.
    batch_size : images per batch; the last batch is smaller unless ``drop_remainder``.
    partition : ``"train"``, ``"valid"``, ``"test"`` or ``None`` for every image.
    targets : yield ``(x, x)`` (training an autoencoder) instead of ``x`` (prediction).
    shuffle, seed : chunk-aligned shuffling, a new order per epoch drawn from (seed, epoch).
    """

    def __init__(
        self, path: str | os.PathLike, *, batch_size: int, partition: str | None = "train",
        targets: bool = True, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False,
        cache_chunks: int = 2, **kwargs,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        group = store.open_store(path)
        self.images = group["images"]
        self.rows = select_rows(group, partition)
        if len(self.rows) == 0:
            raise LatentkitError(f"{path} has no finished images in partition {partition!r}")
        self.batch_size = batch_size
        self.targets, self.shuffle, self.seed = targets, shuffle, seed
        self.drop_remainder = drop_remainder
        self.cache = ChunkCache(self.images, cache_chunks)
        self.set_epoch(0)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order (lets a resumed run pick up mid-epoch)."""
        self.epoch = epoch
        chunk = self.images.chunks[0]
        self.order = chunk_aligned_order(self.rows, chunk, self.seed, epoch) if self.shuffle else self.rows

    def __len__(self) -> int:
        full, rest = divmod(len(self.order), self.batch_size)
        return full + (1 if rest and not self.drop_remainder else 0)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(index)
        x = to_unit_float(self.batch_uint8(index))
        return (x, x) if self.targets else x

    def batch_uint8(self, index: int) -> np.ndarray:
        return self.cache.rows(self.order[index * self.batch_size : (index + 1) * self.batch_size])

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)
