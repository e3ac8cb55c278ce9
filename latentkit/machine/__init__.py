"""The machine a job runs on, as the job sees it while it runs: GPU allocators (set before a
backend loads), the CPUs it may use, and the monitor (RSS, RAM available, VRAM per cycle or
chunk). Below the model room: the jobs and the analysis import it; it imports only ``core``."""

from latentkit.machine.allocators import configure_allocators, is_out_of_memory
from latentkit.machine.monitor import MonitorLog, format_mb, release_memory

__all__ = [
    "MonitorLog",
    "configure_allocators",
    "format_mb",
    "is_out_of_memory",
    "release_memory",
]
