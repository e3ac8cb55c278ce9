"""The machine a job runs on: GPU allocators and the monitor (re-exported: the jobs use them),
and the ``env``, ``status`` and SLURM commands' modules (``environment``, ``status``,
``slurm``: imported by name, they read runs that the model room writes)."""

from latentkit.machine.allocators import configure_allocators, is_out_of_memory
from latentkit.machine.monitor import MonitorLog, format_mb, release_memory

__all__ = [
    "MonitorLog",
    "configure_allocators",
    "format_mb",
    "is_out_of_memory",
    "release_memory",
]
