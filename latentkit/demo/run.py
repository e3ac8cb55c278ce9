"""The demo job: the whole pipeline on built-in synthetic faces, resumable stage by stage."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latentkit.core import JobEvents, RunPaths, check_folder, own_folder

DEMO_ANALYSIS = {"tsne_sample": 2000, "kmeans_sample": 2000, "kmeans_max": 30, "sample": 4000, "nn_sample": 2000}
DEMO_N = 16_384  # synthetic faces: with the demo preset's epochs, 4½-6 minutes on 2 fast CPU cores
DEMO_BUDGET_S = 330  # what the demo should take; on a slower machine it says so after its second epoch
TIMED_EPOCH = 2  # the first epoch also traces and compiles: the second is the machine's pace
AFTER_TRAINING_S = 60  # encode, analyze, grids and findings: 48 s on the fast machine (BENCHMARKS.md)


@dataclass
class DemoResult:
    interrupted: bool  # training stopped by a signal: rerun to resume
    data: Path
    run: RunPaths
    report: dict[str, Any] | None = None
    grids: dict[str, dict[str, Any]] | None = None
    findings: list | None = None  # latentkit.demo.findings.Finding rows
    comparison: dict[str, Any] | None = None  # compare's report (demo --compare)


class _SayTime(JobEvents):
    """Passes a job's events on; when epoch ``TIMED_EPOCH`` ends (the first one also traces and
    compiles the model), says how long the rest takes on this machine (``time_note``)."""

    def __init__(self, inner: JobEvents, say: Callable[[str], None], epochs: int, workdir: Path) -> None:
        self.inner, self.say, self.epochs, self.workdir = inner, say, epochs, workdir

    def start(self, description: str, total: int, done: int = 0, unit: str = "items") -> None:
        self.inner.start(description, total, done, unit)

    def advance(self, amount: int = 1) -> None:
        self.inner.advance(amount)

    def message(self, text: str) -> None:
        self.inner.message(text)

    def finish(self) -> None:
        self.inner.finish()

    def record(self, record: dict[str, Any]) -> None:
        self.inner.record(record)
        if record.get("unit") == f"epoch {TIMED_EPOCH}" and self.epochs > TIMED_EPOCH:
            self.say(time_note(record["work_s"], self.epochs, self.workdir))


def time_note(epoch_s: float, epochs: int, workdir: Path, *, budget_s: float = DEMO_BUDGET_S) -> str:
    """What epoch ``TIMED_EPOCH`` says about this machine: how long the rest takes here and, when
    the whole demo would run over the budget, the quicker path (fewer epochs) that fits it."""
    from latentkit.machine.environment import cpu_name

    left = epochs - TIMED_EPOCH
    rest = left * epoch_s + AFTER_TRAINING_S
    line = (f"      epoch {TIMED_EPOCH} took {epoch_s:.0f} s on this CPU ({cpu_name()}): the other {left} "
            f"epoch{'s' * (left > 1)} and the analysis take about {_minutes(rest)} more here")
    quick = max(TIMED_EPOCH + 1, int((budget_s - AFTER_TRAINING_S) / epoch_s))
    if epochs * epoch_s + AFTER_TRAINING_S <= budget_s or quick >= epochs:
        return line
    return (line + f". For a quicker look, stop now (Ctrl-C keeps the epochs trained) and run `latentkit demo --dir {workdir} "
            f"--epochs {quick}` (about {_minutes(quick * epoch_s + AFTER_TRAINING_S)} in all): fewer epochs "
            f"give blurrier reconstructions, and the findings on reconstruction error and correlations may not hold")


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _figures(run: RunPaths, report: dict[str, Any], grids: dict[str, dict[str, Any]]) -> list[str]:
    return [str(run.analysis / name) for name in report.get("figures", [])] + [g["out"] for g in grids.values()]


def run_demo(*, workdir: str | os.PathLike, n: int = DEMO_N, epochs: int | None = None,
             events: JobEvents | None = None, say: Callable[[str], None] = lambda line: None) -> DemoResult:  # fmt: skip
    """prepare -> train (the ``demo`` preset) -> encode -> analyze -> generate -> findings, under ``workdir``.

    ``say`` receives one line per stage; every stage skips work that is already on disk.
    ``epochs`` None: the preset's. Ends with RUN/findings.md and findings.json: the studies'
    findings against this run's numbers.
    """
    from latentkit.analysis.analyze import AnalyzeOptions, analyze
    from latentkit.analysis.generate import generate, interpolate, reconstruct, reconstruction_rmse
    from latentkit.core import write_json, write_text
    from latentkit.demo.findings import as_json, as_markdown, findings
    from latentkit.ingest import prepare_synthetic
    from latentkit.model import load_spec
    from latentkit.model.encode import encode
    from latentkit.model.train import train
    from latentkit.store import store_summary, summary_lines

    events = events or JobEvents()
    workdir = own_folder(check_folder(workdir, "--dir"))
    data, run = workdir / "data.zarr", RunPaths.of(workdir / "run")
    spec = load_spec("demo", {} if epochs is None else {"train.epochs": epochs})
    size = spec.model.image_size
    say(f"[1/6] prepare: {n:,} synthetic faces of {size}x{size} pixels -> {data}")
    prepare_synthetic(out=data, n=n, size=size, events=events)
    for line in summary_lines(store_summary(data)):
        say(line)
    say(f"[2/6] train: preset demo (z_dim {spec.model.z_dim}), {spec.train.epochs} epochs -> {run.root}")
    timed = _SayTime(events, say, spec.train.epochs, workdir)
    if train(data=data, run=run.root, job="demo", overrides={"train.epochs": spec.train.epochs}, events=timed).interrupted:
        return DemoResult(True, data, run)
    say(f"[3/6] encode: every image -> {run.latents}")
    encode(run=run.root, chunk=1024, batch=256, events=events)
    say(f"[4/6] analyze -> {run.analysis}")
    report = analyze(latents=run.latents, out=run.analysis, options=AnalyzeOptions(**DEMO_ANALYSIS), events=events)
    say("[5/6] generate, reconstruct, interpolate")
    samples = run.samples
    grids = {
        "mvn": generate(run=run.root, method="mvn", out=samples / "generated_mvn.png", sharpen=2.0),
        "gmm": generate(run=run.root, method="gmm", out=samples / "generated_gmm.png", sharpen=2.0),
        "uniform": generate(run=run.root, method="uniform", b=3.0, out=samples / "generated_uniform_b3.png"),
        "reconstruct": reconstruct(run=run.root, out=samples / "reconstructions.png"),
        "interpolate": interpolate(run=run.root, start=0, stop=1, out=samples / "interpolation.png"),
    }
    say("[6/6] findings: reconstruction error on the valid partition, the studies' claims")
    rows = findings(report, reconstruction_rmse(run=run.root, partition="valid"))
    write_json(run.root / "findings.json", {"findings": as_json(rows), "figures": _figures(run, report, grids)})
    write_text(run.root / "findings.md", "# What the studies found, and what this run measured\n\n" + as_markdown(rows))
    return DemoResult(False, data, run, report, grids, rows)


VAE_OVERRIDES = {"model.kind": "vae", "model.kl_factor": 5.0}  # the studies' working KL term


def run_demo_compare(*, workdir: str | os.PathLike, n: int = DEMO_N, epochs: int | None = None,
                     events: JobEvents | None = None, say: Callable[[str], None] = lambda line: None) -> DemoResult:  # fmt: skip
    """The demo, then a VAE of the same shape (KL factor 5) on the same faces, and ``compare`` of the two.

    Writes WORKDIR/run-vae and WORKDIR/compare; resumable like the demo.
    """
    from latentkit.analysis.analyze import AnalyzeOptions, analyze
    from latentkit.analysis.compare import compare
    from latentkit.model.encode import encode
    from latentkit.model.train import train

    result = run_demo(workdir=workdir, n=n, epochs=epochs, events=events, say=say)
    if result.interrupted:
        return result
    vae, out = RunPaths.of(Path(workdir) / "run-vae"), Path(workdir) / "compare"
    overrides = {**VAE_OVERRIDES, **({} if epochs is None else {"train.epochs": epochs})}
    say(f"[compare 1/3] train a VAE (KL factor {VAE_OVERRIDES['model.kl_factor']:g}) on the same faces -> {vae.root}")
    if train(data=result.data, run=vae.root, job="demo", overrides=overrides, events=events).interrupted:
        return DemoResult(True, result.data, vae)
    say(f"[compare 2/3] encode and analyze -> {vae.analysis}")
    encode(run=vae.root, chunk=1024, batch=256, events=events)
    analyze(latents=vae.latents, out=vae.analysis, options=AnalyzeOptions(**DEMO_ANALYSIS), events=events)
    say(f"[compare 3/3] compare the AE and the VAE -> {out}")
    report = compare(runs=[result.run.root, vae.root], out=out, events=events)
    return DemoResult(False, result.data, result.run, result.report, result.grids, result.findings, report)
