"""The jobs that chain the analysis room's commands, as the CLI, the demo and a notebook run
them: a run analyzed in full (``analyze``, then ``attributes`` from a labels file, then the
report page, the run opened once) and runs compared (those without an analysis analyzed first).
The command modules import no other command; this module composes them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.attributes import AttributeOptions, attributes, file_labels
from latentkit.analysis.compare import check_runs, compare, labels_of
from latentkit.analysis.report.page import write_page
from latentkit.analysis.report.schema import AttributesReport, CompareReport, Report
from latentkit.core import JobEvents, RunPaths
from latentkit.model.opened import OpenedRun
from latentkit.model.runs import check_run_folder
from latentkit.store.latents import open_latents


@dataclass(frozen=True)
class Analyzed:
    """What ``analyze_run`` wrote: the report, the attributes' report (with labels), the page (with a run)."""

    report: Report
    attributes: AttributesReport | None
    page: Path | None


def analyze_run(
    *,
    latents: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    run: str | os.PathLike | None = None,
    options: AnalyzeOptions | None = None,
    events: JobEvents | None = None,
    column: str | None = None,
    labels: str | os.PathLike | None = None,
    page: bool = True,
) -> Analyzed:
    """``analyze`` of a run's latents (into RUN/analysis unless ``out``) or of ``latents``; then,
    with ``labels``, ``attributes`` of the same latents; then, for a run's own analysis folder
    and a run with a model, the report page. The run is opened once: its model loads once."""
    events = events or JobEvents()
    opened = None if run is None else OpenedRun.of(run)
    if opened is not None:
        check_run_folder(opened.root)
        latents, out = latents or opened.paths.latents, out or opened.paths.analysis
    assert latents is not None and out is not None  # the CLI asks for one of --run or --latents and --out
    if labels is not None:  # checked before any work
        file_labels(labels, open_latents(latents, column)[0].shape[0], events)
    options = options or AnalyzeOptions()
    report = analyze(latents=latents, out=out, options=options, events=events, column=column, run=opened, labels=labels)
    found = None
    if labels is not None:
        found = attributes(
            latents=latents,
            data=None,
            labels=labels,
            out=out,
            events=events,
            column=column,
            options=AttributeOptions(seed=options.seed),
        )
    written = None
    if page and opened is not None:
        if Path(out).resolve() != opened.paths.analysis.resolve():
            events.message(
                f"no report.html: the interactive page shows a run's own analysis ({opened.paths.analysis}), "
                f"not one written to {out}"
            )
        elif not _has_model(opened.paths):
            events.message(f"no report.html: {opened.root} has no model to draw the page's faces with")
        else:
            written = write_page(opened, events=events)
    return Analyzed(report, found, written)


def _has_model(paths: RunPaths) -> bool:
    return paths.checkpoints.is_dir() or paths.imported.exists()


def compare_runs(
    *,
    runs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    grid_n: int = 14,
    seed: int = 0,
    events: JobEvents | None = None,
) -> CompareReport:
    """``compare`` of ``runs``, each checked before any work; a run without an analysis is
    analyzed first (without t-SNE, k-means and figures, which compare does not read)."""
    events = events or JobEvents()
    check_runs(runs, out)
    for label, run in zip(labels_of(runs), runs):
        paths = RunPaths.of(run)
        if not (paths.analysis_files.report).exists():
            events.message(
                f"{label}: no analysis yet, running analyze without t-SNE, k-means and figures (compare "
                f"reads none of them; `latentkit analyze --run {run}` adds them)"
            )
            analyze(
                latents=paths.latents,
                out=paths.analysis,
                events=events,
                run=run,
                options=AnalyzeOptions(tsne=False, kmeans=False, figures=False),
            )
    return compare(runs=runs, out=out, grid_n=grid_n, seed=seed, events=events)
