"""The demo job: the whole pipeline on built-in synthetic faces, resumable stage by stage."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latentkit.events import JobEvents
from latentkit.paths import RunPaths

DEMO_ANALYSIS = {"tsne_sample": 2000, "kmeans_sample": 2000, "kmeans_max": 30, "sample": 4000}


@dataclass
class DemoResult:
    interrupted: bool  # training stopped by a signal: rerun to resume
    data: Path
    run: RunPaths
    report: dict[str, Any] | None = None
    grids: dict[str, dict[str, Any]] | None = None


def run_demo(*, workdir: str | os.PathLike, n: int = 4096, epochs: int = 3, events: JobEvents | None = None,
             say: Callable[[str], None] = lambda line: None) -> DemoResult:  # fmt: skip
    """prepare -> train (the ``demo`` preset) -> encode -> analyze -> generate, under ``workdir``.

    ``say`` receives one line per stage; every stage skips work that is already on disk.
    """
    from latentkit.analyze import AnalyzeOptions, analyze
    from latentkit.console import store_summary_lines
    from latentkit.encode import encode
    from latentkit.generate import generate, interpolate, reconstruct
    from latentkit.prepare import prepare_synthetic, store_summary
    from latentkit.train import train

    events = events or JobEvents()
    workdir = Path(workdir)
    data, run = workdir / "data.zarr", RunPaths.of(workdir / "run")
    say(f"[1/5] prepare: {n:,} synthetic faces -> {data}")
    prepare_synthetic(out=data, n=n, events=events)
    for line in store_summary_lines(store_summary(data)):
        say(line)
    say(f"[2/5] train: preset demo, {epochs} epochs -> {run.root}")
    if train(data=data, run=run.root, job="demo", overrides={"train.epochs": epochs}, events=events).interrupted:
        return DemoResult(True, data, run)
    say(f"[3/5] encode: every image -> {run.latents}")
    encode(run=run.root, chunk=1024, batch=256, events=events)
    say(f"[4/5] analyze -> {run.analysis}")
    report = analyze(latents=run.latents, out=run.analysis, options=AnalyzeOptions(**DEMO_ANALYSIS), events=events)
    say("[5/5] generate, reconstruct, interpolate")
    samples = run.samples
    grids = {
        "mvn": generate(run=run.root, method="mvn", out=samples / "generated_mvn.png", sharpen=2.0),
        "uniform": generate(run=run.root, method="uniform", b=3.0, out=samples / "generated_uniform_b3.png"),
        "reconstruct": reconstruct(run=run.root, out=samples / "reconstructions.png"),
        "interpolate": interpolate(run=run.root, start=0, stop=1, out=samples / "interpolation.png"),
    }
    return DemoResult(False, data, run, report, grids)
