"""The analyze job: the studies' statistics of a latent cloud, streamed chunk by chunk.

Pass 1: moments (mean, covariance, min/max, largest norm), a NaN check, a row sample.
Pass 2: per-component histograms on a common range, radius histogram, projections on the
leading principal components. Pass 3: the trimmed clouds' moments and the data's own hit
counts. Pass 4 (with trim factors and PC pairs): each trimmed cloud on its own principal axes
(``latentkit.analysis.measures.trimmed``, post IX). Memory holds one chunk, the d x d moments and the
samples, whatever N is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

from latentkit.analysis.report.files import write_report
from latentkit.analysis.report.markdown import write_markdown
from latentkit.analysis.report.schema import Report
from latentkit.analysis.stages import STAGES
from latentkit.analysis.stages.cloud import open_cloud
from latentkit.analysis.stages.context import AnalyzeOptions
from latentkit.core import AnalysisPaths, JobEvents, check_folder
from latentkit.model.opened import OpenedRun


def analyze(
    *,
    latents: str | os.PathLike,
    out: str | os.PathLike,
    options: AnalyzeOptions | None = None,
    events: JobEvents | None = None,
    column: str | None = None,
    run: str | os.PathLike | OpenedRun | None = None,
    labels: str | os.PathLike | None = None,
) -> Report:
    """Write OUT/report.json, report.md, mvn.npz and figures for the latents at ``latents``
    (``column``: a parquet file's vector column). ``run``: the run the latents belong to (a path,
    or one already opened): its model re-encodes generated points and measures reconstructions."""
    options, events = options or AnalyzeOptions(), events or JobEvents()
    check_folder(out, "--out")
    opened = None if run is None else OpenedRun.of(run)
    cloud = open_cloud(
        latents=latents, out=Path(out), options=options, events=events, column=column, run=opened, labels=labels
    )
    figures: list[str] = []
    for stage in STAGES:
        section = stage(cloud)
        cloud.report.update(section.keys)
        figures += section.figures
    report = cast(Report, cloud.report)
    if cloud.options.figures:
        report["figures"] = figures
    files = AnalysisPaths(cloud.out)
    write_report(files.report, report)
    write_markdown(files.markdown, report)
    return report
