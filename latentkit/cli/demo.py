"""The ``latentkit`` commands of the demo: ``demo`` (the pipeline on synthetic faces, with the
studies' findings checked) and ``findings`` (those checks on any run).

Each command parses its options, calls one library function (imported inside the command), and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import (
    app,
    events,
    user_errors,
)
from latentkit.core import AnalysisPaths, LatentkitError, RunPaths


@app.command("demo")
@user_errors
def demo_cmd(
    workdir: Annotated[Path, typer.Option("--dir", help="Where the demo store and run go.")] = Path("latentkit-demo"),
    n: Annotated[int, typer.Option(help="Synthetic faces to make.", min=256)] = 16_384,
    epochs: Annotated[int | None, typer.Option(help="Training epochs (default: the demo preset's).", min=1)] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="Then train a VAE (KL factor 5) on the same faces and "
            "compare it with the AE (DIR/compare; about as long again).",
        ),
    ] = False,
) -> None:
    """The whole pipeline on built-in synthetic faces, ending with the studies' findings against
    this run's numbers; rerun it to resume. About 7 minutes on 2 CPU cores (429 s measured,
    BENCHMARKS.md); after its second epoch it says how long the rest takes on this machine and,
    when the whole would run past its budget of 390 s there, which --epochs fits it."""
    from latentkit.core import INTERRUPTED_EXIT
    from latentkit.demo import run_demo, run_demo_compare

    result = (run_demo_compare if compare else run_demo)(
        workdir=workdir, n=n, epochs=epochs, events=events(), say=typer.echo
    )
    if result.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)
    _print_findings(result.findings, result.run)
    if result.comparison is not None:
        typer.echo(f"compare:  {AnalysisPaths(workdir / 'compare').markdown}")


def _print_findings(rows, run) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="The studies' findings, and this run", show_lines=True)
    for column, style in (
        ("the studies found", "bold"),
        ("this run measured", None),
        ("holds", None),
        ("figure", "dim"),
    ):
        table.add_column(column, style=style, overflow="fold")
    for f in rows:
        colour = {"yes": "green", "no": "red", "inconclusive": "yellow", "not applicable": "blue"}[f.verdict]
        table.add_row(f.claim, f.measured, f"[{colour}]{f.verdict}[/{colour}]", f.figure)
    Console(width=max(Console().width, 120)).print(table)
    typer.echo(f"findings: {run.findings_markdown}")
    typer.echo(f"report:   {run.analysis_files.markdown}")
    typer.echo(f"figures:  {run.analysis}/*.png")
    typer.echo(f"grids:    {run.samples}/")


@app.command("findings")
@user_errors
def findings_cmd(
    run: Annotated[Path, typer.Option(help="Run directory, analyzed (`latentkit analyze --run RUN`).")],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print findings.json (the rows and every figure's path) instead of the table."),
    ] = False,
    table: Annotated[bool, typer.Option(help="Print the table (a notebook shows its own: --no-table).")] = True,
) -> None:
    """The studies' findings against a run's numbers, as the demo ends: decodes the grids they
    point at into RUN/samples, measures the reconstruction error on the valid partition, writes
    RUN/findings.md and findings.json."""

    from latentkit.analysis.report.files import read_report
    from latentkit.demo import write_findings
    from latentkit.model.opened import OpenedRun

    paths = RunPaths.of(run)
    OpenedRun.of(run).described.need_decoder("findings (its grids are decoded)")
    report_path = paths.analysis_files.report
    if not report_path.exists():
        raise LatentkitError(f"{run} has no analysis ({report_path}): run `latentkit analyze --run {run}` first")
    report = read_report(report_path)
    if "mixture" not in report:
        raise LatentkitError(
            f"{report_path} has no Gaussian mixture (analyzed with --no-mixture): run "
            f"`latentkit analyze --run {run}` again without it"
        )
    _, rows = write_findings(paths, report, say=lambda line: typer.echo(line, err=as_json))  # --json: stdout is JSON
    if as_json:
        typer.echo((paths.findings).read_text(encoding="utf-8"), nl=False)
    elif table:
        _print_findings(rows, paths)
    else:
        held, judged = sum(f.verdict == "yes" for f in rows), sum(f.verdict != "not applicable" for f in rows)
        aside = f" ({len(rows) - judged} not applicable)" if judged < len(rows) else ""
        typer.echo(f"{held} of {judged} findings hold for this run{aside}: {paths.findings_markdown}")
