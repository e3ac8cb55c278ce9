"""A run's model loaded, behind array functions: ``encode(images)`` and ``decode(z)``, batched.

The analysis room and the page use a ``Codec`` and never a Keras object: images in [0, 1]
(float32, N x H x W x C) go to z-points (a VAE's mean), z-points go to images in [0, 1], and
``reconstruct`` is the model's own call. Each batch is one eager call of a fixed size at most
(``predict`` would build a data iterator per call, and ``predict_on_batch`` trace a function per
shape). ``load_model`` gives the Keras-level model the ``encode`` job wraps for its traced loop.
"""

from __future__ import annotations

import os

import numpy as np

from latentkit.model import checkpoint
from latentkit.model.runs import RunModel, read_run
from latentkit.model.spec import spec_from_dict

BATCH = 256


def load_model(run: str | os.PathLike, described: RunModel | None = None):
    """The run's model: ``.encoder`` (images in [0, 1] -> z, or (mu, logvar, z) for a VAE),
    ``.decoder`` (z -> images in [0, 1]), a call (reconstruction) and ``set_mu_only``.
    ``described``: ``read_run``'s answer, when the caller has it already."""
    described = described or read_run(run)
    if described.imported is not None:
        from latentkit.model.import_model import load_imported

        return load_imported(described)
    from latentkit.model.networks import build_model

    assert described.saved is not None  # read_run: a run is imported or has a checkpoint
    model = build_model(spec_from_dict(described.saved.meta["spec"]).model)
    checkpoint.restore(model, described.saved, optimizer=False)
    return model


class Codec:
    """A run's encoder and decoder as functions of numpy arrays.

    ``mu_only``: a VAE's reconstructions decode its mean (True) or a z drawn from q(z|x) by the
    model's seeded sampling (False, what ``reconstruct`` has always shown). ``encode`` gives the
    mean either way.
    """

    def __init__(self, model, *, mu_only: bool = True, batch: int = BATCH) -> None:
        self._model, self.batch = model, batch
        model.set_mu_only(mu_only)

    def _batched(self, call, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, np.float32)
        if len(values) <= self.batch:
            return np.asarray(call(values))
        return np.concatenate([np.asarray(call(values[i : i + self.batch])) for i in range(0, len(values), self.batch)])

    def encode(self, images: np.ndarray) -> np.ndarray:
        """z-points (a VAE's means) of images in [0, 1]."""

        def call(x):
            encoded = self._model.encoder(x, training=False)
            return encoded[0] if isinstance(encoded, (list, tuple)) else encoded

        return self._batched(call, images)

    def posterior(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A VAE's q(z|x) of images in [0, 1]: its means and log-variances (the encoder's first two outputs)."""

        def call(x):
            encoded = self._model.encoder(x, training=False)
            return np.concatenate([np.asarray(encoded[0]), np.asarray(encoded[1])], axis=1)

        both = self._batched(call, images)
        return both[:, : both.shape[1] // 2], both[:, both.shape[1] // 2 :]

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Images in [0, 1] decoded from z-points."""
        return self._batched(lambda x: self._model.decoder(x, training=False), z)

    def log_magnification(self, z: np.ndarray) -> np.ndarray:
        """The decoder's log sqrt(det JᵀJ) at z-points, J = dx/dz (``model.jacobian``)."""
        from latentkit.model.jacobian import log_magnification

        return log_magnification(self._model.decoder, z)

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """The model's own reconstruction of images in [0, 1]."""
        return self._batched(lambda x: self._model(x, training=False), images)
