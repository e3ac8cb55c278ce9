"""A normalising flow on a run's latents (RealNVP, Dinh et al. 2017), in Keras 3 with
``keras.ops`` only: affine coupling layers with alternating masks, the log-determinant their
sum of log-scales, trained by maximum likelihood on the latents chunk by chunk, resumable like
``train`` (one checkpoint per epoch, atomic, the previous kept), saved in RUN/flow.

Sampling pushes N(0, I) draws through the inverse of the couplings; ``analyze`` lists it among
the generators (``generate --method flow``) when RUN/flow holds a finished flow.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.core import JobEvents, LatentkitError, RunPaths, own_folder, write_json
from latentkit.core.paths import FLOW_RECORD
from latentkit.model import checkpoint


@dataclass(frozen=True)
class FlowSpec:
    dim: int
    couplings: int = 8
    hidden: int = 256
    epochs: int = 30
    batch: int = 512
    lr: float = 1e-3
    seed: int = 0


def build_flow(spec: FlowSpec):
    """The flow as a Keras model: ``log_prob(x)`` for training, ``sample(n)`` and ``inverse``."""
    from latentkit.model.backend import keras

    layers, ops = keras.layers, keras.ops

    class Coupling(keras.layers.Layer):
        """y = x on the mask; elsewhere x * exp(s(x_mask)) + t(x_mask), s bounded by tanh."""

        def __init__(self, dim: int, hidden: int, parity: int, **kwargs):
            super().__init__(**kwargs)
            self.mask = np.array([(i + parity) % 2 for i in range(dim)], np.float32)
            self.net = keras.Sequential(
                [
                    layers.Dense(hidden, activation="relu"),
                    layers.Dense(hidden, activation="relu"),
                    layers.Dense(2 * dim, kernel_initializer="zeros"),
                ]
            )
            self.scale = self.add_weight(shape=(dim,), initializer="ones", name="scale")

        def build(self, input_shape):
            self.net.build(input_shape)
            super().build(input_shape)

        def _shift_scale(self, masked):
            out = self.net(masked)
            log_scale, shift = ops.split(out, 2, axis=-1)
            keep = 1.0 - self.mask
            return self.scale * ops.tanh(log_scale) * keep, shift * keep

        def forward(self, x):  # data -> noise
            log_scale, shift = self._shift_scale(x * self.mask)
            return x * ops.exp(log_scale) + shift, ops.sum(log_scale, axis=-1)

        def inverse(self, y):  # noise -> data
            log_scale, shift = self._shift_scale(y * self.mask)
            return (y - shift) * ops.exp(-log_scale)

    class Flow(keras.Model):
        def __init__(self, spec: FlowSpec, **kwargs):
            super().__init__(**kwargs)
            self.spec = spec
            self.couplings = [Coupling(spec.dim, spec.hidden, i % 2) for i in range(spec.couplings)]
            self.shift = self.add_weight(shape=(spec.dim,), initializer="zeros", trainable=False, name="data_mean")
            self.scale_ = self.add_weight(shape=(spec.dim,), initializer="ones", trainable=False, name="data_std")

        def build(self, input_shape):
            for coupling in self.couplings:
                coupling.build(input_shape)
            super().build(input_shape)

        def log_prob(self, x):
            z = (x - self.shift) / self.scale_
            total = -ops.sum(ops.log(self.scale_)) * ops.ones_like(z[:, 0])
            for coupling in self.couplings:
                z, log_det = coupling.forward(z)
                total = total + log_det
            base = -0.5 * ops.sum(z * z, axis=-1) - 0.5 * self.spec.dim * float(np.log(2 * np.pi))
            return base + total

        def call(self, x):
            return self.log_prob(x)

        def inverse(self, z):
            for coupling in reversed(self.couplings):
                z = coupling.inverse(z)
            return z * self.scale_ + self.shift

    flow = Flow(spec)
    flow.build((None, spec.dim))
    flow.compile(optimizer=keras.optimizers.Adam(spec.lr), loss=lambda _, log_prob: -ops.mean(log_prob))
    flow.optimizer.build(flow.trainable_variables)  # its state exists before a resume restores it
    return flow


def _read(array, rows: np.ndarray) -> np.ndarray:
    """Rows of a zarr array (or of a numpy one), as float32."""
    if hasattr(array, "get_orthogonal_selection"):
        return np.asarray(array.get_orthogonal_selection((rows,)), np.float32)
    return np.asarray(array[rows], np.float32)


def _batches(array, rows: np.ndarray, batch: int, rng) -> Iterator[np.ndarray]:
    """The latents' rows in a fresh order, read chunk-sized block by block (memory: one block)."""
    block = max(batch, 20_000 // batch * batch)
    order = rng.permutation(rows)
    for start in range(0, len(order), block):
        picked = np.sort(order[start : start + block])
        values = _read(array, picked)
        values = values[rng.permutation(len(values))]
        for i in range(0, len(values) - batch + 1, batch):
            yield values[i : i + batch]


def train_flow(
    *,
    run: str | os.PathLike,
    epochs: int | None = None,
    couplings: int = 8,
    hidden: int = 256,
    batch: int = 512,
    lr: float = 1e-3,
    seed: int = 0,
    events: JobEvents | None = None,
) -> dict:
    """Fit (or go on fitting) RUN/flow to RUN/latents.zarr; one checkpoint per epoch."""
    from latentkit.store import finished_latents

    paths = RunPaths.of(run)
    group = finished_latents(run)
    rows = np.flatnonzero(group["ok"][:].astype(bool))
    return fit_flow(
        group["z"],
        rows,
        paths.flow,
        epochs=epochs,
        couplings=couplings,
        hidden=hidden,
        batch=batch,
        lr=lr,
        seed=seed,
        events=events,
    )


def fit_flow(
    array,
    rows: np.ndarray,
    folder: Path,
    *,
    epochs: int | None = None,
    couplings: int = 8,
    hidden: int = 256,
    batch: int = 512,
    lr: float = 1e-3,
    seed: int = 0,
    events: JobEvents | None = None,
) -> dict:
    """Fit the flow to ``array``'s ``rows`` (a zarr or numpy (N, d) array), checkpointing into
    ``folder`` after every epoch; a rerun resumes at the next epoch (``epochs`` may extend it)."""
    from latentkit.model.backend import set_random_seed

    events = events or JobEvents()
    saved, _ = checkpoint.load(folder)
    spec = (
        FlowSpec(**saved.meta["spec"])
        if saved is not None
        else FlowSpec(dim=int(array.shape[1]), couplings=couplings, hidden=hidden, batch=batch, lr=lr, seed=seed)
    )
    spec = FlowSpec(**{**spec.__dict__, "epochs": epochs or spec.epochs})
    if len(rows) < spec.batch:
        raise LatentkitError(f"{len(rows)} usable latents: fewer than one --batch ({spec.batch})")
    set_random_seed(spec.seed)
    flow = build_flow(spec)
    epoch, history = 0, []
    if saved is not None:
        checkpoint.restore(flow, saved)
        epoch, history = saved.meta["epoch"], saved.meta["history"]
        if epoch < spec.epochs:
            events.message(f"resuming the flow at epoch {epoch + 1}")
    else:
        sample = _read(array, rows[:: max(1, len(rows) // 20_000)]).astype(np.float64)
        flow.shift.assign(sample.mean(axis=0).astype(np.float32))
        flow.scale_.assign(np.where(sample.std(axis=0) > 0, sample.std(axis=0), 1.0).astype(np.float32))
    own_folder(folder)
    while epoch < spec.epochs:
        started, losses = time.perf_counter(), []
        rng = np.random.default_rng([spec.seed, epoch])
        events.start(f"flow epoch {epoch + 1}/{spec.epochs}", total=len(rows) // spec.batch)
        for values in _batches(array, rows, spec.batch, rng):
            losses.append(float(flow.train_on_batch(values, values)))
            events.advance()
        events.finish()
        if not np.isfinite(losses).all():
            raise LatentkitError(
                "the flow's loss became NaN or infinite: nothing saved from this epoch; try --lr lower"
            )
        epoch += 1
        history.append({"epoch": epoch, "nll": float(np.mean(losses)), "seconds": time.perf_counter() - started})
        checkpoint.save(
            folder,
            meta={
                "epoch": epoch,
                "step": 0,
                "history": history,
                "spec": spec.__dict__,
                "n_model_variables": len(flow.variables),
                "n_optimizer_variables": len(flow.optimizer.variables),
                "time": time.time(),
            },
            model_variables=flow.variables,
            optimizer_variables=flow.optimizer.variables,
        )
    write_json(folder / FLOW_RECORD, {"spec": spec.__dict__, "history": history, "rows": int(len(rows))})
    return {"epochs": epoch, "history": history, "spec": spec.__dict__}


def load_flow(folder: str | os.PathLike):
    """The finished flow in ``folder`` (RUN/flow), or None: a ``LoadedFlow`` (numpy in and out)."""
    folder = Path(folder)
    saved, _ = checkpoint.load(folder) if folder.exists() else (None, None)
    if saved is None or saved.meta["epoch"] < saved.meta["spec"]["epochs"]:
        return None
    spec = FlowSpec(**saved.meta["spec"])
    flow = build_flow(spec)
    checkpoint.restore(flow, saved, optimizer=False)
    return LoadedFlow(flow, spec.dim)


@dataclass
class LoadedFlow:
    flow: Any  # the Keras model build_flow makes
    dim: int

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        noise = rng.standard_normal((n, self.dim)).astype(np.float32)
        return np.concatenate(
            [np.asarray(self.flow.inverse(noise[i : i + 4096]), np.float64) for i in range(0, n, 4096)]
        )

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.flow.log_prob(np.asarray(x, np.float32)), np.float64)
