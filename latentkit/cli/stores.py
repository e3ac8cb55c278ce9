"""The ``latentkit`` commands on image stores: ``prepare`` (``synthetic``, ``celeba``, ``images``:
build a chunked zarr store), ``info`` (what a store holds), ``upgrade`` (an older store's format)
and ``export`` (latents and images for other tools).

Each command parses its options, calls one library function (imported inside the command, so
a refused command never loads Keras), and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import (
    Chunk,
    OutStore,
    Size,
    Task,
    Tasks,
    Workers,
    app,
    echo_lines,
    events,
    user_errors,
)
from latentkit.core import count, format_crop
from latentkit.ingest import CELEBA_CROP

prepare_app = typer.Typer(help="Build a chunked zarr image store.", no_args_is_help=True)
app.add_typer(prepare_app, name="prepare")


@prepare_app.command("synthetic")
@user_errors
def prepare_synthetic_cmd(
    out: OutStore,
    n: Annotated[int, typer.Option(help="Number of faces.", min=1)] = 10_000,
    size: Size = 96,
    seed: Annotated[int, typer.Option(help="Image i depends only on (seed, i).", min=0)] = 0,
    chunk: Chunk = 1024,
    task: Task = None,
    tasks: Tasks = None,
) -> None:
    """Procedural faces with known latent factors: the pipeline with no download."""
    from latentkit.ingest import prepare_synthetic
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = prepare_synthetic(out=out, n=n, size=size, seed=seed, chunk=chunk, task=task, tasks=tasks, events=events())
    typer.echo(f"wrote {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {out}")


@prepare_app.command("celeba")
@user_errors
def prepare_celeba_cmd(
    src: Annotated[
        Path,
        typer.Argument(
            help="CelebA as you have it: the official Drive folder or its "
            "Img/img_align_celeba.zip, the Kaggle folder or archive.zip, torchvision's "
            "root, the image folder, a tar."
        ),
    ],
    out: OutStore,
    size: Size = 96,
    crop: Annotated[str, typer.Option(help="Crop box X0,Y0,X1,Y1 applied before resizing.")] = format_crop(CELEBA_CROP),
    chunk: Chunk = 1024,
    task: Task = None,
    tasks: Tasks = None,
    workers: Workers = None,
    partition_file: Annotated[
        Path | None, typer.Option(help="list_eval_partition .txt/.csv (default: searched).")
    ] = None,
    attributes_file: Annotated[
        Path | None, typer.Option(help="list_attr_celeba .txt/.csv (default: searched).")
    ] = None,
) -> None:
    """CelebA in any layout users have (read in place), with partitions, attributes, identities, landmarks."""
    from latentkit.core import parse_crop
    from latentkit.ingest import prepare_celeba
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = prepare_celeba(
        src=src,
        out=out,
        size=size,
        crop=parse_crop(crop),
        chunk=chunk,
        task=task,
        tasks=tasks,
        workers=workers,
        partition_file=partition_file,
        attributes_file=attributes_file,
        events=events(),
    )
    typer.echo(f"wrote {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {out}")
    _print_summary(out)


@prepare_app.command("images")
@user_errors
def prepare_images_cmd(
    src: Annotated[Path, typer.Argument(help="A folder (searched recursively), zip or tar of JPEG/PNG/WebP images.")],
    out: OutStore,
    size: Size = 96,
    crop: Annotated[str, typer.Option(help="center (largest central square) or a box X0,Y0,X1,Y1.")] = "center",
    split: Annotated[
        str, typer.Option(help="TRAIN,VALID,TEST fractions, drawn from each path's hash.")
    ] = "0.8,0.1,0.1",
    chunk: Chunk = 1024,
    task: Task = None,
    tasks: Tasks = None,
    workers: Workers = None,
    faces: Annotated[
        bool,
        typer.Option(
            "--faces",
            help="The images are faces: messages, captions and findings "
            "say faces, not images (recorded in the store; CelebA's and the synthetic "
            "stores always do).",
        ),
    ] = False,
) -> None:
    """Any folder of images (LFW, FFHQ thumbnails, your photos): any sizes and modes, in path order."""
    from latentkit.core import parse_image_crop, parse_split
    from latentkit.ingest import prepare_images
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = prepare_images(
        src=src,
        out=out,
        size=size,
        crop=parse_image_crop(crop),
        split=parse_split(split),
        chunk=chunk,
        task=task,
        tasks=tasks,
        workers=workers,
        faces=faces,
        events=events(),
    )
    typer.echo(f"wrote {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {out}")
    _print_summary(out)


def _print_summary(path: Path) -> None:
    from latentkit.store import store_summary, summary_lines

    echo_lines(summary_lines(store_summary(path)))


@app.command("info")
@user_errors
def info_cmd(
    path: Annotated[Path, typer.Argument(help="A store written by `latentkit prepare`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarise a store: counts per partition, chunks done, size on disk and as float32 in memory, skipped files."""
    from latentkit.store import store_summary

    if as_json:
        typer.echo(json.dumps(store_summary(path), indent=2))
    else:
        _print_summary(path)


@app.command("upgrade")
@user_errors
def upgrade_cmd(
    path: Annotated[Path, typer.Argument(help="A store or latents.zarr written by an older latentkit.")],
) -> None:
    """Rewrite a store's metadata to the current format (dimension names for xarray); data untouched."""
    from latentkit.store import upgrade

    changed = upgrade(path)
    echo_lines([f"  {line}" for line in changed] or [f"{path} is already current"])


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

        in_region = region_test(RunPaths.of(run).analysis_files.fit, k=1.5)  # the findings' k
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
