"""What a run has done so far, read without loading TensorFlow."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from latentkit import store
from latentkit.core import MARK, LatentkitError, RunPaths
from latentkit.machine.monitor import read_monitor
from latentkit.model import checkpoint, spec_from_dict
from latentkit.model.runs import read_run, stale_latents
from latentkit.pipeline.slurm import job_states
from latentkit.pipeline.steps import Where, steps_done
from latentkit.store import chunk_progress


def gpu_peaks(records: list[dict[str, Any]]) -> dict[str, float | None]:
    """The card's total and the run's peak VRAM over all its monitor lines (None: n/a)."""

    def top(key: str) -> float | None:
        values = [r[key] for r in records if r.get(key) is not None]
        return max(values) if values else None

    return {
        "total_mb": top("vram_total_mb"),
        "peak_mb": top("vram_backend_peak_mb"),
        "nvml_peak_mb": top("vram_used_mb"),
    }


def run_status(run: str | os.PathLike, out: str | os.PathLike | None = None, last: int = 5) -> dict[str, Any]:
    """Epochs trained, latent chunks done and missing, and the last monitor lines of a run."""
    paths = RunPaths.of(run)
    if not paths.root.is_dir():
        raise LatentkitError(f"no run directory {paths.root}")
    if not any(p.exists() for p in (paths.job_spec, paths.checkpoints, paths.root / MARK)):
        raise LatentkitError(f"{paths.root} is not a run directory (no job.toml): give the --run that train wrote")
    saved, warning = checkpoint.load(paths.checkpoints)
    status: dict[str, Any] = {"run": str(paths.root), "checkpoint_warning": warning}
    if saved is not None:
        spec = spec_from_dict(saved.meta["spec"])
        status["train"] = {
            "job": spec.name,
            "epoch": saved.meta["epoch"],
            "epochs": spec.train.epochs,
            "step": saved.meta["step"],
            "steps_per_epoch": saved.meta.get("steps_per_epoch"),
            "last_loss": (saved.meta["history"] or [{}])[-1].get("loss"),
        }
    if paths.imported.exists():
        status["imported"] = json.loads(paths.imported.read_text(encoding="utf-8"))
    out = Path(out or paths.latents)
    if (out / "zarr.json").exists():
        progress = chunk_progress(store.open_store(out))
        status["encode"] = {
            "path": str(out),
            "n": progress.n,
            "chunk": progress.chunk,
            "chunks_done": progress.chunks_done,
            "chunks_total": progress.chunks_total,
            "missing": progress.missing,
            "stale": stale_latents(paths.root, read_run(paths.root))
            if (saved is not None or paths.imported.exists()) and out == paths.latents
            else None,
        }
    records = read_monitor(paths.monitor, None)  # read once: the last lines and the run's peaks
    status["monitor"] = records[-last:] if last else records
    status["gpu"] = gpu_peaks(records)
    data = read_run(paths.root).data if saved is not None or paths.imported.exists() else ""
    status["steps"] = steps_done(Where(Path(data) if data else None, paths))
    status["slurm"] = job_states(paths.root)
    return status
