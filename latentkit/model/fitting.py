"""What the train job runs on Keras: the dataset, the epochs (one ``fit`` per stretch of an
epoch, checkpoints at step boundaries, stop signals), the checkpoint's contents, the history
and the reconstruction grids; what each epoch measures beside the loss is in ``epoch_measures``.
``train.train`` checks every argument before importing this.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import signal
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.core import (
    INTERRUPTED_EXIT,
    GpuOutOfMemory,
    JobEvents,
    LatentkitError,
    RunPaths,
    TrainingDiverged,
    sweep_dead_writers,
    write_text,
)
from latentkit.machine import MonitorLog, is_out_of_memory, release_memory
from latentkit.model import advice, checkpoint, epoch_output
from latentkit.model.backend import keras, set_random_seed
from latentkit.model.dataset import Stretch, ZarrImageDataset
from latentkit.model.epoch_measures import (
    noise_state_kept,
    parameter_counts,
    probe_images,
    probe_radius,
    reported_terms,
    validation_images,
    validation_loss,
)
from latentkit.model.images import grid, save_png
from latentkit.model.networks import build_model
from latentkit.model.results import TrainResult
from latentkit.model.spec import JobSpec, to_toml
from latentkit.store import get_array, open_store, sample_rows, select_rows, to_unit_float
from latentkit.transfer import open_mirror

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)
GRID_IMAGES = 8


class StopFlag:
    """Set by a stop signal; the loop checks it at each step boundary."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame) -> None:
        self.signal = signum

    def __exit__(self, *_exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def open_dataset(data, spec: JobSpec, parallel) -> ZarrImageDataset:
    """The store's training partition in the spec's batches, this process's shard of it."""
    dataset = ZarrImageDataset(
        data,
        batch_size=spec.train.batch,
        partition=spec.train.partition,
        seed=spec.train.seed,
        drop_remainder=True,
        shard=(parallel.process, parallel.processes),
    )
    if len(dataset) == 0:
        raise LatentkitError(
            f"fewer than one batch ({spec.train.batch}) of {spec.train.partition} images in "
            f"{data} for each of {parallel.processes} processes"
        )
    return dataset


def run_epochs(
    paths: RunPaths, spec, saved, parallel, dataset, *, data, events: JobEvents, mirror, started_from: str | None = None
) -> TrainResult:
    """The run itself, under its lock: the model built or restored, then epochs until done or stopped.
    ``started_from``: the kept checkpoint the run began from (``--from``), recorded in each checkpoint."""
    if parallel.writes:
        write_text(paths.job_spec, to_toml(spec))

    set_random_seed(spec.train.seed)
    model = build_model(
        spec.model, lr=spec.train.lr, precision=spec.train.precision, steps_per_execution=spec.train.steps_per_execution
    )
    if parallel.writes:
        events.message(parameter_counts(model))
    if parallel.writes and (note := advice.single_step_note(len(dataset.rows), spec.train.batch)):
        events.message(note)
    epoch, step, sums, history = 0, 0, [0.0, 0.0, 0.0, 0], []
    if saved is not None:
        checkpoint.restore(model, saved)
        # The optimizer's state carries the rate it was saved with, and the noise scale the
        # eps factor: the spec's (changed by --from) replace them.
        model.optimizer.learning_rate.assign(spec.train.lr)
        model.set_mu_only(False)
        epoch, step, sums, history = saved.meta["epoch"], saved.meta["step"], saved.meta["sums"], saved.meta["history"]
        events.message(f"resuming {paths.root} at epoch {epoch + 1}, step {step}")
        if parallel.writes and step == 0:  # a copy to best.npz that a kill prevented; a --from run's own best
            checkpoint.keep_best(paths.checkpoints, advice.best_epoch(history) == epoch, epoch, source=saved.path)
    first_epoch = epoch  # epochs finished when this call began
    sample = _grid_sample(data)
    held_out = validation_images(data, spec) if parallel.processes == 1 else None
    probe = probe_images(data) if parallel.processes == 1 else None
    if parallel.processes > 1 and parallel.writes:
        events.message("note: no validation loss in a multi-process run (every process would have to evaluate)")
    if parallel.writes:
        sweep_dead_writers(paths.tensorboard)  # an event file a kill cut off mid-write
    monitor = MonitorLog(paths.monitor, "train")

    copies = open_mirror(paths.root, mirror, events)

    def save(step: int, sums: list) -> None:
        if not np.isfinite(sums[:3]).all():
            raise _diverged(paths, epoch, step, sums)
        if parallel.writes:  # the other processes hold the same replicated state
            write_checkpoint(
                paths.root,
                model,
                spec,
                data=data,
                epoch=epoch,
                step=step,
                sums=sums,
                history=history,
                steps_per_epoch=len(dataset),
                devices=parallel.devices,
                started_from=started_from,
            )
            copies.request()

    with StopFlag() as stop, closing(copies):
        while epoch < spec.train.epochs:
            dataset.set_epoch(epoch)
            events.start(f"epoch {epoch + 1}/{spec.train.epochs}", total=len(dataset), done=step)
            started, first, before = time.perf_counter(), step, sums

            def on_checkpoint(at: int, means: dict[str, float], before: list = before, first: int = first) -> None:
                save(at, _add(before, means, at - first))

            # One fit() over the rest of the epoch; it checkpoints at step boundaries from a
            # callback, and a stop signal ends it at the next one.
            try:
                taken, means = train_steps(
                    model,
                    dataset,
                    step,
                    flag=stop,
                    events=events,
                    agree=parallel.any,
                    checkpoint_every=spec.train.checkpoint_every,
                    on_checkpoint=on_checkpoint,
                )
            except Exception as error:
                if not is_out_of_memory(error):
                    raise
                events.finish()
                raise _out_of_memory(paths, spec.train.batch, epoch) from None
            step, sums = step + taken, _add(before, means, taken)
            if not np.isfinite(sums[:3]).all():
                events.finish()
                raise _diverged(paths, epoch, step, sums)
            if parallel.any(stop.signal is not None):  # every process of a data-parallel run agrees
                save(step, sums)
                events.finish()
                cause = signal.Signals(stop.signal).name if stop.signal is not None else "another process's signal"
                events.message(
                    f"stopped by {cause} at epoch {epoch + 1}, step {step}: checkpoint written, exit {INTERRUPTED_EXIT}"
                )
                return TrainResult(True, epoch, step, history, first_epoch)
            seconds = time.perf_counter() - started
            count = max(sums[3], 1)
            validated = time.perf_counter()
            with noise_state_kept(model):
                valid = validation_loss(model, held_out, spec.train.batch) if held_out is not None else {}
                valid |= probe_radius(model, probe) if probe is not None else {}
            means = {"loss": sums[0] / count, "reconstruction": sums[1] / count, "kl": sums[2] / count}
            history.append(
                {
                    "epoch": epoch + 1,
                    **means,
                    **reported_terms(means, model.spec),
                    **valid,
                    "images_per_s": taken * dataset.batch_size / seconds,
                    "seconds": seconds,
                    "validation_s": time.perf_counter() - validated,
                }
            )
            epoch, step, sums = epoch + 1, 0, [0.0, 0.0, 0.0, 0]
            save(step, sums)
            if parallel.writes and spec.train.keeps(epoch):
                checkpoint.keep(paths.checkpoints, epoch)
            if parallel.writes:
                checkpoint.keep_best(paths.checkpoints, advice.best_epoch(history) == epoch, epoch)
            events.finish()
            release_memory(clear_session=False)  # between epochs: gc, malloc_trim; then log memory
            if parallel.writes:
                _write_history(paths.history, history)
                with noise_state_kept(model):
                    _save_reconstructions(model, sample, paths.samples / f"reconstructions_epoch{epoch:03d}.png")
                epoch_output.draw_training(history, paths.training_figure)
                epoch_output.log_epochs(paths, history)
                copies.request()  # history and samples too
                found = advice.overfitting(history, best=paths.best_checkpoint)
                events.record(
                    monitor.write(
                        unit=f"epoch {epoch}",
                        items_per_s=history[-1]["images_per_s"],
                        work_s=seconds,
                        validation_s=history[-1]["validation_s"],
                        loss=history[-1]["loss"],
                        val_loss=history[-1].get("val_loss"),
                        devices=parallel.devices,
                        **({"overfitting": found} if found else {}),
                    )
                )
                if found:  # once, as it begins; recorded above
                    events.message(advice.overfitting_warning(found, data=data, run=paths.root, lr=spec.train.lr))
    return TrainResult(False, epoch, step, history, first_epoch)


def _diverged(paths: RunPaths, epoch: int, step: int, sums: list) -> TrainingDiverged:
    """The one line for a loss that became NaN or infinite: where, what is kept, what to try."""
    kept = checkpoint.load(paths.checkpoints)[0]
    where = f"epoch {kept.meta['epoch'] + 1}, step {kept.meta['step']}" if kept else "none yet"
    return TrainingDiverged(
        f"training diverged by epoch {epoch + 1}, step {step} (loss {sums[0]}, KL {sums[2]}): "
        f"nothing saved from it; the last good checkpoint ({where}) is kept; train into a new "
        f"--run with a lower --lr (or KL factor)"
    )


def _out_of_memory(paths: RunPaths, batch: int, epoch: int) -> GpuOutOfMemory:
    """The one line for a step that did not fit: what is kept, what to try."""
    kept = checkpoint.load(paths.checkpoints)[0]
    where = f"epoch {kept.meta['epoch'] + 1}, step {kept.meta['step']}" if kept else "the start"
    return GpuOutOfMemory(
        f"out of GPU memory in a training step of batch {batch} (epoch {epoch + 1}): the checkpoint "
        f"at {where} is kept; lower --batch (e.g. --batch {max(1, batch // 2)} in a new --run) or "
        f"free the GPU, and run again"
    )


def _add(sums: list, means: dict[str, float], steps: int) -> list:
    """Running loss sums (loss, reconstruction, kl, steps) plus ``steps`` steps of these means."""
    return [
        sums[0] + means["loss"] * steps,
        sums[1] + means["reconstruction"] * steps,
        sums[2] + means["kl"] * steps,
        sums[3] + steps,
    ]


def train_steps(
    model,
    dataset: ZarrImageDataset,
    start: int,
    stop: int | None = None,
    *,
    flag: StopFlag | None = None,
    events: JobEvents | None = None,
    checkpoint_every: int | None = None,
    on_checkpoint: Callable[[int, dict[str, float]], None] | None = None,
    agree: Callable[[bool], bool] = bool,
) -> tuple[int, dict[str, float]]:
    """Train on batches ``start..stop`` (default: the epoch's end) of the dataset's current epoch, in one ``fit``.

    Batches travel as uint8 (scaled inside the compiled step), read ahead on a thread;
    ``fit`` runs ``steps_per_execution`` steps per compiled call and keeps the loss trackers
    on the device. At the first call boundary at or past each multiple of ``checkpoint_every``
    ``on_checkpoint(step, means so far)`` runs with the model's variables current. Returns
    the steps taken (fewer when ``flag`` was signalled) and each tracked loss's mean over them.
    ``agree(stop)``: every process's answer to "stop now?" (``Parallel.any``), so that
    all processes of a data-parallel run stop at the same step.
    """
    stretch = Stretch(dataset, start, len(dataset) if stop is None else stop)
    if len(stretch) <= 0:  # resumed from a stop at the epoch's very end
        return 0, {"loss": 0.0, "reconstruction": 0.0, "kl": 0.0}
    control = _FitControl(
        start=start,
        total=len(stretch),
        per_call=model.steps_per_execution,
        events=events or JobEvents(),
        flag=flag,
        every=checkpoint_every,
        on_checkpoint=on_checkpoint,
        agree=agree,
    )
    try:
        logs = model.fit(stretch.for_fit(), epochs=1, verbose=0, shuffle=False, callbacks=[control]).history
    finally:
        stretch.close()
        if control.taken < len(stretch):
            # fit broke off: TensorFlow's generator-backed iterator, left in a reference
            # cycle, must be collected now; at interpreter exit its finalizer thread can no
            # longer take the GIL and the process hangs.
            gc.collect()
    control.advance_to(control.taken)
    return control.taken, {name: float(values[-1]) for name, values in logs.items()}


class _FitControl(keras.callbacks.Callback):
    """Progress, checkpoints and stop signals for one ``fit``, as each compiled call begins.

    A call that begins at step ``b`` runs steps ``b .. b + steps_per_execution - 1`` whatever
    happens, so a stop seen there ends ``fit`` right after them, and ``taken`` says how many
    steps that was. The device is read (metrics, and on JAX the variables) only at a
    checkpoint: ``self.model`` syncs JAX's state, ``self._model`` does not.
    """

    def __init__(
        self,
        *,
        start: int,
        total: int,
        per_call: int,
        events: JobEvents,
        flag: StopFlag | None,
        every: int | None,
        on_checkpoint,
        agree: Callable[[bool], bool] = bool,
    ) -> None:
        super().__init__()
        self.start, self.per_call, self.events, self.flag, self.agree = start, per_call, events, flag, agree
        self.every, self.on_checkpoint = every, on_checkpoint
        self.done, self.taken = 0, total
        self.last_checkpoint = start // every if every else 0

    def on_train_batch_begin(self, batch, logs=None) -> None:
        self.advance_to(batch)  # ``batch``: this call's first step, so the steps before it are done
        step = self.start + batch
        if self.on_checkpoint is not None and step // self.every > self.last_checkpoint:
            self.last_checkpoint = step // self.every
            model = self.model  # on JAX: the variables of the steps so far, copied back from the device
            self.on_checkpoint(step, {m.name: float(checkpoint.host_array(m.result())) for m in model.metrics})
        stop = self.agree(self.flag is not None and self.flag.signal is not None)
        if stop and self.taken > batch + self.per_call:
            self.taken = batch + self.per_call
            self._model.stop_training = True

    def advance_to(self, done: int) -> None:
        self.events.advance(done - self.done)
        self.done = done


def write_checkpoint(
    run: str | os.PathLike,
    model,
    spec: JobSpec,
    *,
    data,
    epoch: int,
    step: int,
    sums=(0.0, 0.0, 0.0, 0),
    history=(),
    steps_per_epoch: int | None = None,
    devices: int = 1,
    started_from: str | None = None,
) -> Path:
    """Everything a resume needs, in RUN/checkpoints/latest.npz (atomic, previous kept)."""
    meta = {
        "epoch": epoch,
        "step": step,
        "sums": list(sums),
        "history": list(history),
        "spec": spec.to_dict(),
        "seed": spec.train.seed,
        "steps_per_epoch": steps_per_epoch,
        "time": time.time(),
        "data": str(Path(data).resolve()),
        "n_model_variables": len(model.variables),
        "n_optimizer_variables": len(model.optimizer.variables),
        "variable_paths": [v.path for v in model.variables],
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "devices": devices,
        "started_from": started_from,
    }
    return checkpoint.save(
        RunPaths.of(run).checkpoints,
        meta=meta,
        model_variables=model.variables,
        optimizer_variables=model.optimizer.variables,
    )


def _grid_sample(data) -> np.ndarray:
    """A fixed set of images (sampled across the valid partition, else all) for reconstruction grids."""
    group = open_store(data)
    rows = select_rows(group, "valid")
    if len(rows) < GRID_IMAGES:
        rows = select_rows(group, None)
    rows = sample_rows(rows, GRID_IMAGES)
    return to_unit_float(get_array(group, "images").get_orthogonal_selection((rows,)))


def _save_reconstructions(model, sample: np.ndarray, path: Path) -> None:
    reconstructed = keras.ops.convert_to_numpy(model(sample, training=False))
    save_png(grid(np.concatenate([sample, reconstructed]), columns=len(sample)), path)


def _write_history(path: Path, history: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    fields = list(dict.fromkeys(key for row in history for key in row))  # a resumed older run's rows lack newer keys
    writer = csv.DictWriter(buffer, fieldnames=fields, restval="")
    writer.writeheader()
    writer.writerows(history)
    write_text(path, buffer.getvalue())
