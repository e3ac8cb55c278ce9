"""What this machine offers a job: RAM and its cgroup limit, GPU, free disk, versions, and the
``--chunk``/``--batch`` that fit. Read without importing TensorFlow or Keras."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

import psutil

from latentkit.core import MB, usable_cpus
from latentkit.machine.allocators import ALLOCATOR_SETTINGS, keras_backend
from latentkit.machine.monitor import gpu_name, vram_mb

AE_CASE1_PARAMS = 5_504_643  # encoder + decoder of the studies' case-I AE (the largest preset but the VAE's)
ENCODE_CHUNKS = (20_000, 10_000, 5_000, 2_000, 1_000)
ENCODE_BATCHES = (256, 128, 64)
PACKAGES = ("latentkit", "tensorflow", "keras", "jax", "zarr", "numpy")


def cgroup_limit_mb() -> float | None:
    """The memory limit of this process's cgroup (v2 or v1; Colab, SLURM, docker), or None."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:  # "max" or a huge number: no limit
            return int(text) / MB
    return None


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def suggest_encode(budget_mb: float) -> dict[str, Any]:
    """The largest ``--chunk`` (then ``--batch``) whose encode estimate fits ``budget_mb``."""
    from latentkit.model import estimate_ram_mb

    for chunk in ENCODE_CHUNKS:
        for batch in ENCODE_BATCHES:
            need, _ = estimate_ram_mb(
                image_shape=(96, 96, 3),
                batch=batch,
                chunk=chunk,
                data_chunk=1024,
                n_params=AE_CASE1_PARAMS,
                outputs=3,
                z_dim=256,
            )
            if need <= budget_mb:
                return {"chunk": chunk, "batch": batch, "estimate_mb": round(need)}
    return {"chunk": ENCODE_CHUNKS[-1], "batch": ENCODE_BATCHES[-1], "estimate_mb": None}


def allocator_mode() -> str:
    """How the backends will take GPU memory in jobs started from here (``latentkit.machine.allocators``)."""
    settings = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in ALLOCATOR_SETTINGS)
    pooled = (
        os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH") != "true"
        or os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE") != "false"
    )
    return (
        "preallocated pools (figures show the pool)" if pooled else "on demand (figures show what jobs use)"
    ) + f": {settings}"


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), its vector extensions that matter to TensorFlow
    on a CPU (AVX-512 or only AVX2 runs the same model 5x apart), or the platform's answer."""
    import platform

    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "AVX" if "avx" in flags else "no AVX"
    return f"{fields.get('model name', platform.machine())} ({vector})"


def machine_report(workdir: str | os.PathLike = ".") -> dict[str, Any]:
    memory = psutil.virtual_memory()
    limit = cgroup_limit_mb()
    slurm_mb = os.environ.get("SLURM_MEM_PER_NODE")
    usable = min(v for v in (memory.available / MB, limit, float(slurm_mb) if slurm_mb else None) if v is not None)
    used, total = vram_mb()
    where = Path(workdir).resolve()
    while not where.exists():  # not created yet: the disk it will be created on
        where = where.parent
    disk = shutil.disk_usage(where)
    return {
        "ram_total_mb": round(memory.total / MB),
        "ram_available_mb": round(memory.available / MB),
        "cgroup_limit_mb": None if limit is None else round(limit),
        "slurm_mem_mb": slurm_mb and int(slurm_mb),
        "gpu": gpu_name(),
        "vram_total_mb": None if total is None else round(total),
        "vram_used_mb": None if used is None else round(used),
        "disk": str(where) + ("" if where == Path(workdir).resolve() else f" (where {workdir} would be made)"),
        "disk_free_mb": round(disk.free / MB),
        "cpus": usable_cpus(),
        "cpus_machine": os.cpu_count(),
        "cpu": cpu_name(),
        "colab": importlib.util.find_spec("google") is not None
        and importlib.util.find_spec("google.colab") is not None,
        "keras_backend": keras_backend(),
        "versions": versions(),
        "vram_allocator": allocator_mode(),
        "encode": suggest_encode(0.6 * usable),  # room for the notebook kernel and the page cache
        "train_batch": 128,  # the studies' batch (not measured against this GPU: n/a without one)
    }
