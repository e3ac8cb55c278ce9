"""The ``latentkit`` commands around the pipeline's jobs: moving files and runs between
machines (``stage``, ``sync``), the machine itself (``env``), submitting the pipeline to SLURM
(``slurm submit``), handing stores to other tools (``export``, ``upgrade``), and taking a
model from them (``import-model``).

Like ``pipeline.py``: parse, call one library function, print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import app, echo_lines, events, user_errors
from latentkit.core import count

slurm_app = typer.Typer(help="Run the pipeline as a chain of SLURM jobs.", no_args_is_help=True)
app.add_typer(slurm_app, name="slurm")


@app.command("export")
@user_errors
def export_cmd(
    run: Annotated[Path, typer.Option(help="Run directory with a finished latents.zarr.")],
    format: Annotated[
        str,
        typer.Option(
            help="npy (a folder of COLUMN.npy), parquet (one file; needs pyarrow) or "
            "projector (a folder TensorBoard's Embedding Projector opens)."
        ),
    ],
    partition: Annotated[str | None, typer.Option(help="train | valid | test | all (default: all).")] = None,
    columns: Annotated[
        str,
        typer.Option(
            help="Comma-separated: row, names, partition, z, mu, logvar, attributes, factors, identity, landmarks."
        ),
    ] = "row,names,partition,z",
    out: Annotated[
        Path | None, typer.Option(help="Output (default: RUN/latents-PARTITION[.parquet], RUN/projector).")
    ] = None,
    sample: Annotated[
        int,
        typer.Option(help="projector: points, at most 100,000 (the analysis' t-SNE sample when there is one).", min=1),
    ] = 20_000,
    clusters: Annotated[int, typer.Option(help="projector: k-means clusters in the metadata.", min=1)] = 10,
    rows: Annotated[
        Path | None,
        typer.Option(
            help="npy/parquet: only the rows this file lists (e.g. the report page's saved selection, rows.txt)."
        ),
    ] = None,
) -> None:
    """The latents and the store's labels as plain files (npy, parquet) or a folder for TensorBoard's
    Embedding Projector; streamed, refused up front if the disk is too small."""
    if format == "projector":
        from latentkit.analysis.measures.hits import region_test
        from latentkit.core import RunPaths
        from latentkit.store.projector import export_projector

        in_region = region_test(RunPaths.of(run).analysis / "mvn.npz", k=1.5)  # the findings' k
        made = export_projector(
            run=run, out=out, sample=sample, clusters=clusters, events=events(), in_region=in_region
        )
        typer.echo(
            f"projector: {made.rows:,} points, {made.thumbnail}-pixel thumbnails"
            + (", with the t-SNE embedding" if made.tsne else "")
            + f", {made.bytes / 2**20:,.1f} MB: {made.out}"
            + f"\nopen it: tensorboard --logdir {made.out}  (the Projector tab)"
        )
        return
    from latentkit.store import export_latents

    chosen = tuple(c.strip() for c in columns.split(",") if c.strip())
    result = export_latents(
        run=run, format=format, out=out, partition=partition, columns=chosen, rows=rows, events=events()
    )
    typer.echo(
        f"exported {result.rows:,} rows ({', '.join(result.columns)}), {result.bytes / 2**20:,.1f} MB: {result.out}"
    )


@app.command("upgrade")
@user_errors
def upgrade_cmd(
    path: Annotated[Path, typer.Argument(help="A store or latents.zarr written by an older latentkit.")],
) -> None:
    """Rewrite a store's metadata to the current format (dimension names for xarray); data untouched."""
    from latentkit.store import upgrade

    changed = upgrade(path)
    echo_lines([f"  {line}" for line in changed] or [f"{path} is already current"])


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


@app.command("import-model")
@user_errors
def import_model_cmd(
    model: Annotated[
        list[Path],
        typer.Argument(
            help="MODEL.keras (encoder and decoder as sub-models), or "
            "ENCODER.keras DECODER.keras, or an encoder alone, or "
            "MODEL.weights.h5 with --factory.",
            show_default=False,
            metavar="MODEL",
        ),
    ],
    run: Annotated[Path, typer.Option(help="New run directory that encode, analyze, generate and report use.")],
    encoder: Annotated[
        str | None,
        typer.Option(help="The encoder sub-model's name (default: 'encoder', or the one sub-model that takes images)."),
    ] = None,
    decoder: Annotated[
        str | None,
        typer.Option(
            help="The decoder sub-model's name (default: 'decoder', or the one sub-model that takes vectors)."
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            help="The encoder output that is z, by name or index (default: "
            "its one output; 2 or 3 equal outputs are a VAE's mean, "
            "log-variance[, z])."
        ),
    ] = None,
    custom_objects: Annotated[
        str | None,
        typer.Option(
            help="Module (or .py file) defining the model's custom classes; imported before loading, by every job."
        ),
    ] = None,
    factory: Annotated[
        str | None, typer.Option(help="MODULE:FUNCTION building the (built) model a .weights.h5 file belongs to.")
    ] = None,
    unsafe: Annotated[
        bool,
        typer.Option(
            "--unsafe", help="Turn Keras' safe mode off: a Lambda layer's stored code runs. Only for a model you trust."
        ),
    ] = False,
    input_range: Annotated[
        str, typer.Option(help="Pixel range the encoder takes and the decoder gives: 0:1, 0:255 or -1:1.")
    ] = "0:1",
    data: Annotated[
        Path | None,
        typer.Option(help="A store to check the model on (one batch), and the run's default store for encode."),
    ] = None,
) -> None:
    """A run from your own saved Keras model: finds its encoder and decoder, checks them on one batch,
    copies the model into RUN/model and records where it came from (path, SHA-256)."""
    from latentkit.model.import_model import import_model

    record = import_model(
        sources=model,
        run=run,
        encoder=encoder,
        decoder=decoder,
        output=output,
        custom_objects=custom_objects,
        factory=factory,
        unsafe=unsafe,
        input_range=input_range,
        data=data,
        events=events(),
    )
    parts = f"encoder {record['encoder'] or 'the file itself'}" + (
        f", decoder {record['decoder'] or Path(record['sources'][-1]['path']).name}"
        if record["has_decoder"]
        else ", no decoder"
    )
    typer.echo(
        f"imported {record['kind'].upper()}: {record['image_size']}x{record['image_size']} images in "
        f"{record['input_range']} -> z of {record['z_dim']} ({parts}): {run}"
    )
    typer.echo(f"next: latentkit encode --run {run}" + ("" if record["data"] else " --data STORE"))
