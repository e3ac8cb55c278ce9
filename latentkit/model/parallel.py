"""Data-parallel training on several devices and processes, on Keras' distribution API (JAX).

One process per node (or per GPU) under SLURM: ``keras.distribution.initialize`` calls
``jax.distributed.initialize``, which reads the SLURM environment (or Keras'
``KERAS_DISTRIBUTION_*`` variables). Every process builds the same model, reads its own
slice of every global batch from the same store, and ``fit`` runs the step on a
``DataParallel`` mesh: gradients are averaged across devices by XLA's collectives. Process 0
alone writes files; a stop signal seen by any process stops all of them at the same step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from latentkit.core import LatentkitError


@dataclass(frozen=True)
class Parallel:
    """Where this process stands in a data-parallel run (one process, one device: the default)."""

    process: int = 0
    processes: int = 1
    devices: int = 1

    @property
    def writes(self) -> bool:
        """Only process 0 writes checkpoints, history, samples and monitor lines."""
        return self.process == 0

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is true on any of them (a collective: all must call it)."""
        if self.processes == 1:
            return flag
        from jax.experimental import multihost_utils

        return bool(np.max(multihost_utils.process_allgather(np.int32(flag))))


SINGLE = Parallel()


def multi_process_environment() -> bool:
    """A multi-process launch: an ``srun`` step of several tasks, or Keras' own variables.

    ``SLURM_STEP_NUM_TASKS`` (set by srun for its step), not ``SLURM_NTASKS``: a batch script
    of a several-task allocation that runs latentkit without srun is one process.
    """
    if int(os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1") or 1) > 1:
        return True
    return int(os.environ.get("SLURM_STEP_NUM_TASKS", "1") or 1) > 1


def parse_devices(devices: str | int) -> str | int:
    """``--devices`` as given, checked without a backend: "all" or a count of at least one."""
    if devices == "all":
        return "all"
    try:
        count = int(devices)
    except ValueError:
        raise LatentkitError(f"--devices takes all or a number, not {devices!r}") from None
    if count < 1:
        raise LatentkitError(f"--devices takes all or a number of at least 1, not {devices!r}")
    return count


def start(devices: str | int, *, batch: int) -> Parallel:
    """Set up data parallelism over ``devices`` ("all" or a count) for global batches of ``batch``.

    Must run before the model is built (its variables are laid out on the mesh).
    """
    from latentkit.model.backend import keras

    if keras.backend.backend() != "jax":
        raise LatentkitError(
            f"--devices needs the JAX backend (this is {keras.backend.backend()}): "
            f'pip install "latentkit[jax]" and set KERAS_BACKEND=jax'
        )
    if multi_process_environment():
        _initialize_once()
    import jax

    found = keras.distribution.list_devices()
    processes = jax.process_count()
    devices = parse_devices(devices)
    if isinstance(devices, str):  # "all"
        count = len(found)
    else:
        count = devices
        if count > len(found):
            kinds = ", ".join(sorted({d.split(":")[0] for d in found}))
            raise LatentkitError(f"--devices {count}: this run sees {len(found)} device(s) ({kinds})")
        if processes > 1 and count != len(found):
            raise LatentkitError(f"--devices {count}: a run of {processes} processes uses all {len(found)} devices")
    if batch % count:
        raise LatentkitError(f"batch {batch} does not divide over {count} devices: use a multiple of {count}")
    # Each process reads its own slice of every batch (ZarrImageDataset shard): Keras must not shard again.
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=found[:count], auto_shard_dataset=False)
    )
    return Parallel(process=jax.process_index(), processes=processes, devices=count)


_initialized: list[bool] = []


def _initialize_once() -> None:
    from latentkit.model.backend import keras

    if not _initialized:
        import jax

        # CPU devices of several processes talk over gloo (GPUs use NCCL whatever this says).
        # Set before initialize: nothing may touch a JAX backend before it.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize()
        _initialized.append(True)
