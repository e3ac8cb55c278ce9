"""Memory readings for every job: RSS and available RAM (psutil), VRAM (NVML) or None.

``None`` means "n/a": no GPU, no NVML library, or no driver. Nothing here raises for that.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from latentkit.core import MB
from latentkit.machine.allocators import backend_memory

_nvml_state: dict[str, Any] = {}


def _nvml_handle():
    if "handle" not in _nvml_state:
        _nvml_state["handle"] = None
        try:
            import pynvml

            pynvml.nvmlInit()
            if pynvml.nvmlDeviceGetCount() > 0:
                index = int(os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0] or 0)
                _nvml_state["handle"] = pynvml.nvmlDeviceGetHandleByIndex(index)
        except Exception:  # no library, no driver, no device, odd CUDA_VISIBLE_DEVICES: n/a
            pass
    return _nvml_state["handle"]


def vram_mb() -> tuple[float | None, float | None]:
    """(used, total) MB of the first visible GPU, or (None, None) when NVML sees none."""
    handle = _nvml_handle()
    if handle is None:
        return None, None
    import pynvml

    info = pynvml.nvmlDeviceGetMemoryInfo(handle)
    return info.used / MB, info.total / MB


def gpu_name() -> str | None:
    """The first visible GPU's name, or None."""
    handle = _nvml_handle()
    if handle is None:
        return None
    import pynvml

    name = pynvml.nvmlDeviceGetName(handle)
    return name.decode() if isinstance(name, bytes) else name


def snapshot() -> dict[str, Any]:
    """Current RSS, peak RSS, available RAM, VRAM as NVML sees it (the whole card, every
    process) and as the backend sees it (this process: now, and the peak since the last
    snapshot where the backend can reset it), in MB; None where there is no GPU."""
    process = psutil.Process()
    used, total = vram_mb()
    return {
        "rss_mb": round(process.memory_info().rss / MB, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "ram_available_mb": round(psutil.virtual_memory().available / MB, 1),
        "vram_used_mb": None if used is None else round(used, 1),
        "vram_total_mb": None if total is None else round(total, 1),
        **backend_memory(),
    }


def release_memory(*, clear_session: bool = True) -> None:
    """Between cycles: clear Keras' global state, collect, and hand freed heap back to the OS.

    glibc keeps freed blocks in per-thread arenas; ``malloc_trim(0)`` returns them, which
    keeps RSS flat over cycles that allocate large arrays on more than one thread.
    ``clear_session=False`` keeps Keras' state: training needs its traced train function
    (clearing it made every epoch trace and compile it again: +1.5 s an epoch for the demo).
    """
    import gc
    import sys

    if clear_session and "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()  # runs gc.collect() itself (free_memory=True)
    else:
        gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass


def peak_rss_mb() -> float:
    """This process's peak RSS in MB, since it started.

    Linux: the high-water mark of this program's own memory (``VmHWM``). Not ``ru_maxrss``:
    the kernel carries it over fork and exec, so a job started by a big process (a pytest
    worker, a notebook's kernel, a bench script holding TensorFlow) reported that process's
    peak as its own. Elsewhere ``ru_maxrss`` (bytes on macOS, kB on the other systems).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MB if sys.platform == "darwin" else peak / 1024


def format_mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


class MonitorLog:
    """Appends one JSON line per cycle/chunk to RUN/monitor.jsonl, with memory readings."""

    def __init__(self, path: str | os.PathLike, job: str) -> None:
        self.path = Path(path)
        self.job = job

    def write(self, **fields: Any) -> dict[str, Any]:
        record = {"time": round(time.time(), 3), "job": self.job, **fields, **snapshot()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as handle:  # one short line per write: appends stay whole
            handle.write(json.dumps(record) + "\n")
        return record


def read_monitor(path: str | os.PathLike, last: int | None = 5) -> list[dict[str, Any]]:
    """The last ``last`` lines of a monitor log (all of them with None)."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text().splitlines()[-last:] if last else path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]
