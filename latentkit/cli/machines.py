"""The ``latentkit`` commands between machines: ``stage`` and ``sync`` (verified, resumable
copies between a slow mount and local disk), ``env`` (what this machine has) and
``slurm submit`` (the pipeline as a chain of SLURM jobs).

Each command parses its options, calls one library function (imported inside the command), and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import (
    app,
    echo_lines,
    events,
    user_errors,
)
from latentkit.core import count

slurm_app = typer.Typer(help="Run the pipeline as a chain of SLURM jobs.", no_args_is_help=True)
app.add_typer(slurm_app, name="slurm")


@app.command("stage")
@user_errors
def stage_cmd(
    src: Annotated[Path, typer.Argument(help="File or folder on a slow mount (Drive, cluster home).")],
    dst: Annotated[Path, typer.Argument(help="Where on local disk (or node-local scratch).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace files at DST that stage did not write (refused otherwise: nothing of yours is overwritten).",
        ),
    ] = False,
) -> None:
    """Copy to local disk: resumable after a kill, verified by SHA-256, flaky reads retried."""
    from latentkit.transfer.stage import stage

    r = stage(src, dst, events=events(), force=force)
    typer.echo(
        f"staged {count(r.files, 'file')}, {r.total_bytes / 2**20:,.1f} MB at {dst}: read {r.copied_bytes / 2**20:,.1f} MB"
        + (f", {r.skipped} already valid" if r.skipped else "")
    )


@app.command("sync")
@user_errors
def sync_cmd(
    src: Annotated[Path, typer.Argument(help="Run directory to copy from.")],
    dst: Annotated[Path, typer.Argument(help="Mirror to copy to (local -> Drive saves, Drive -> local restores).")],
) -> None:
    """Mirror a run directory: finished files only, atomically, unchanged files skipped, nothing deleted."""
    from latentkit.transfer.sync import sync

    r = sync(src, dst, events=events())
    typer.echo(
        f"synced {src} -> {dst}: {count(r.copied, 'file')} copied ({r.bytes / 2**20:,.1f} MB), {r.unchanged} unchanged"
        + (f", {r.held_back} zarr chunk files held back until their chunk is done" if r.held_back else "")
    )


@app.command("env")
@user_errors
def env_cmd(
    workdir: Annotated[
        Path, typer.Option("--dir", help="Where the jobs will write (free disk is measured here).")
    ] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON (the Colab notebook reads it).")] = False,
) -> None:
    """RAM and its cgroup limit, GPU and VRAM, free disk, versions, and the --chunk/--batch that fit."""
    from latentkit.cli.console import environment_lines
    from latentkit.pipeline.environment import machine_report

    report = machine_report(workdir)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        echo_lines(environment_lines(report))


@slurm_app.command("submit")
@user_errors
def slurm_submit_cmd(
    run: Annotated[Path, typer.Option(help="Run directory (shared storage every node sees).")],
    data: Annotated[Path, typer.Option(help="Store that prepare writes and train reads.")],
    from_: Annotated[Path | None, typer.Option("--from", help="Dataset to prepare (as for `prepare celeba`).")] = None,
    synthetic: Annotated[int | None, typer.Option(help="Prepare N synthetic faces instead.", min=1)] = None,
    source: Annotated[str, typer.Option(help="How --from is read: celeba or images.")] = "celeba",
    job: Annotated[str | None, typer.Option(help="Train spec: a preset or a TOML path.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Train until this many epochs.", min=1)] = None,
    prepare_tasks: Annotated[int, typer.Option(help="Array tasks for prepare.", min=1)] = 1,
    encode_tasks: Annotated[int, typer.Option(help="Array tasks for encode (at most 2 at once).", min=1)] = 1,
    chunk: Annotated[int, typer.Option(help="Encode --chunk.", min=1)] = 20_000,
    prepare_args: Annotated[str, typer.Option(help='More prepare options, e.g. "--size 64".')] = "",
    train_args: Annotated[str, typer.Option(help='More train options, e.g. "--set model.z_dim=128".')] = "",
    encode_args: Annotated[str, typer.Option(help='More encode options, e.g. "--batch 128".')] = "",
    analyze_args: Annotated[str, typer.Option(help='More analyze options, e.g. "--no-tsne".')] = "",
    sbatch_arg: Annotated[
        list[str],
        typer.Option(
            "--sbatch-arg", help="Passed to every sbatch: --sbatch-arg=--partition=gpu --sbatch-arg=--account=X."
        ),
    ] = [],
    dry_run: Annotated[bool, typer.Option(help="Print the sbatch command lines; submit nothing.")] = False,
) -> None:
    """prepare (array) -> train (requeue-safe) -> encode (array) -> analyze, chained afterok; done steps skipped."""
    import shlex

    from latentkit.pipeline.slurm import plan, submit

    steps = plan(
        run=run,
        data=data,
        src=None if from_ is None else str(from_),
        synthetic=synthetic,
        source=source,
        job=job,
        epochs=epochs,
        prepare_tasks=prepare_tasks,
        encode_tasks=encode_tasks,
        chunk=chunk,
        extra_prepare=prepare_args,
        extra_train=train_args,
        extra_encode=encode_args,
        extra_analyze=analyze_args,
    )
    for step in steps:
        if step.done:
            typer.echo(f"{step.name:8s} already complete: not submitted")
    result = submit(steps, run=run, sbatch_args=sbatch_arg, dry_run=dry_run)
    if dry_run:
        for step, command in zip([s for s in steps if not s.done], result.commands):
            variables = " ".join(f"{k}={shlex.quote(v)}" for k, v in step.export.items())
            line = " ".join(c if c.startswith("--dependency") else shlex.quote(c) for c in command)
            typer.echo(f"{step.name.upper()}_ID=$({variables} {line})")
        return
    if not result.job_ids:
        typer.echo("every step is complete: nothing submitted")
        return
    typer.echo("submitted " + ", ".join(f"{name} {job_id}" for name, job_id in result.job_ids.items()))
    typer.echo(f"watch: squeue -j {','.join(result.job_ids.values())}   or   latentkit status --run {run}")
