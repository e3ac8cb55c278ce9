"""The pipeline's steps, defined once: their order, what each writes, and how to tell that it
is done. ``latentkit demo`` skips a step that is done, the SLURM chain submits only the steps
that are not, and ``latentkit status`` shows them; all three read this table.

prepare -> train -> encode -> analyze. Each job is resumable on its own (it skips the units
that are complete); a step is *done* when the whole of its output is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from latentkit import store
from latentkit.core import LatentkitError, RunPaths
from latentkit.model import checkpoint
from latentkit.store import chunk_progress


@dataclass(frozen=True)
class Where:
    """Where one pipeline writes: its store of images, its run, and the epochs training should
    reach (None: the epochs its spec asks for)."""

    data: Path | None
    run: RunPaths
    epochs: int | None = None


def store_complete(path: Path) -> bool:
    """A store (images or latents) whose every chunk is written."""
    if not (path / "zarr.json").exists():
        return False
    try:
        return chunk_progress(store.open_store(path)).complete
    except LatentkitError:
        return False


def trained(run: RunPaths, epochs: int | None = None) -> bool:
    """Training reached ``epochs`` (None: its spec's) and ended on an epoch's boundary; a run
    made by ``import-model`` needs no training."""
    if run.imported.exists():
        return True
    try:
        saved, _ = checkpoint.load(run.checkpoints)
    except LatentkitError:
        return False
    if saved is None:
        return False
    return saved.meta["step"] == 0 and saved.meta["epoch"] >= (epochs or saved.meta["spec"]["train"]["epochs"])


def encoded(run: RunPaths) -> bool:
    """Every chunk of the latents is written, from the model the run has now."""
    if not store_complete(run.latents):
        return False
    from latentkit.model.runs import read_run, stale_latents

    try:
        return stale_latents(run.root, read_run(run.root)) is None
    except LatentkitError:  # no model to compare with (latents encoded elsewhere): complete is done
        return True


def analyzed(run: RunPaths) -> bool:
    """report.json is written after the last chunk of complete latents was."""
    report = run.analysis_files.report
    if not report.exists() or not store_complete(run.latents):
        return False
    marks = [p.stat().st_mtime for p in (run.latents / store.DONE).rglob("*") if p.is_file()]
    return report.stat().st_mtime >= max(marks, default=0.0)


@dataclass(frozen=True)
class Step:
    name: str  # the job's command: prepare | train | encode | analyze
    writes: str  # what it writes, in words
    is_done: Callable[[Where], bool]


STEPS: tuple[Step, ...] = (
    Step("prepare", "the store of images (DATA)", lambda w: w.data is not None and store_complete(w.data)),
    Step("train", "RUN/checkpoints", lambda w: trained(w.run, w.epochs)),
    Step("encode", str(RunPaths(Path("RUN")).latents), lambda w: encoded(w.run)),
    Step("analyze", str(RunPaths(Path("RUN")).analysis_files.report), lambda w: analyzed(w.run)),
)
NAMES = tuple(step.name for step in STEPS)


def step(name: str) -> Step:
    return STEPS[NAMES.index(name)]


def steps_done(where: Where) -> dict[str, bool]:
    """Each step's name and whether it is done, in the pipeline's order."""
    return {s.name: s.is_done(where) for s in STEPS}
