"""Streaming a store into Keras: float32 [0, 1] batches with chunk-aligned shuffling.

Shuffling permutes the order of chunks, then the order within each chunk, so a batch
needs at most two chunk reads and reads stay sequential. Memory holds at most
``cache_chunks`` decoded chunks whatever the store's size.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from latentkit import store
from latentkit.core import LatentkitError
from latentkit.model.backend import keras
from latentkit.store import ChunkCache, select_rows, throttle, to_unit_float


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
    shard : (process, processes): this process's equal slice of every batch (data parallelism;
        the batch must divide over the processes). Batches and their order stay global.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        batch_size: int,
        partition: str | None = "train",
        targets: bool = True,
        shuffle: bool = True,
        seed: int = 0,
        drop_remainder: bool = False,
        cache_chunks: int = 2,
        shard: tuple[int, int] = (0, 1),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        group = store.open_store(path, holds="images")
        self.images = store.get_array(group, "images")
        self.rows = select_rows(group, partition)
        if len(self.rows) == 0:
            raise LatentkitError(f"{path} has no finished images in partition {partition!r}")
        self.batch_size = batch_size
        self.targets, self.shuffle, self.seed = targets, shuffle, seed
        self.drop_remainder = drop_remainder
        self.cache = ChunkCache(self.images, cache_chunks)
        self.shard = shard
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
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        process, processes = self.shard
        if processes > 1:
            rows = rows[process * len(rows) // processes : (process + 1) * len(rows) // processes]
        return self.cache.rows(rows)

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)


class Stretch(keras.utils.PyDataset):
    """Batches ``start..stop`` of a dataset's current epoch order, as uint8 ``(x,)`` for one ``fit`` call.

    The train job's target is its input, so each batch travels once, in a quarter of the
    float32 bytes. ``fit`` asks for the batches in order; a thread reads up to ``depth``
    batches ahead, so reading overlaps training on every backend.
    """

    def __init__(self, dataset: ZarrImageDataset, start: int, stop: int, *, depth: int = 2) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.dataset, self.start, self.stop, self.depth = dataset, start, stop, depth
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="latentkit-read")
        self._ahead: dict[int, Future] = {}

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int) -> tuple[np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        for i in range(index, min(index + 1 + self.depth, len(self))):
            if i not in self._ahead:
                self._ahead[i] = self._reader.submit(self.dataset.batch_uint8, self.start + i)
        x = self._ahead.pop(index).result()
        for stale in [i for i in self._ahead if i < index]:  # asked out of order: drop what was skipped
            self._ahead.pop(stale).cancel()
        throttle()
        return (x,)

    def for_fit(self):
        """What ``fit`` gets: on TensorFlow, a tf.data pipeline over this stretch with tf.data's
        autotuning off and one private thread; on other backends the stretch itself.

        Measured on 2 CPU cores (bench/train_throughput.py): through Keras' own PyDataset
        pipeline (prefetch with AUTOTUNE) about a third of fit() calls ran every step at 1.2 to
        1.8 times the compute limit, for the whole call; with autotuning off none did.
        """
        if keras.backend.backend() != "tensorflow":
            return self
        import tensorflow as tf

        rows = self.dataset.batch_size // self.dataset.shard[1]
        signature = (tf.TensorSpec((rows, *self.dataset.image_shape), tf.uint8),)
        batches = tf.data.Dataset.from_generator(
            lambda: (self[i] for i in range(len(self))), output_signature=signature
        )
        options = tf.data.Options()
        options.autotune.enabled = False
        options.threading.private_threadpool_size = 1
        sized = batches.apply(tf.data.experimental.assert_cardinality(len(self)))  # fit knows where it ends
        return sized.with_options(options).prefetch(2)

    def close(self) -> None:
        for future in self._ahead.values():
            future.cancel()
        self._reader.shutdown(wait=True)
