"""The ``latentkit`` commands that make and advance a run: ``presets`` (the job presets),
``train``, ``import-model`` (a model trained elsewhere), ``encode`` and ``status`` (which steps
of the pipeline are done).

Each command parses its options, calls one library function (imported inside the command), and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import (
    MaxVram,
    MirrorDir,
    Task,
    Tasks,
    VramPool,
    app,
    echo_lines,
    events,
    user_errors,
    vram_pool_option,
)
from latentkit.core import LatentkitError, count


@app.command("presets")
@user_errors
def presets_cmd(
    show: Annotated[str | None, typer.Argument(help="A preset to print (copy it to start your own spec).")] = None,
) -> None:
    """List the job presets shipped with latentkit, or print one: `latentkit presets vae > my.toml`."""
    from latentkit.model import find_job, presets

    if show is not None:
        typer.echo(find_job(show).read_text(encoding="utf-8"), nl=False)
        return
    for name, preset in presets().items():
        typer.echo(f"{name:12s} {_first_sentence(preset.read_text(encoding='utf-8'))}")


def _first_sentence(toml: str) -> str:
    """The first sentence of a preset's opening comment, however many lines it spans."""
    comment = []
    for line in toml.splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# "))
    text = " ".join(" ".join(comment).split())
    return text.split(". ")[0].rstrip(".") + "."


@app.command("train")
@user_errors
def train_cmd(
    data: Annotated[Path, typer.Option(help="Store written by `latentkit prepare`.")],
    run: Annotated[Path, typer.Option(help="Run directory: spec, checkpoints, history, samples, monitor.")],
    job: Annotated[
        str | None,
        typer.Option(
            help="Spec: a preset name (`latentkit presets`) or a TOML path "
            "(default: the run's job.toml, else ae-case1)."
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Train until this many epochs (extends a run; default: the spec's).", min=1)
    ] = None,
    batch: Annotated[int | None, typer.Option(help="Images per step (default: the spec's).", min=1)] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (default: the spec's).")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of weights and data order (default: the spec's).", min=0)
    ] = None,
    checkpoint_every: Annotated[
        int | None, typer.Option(help="Checkpoint every K steps (and each epoch).", min=1)
    ] = None,
    set_: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="Override any spec field: model.z_dim=128, "
            "train.precision=mixed_bfloat16, train.steps_per_execution=8.",
        ),
    ] = [],
    mirror: MirrorDir = None,
    max_vram: MaxVram = None,
    vram_pool: VramPool = False,
    devices: Annotated[
        str | None,
        typer.Option(
            help="Data-parallel over `all` or N devices (JAX backend); under srun, over every process's devices."
        ),
    ] = None,
    keep_epochs: Annotated[
        str | None,
        typer.Option(
            help="Keep these epochs' checkpoints for good, e.g. 5,10,18 (RUN/checkpoints/epoch_0005.npz ...)."
        ),
    ] = None,
    keep_every: Annotated[int | None, typer.Option(help="Keep every K-th epoch's checkpoint for good.", min=1)] = None,
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Start this new run from a kept checkpoint (another "
            "run's epoch_NNNN.npz or best.npz): its weights, optimizer, epoch "
            "and history, with your --lr, --batch, --set train.*/model.kl_factor/"
            "eps_factor changes applied. --run must be new (rerun to resume "
            "it).",
        ),
    ] = None,
) -> None:
    """Train an AE/VAE; rerun to resume mid-epoch. Stop signals checkpoint, then exit 75; out of GPU memory exits
    71, a NaN loss 65, a run in use by another train 73, a full disk 74 (nothing good is lost)."""
    vram_pool_option(vram_pool)
    from latentkit.core import INTERRUPTED_EXIT, parse_numbers
    from latentkit.model import parse_set
    from latentkit.model.train import train

    overrides = parse_set(set_)
    kept = None if keep_epochs is None else [int(v) for v in parse_numbers(keep_epochs, "--keep-epochs")]
    if kept is not None and any(v != int(v) for v in parse_numbers(keep_epochs, "--keep-epochs")):
        raise LatentkitError(f"--keep-epochs takes whole epochs, e.g. 5,10,18, got {keep_epochs!r}")
    for key, value in (
        ("epochs", epochs),
        ("batch", batch),
        ("lr", lr),
        ("seed", seed),
        ("checkpoint_every", checkpoint_every),
        ("keep_epochs", kept),
        ("keep_every", keep_every),
    ):
        if value is not None:
            overrides[f"train.{key}"] = value
    result = train(
        data=data,
        run=run,
        job=job,
        overrides=overrides,
        events=events(),
        mirror=mirror,
        max_vram=max_vram,
        devices=devices,
        start_from=from_,
    )
    if result.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)
    last = f"loss {result.history[-1]['loss']:.2f}" if result.history else "no epoch finished"
    if result.trained == 0:
        typer.echo(f"nothing trained: {run} is at epoch {result.epoch} ({last})")
    else:
        first, trained = result.first_epoch + 1, result.trained
        which = f"epoch {first}" if trained == 1 else f"epochs {first}-{result.epoch}"
        typer.echo(f"trained {which}: {last} -> {run}")


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


@app.command("encode")
@user_errors
def encode_cmd(
    run: Annotated[Path, typer.Option(help="Run directory with a checkpoint, or one import-model made.")],
    chunk: Annotated[int, typer.Option(help="Images per output chunk: unit of work, resume and memory.")] = 20_000,
    data: Annotated[Path | None, typer.Option(help="Store to encode (default: the one the run trained on).")] = None,
    out: Annotated[Path | None, typer.Option(help="Latents store (default: RUN/latents.zarr).")] = None,
    batch: Annotated[int, typer.Option(help="Images per encoder call (fixed shape: no retracing).")] = 256,
    task: Task = None,
    tasks: Tasks = None,
    use: Annotated[str, typer.Option(help="VAE: z (sampled, reproducible) or mu (z = mu).")] = "z",
    max_ram: Annotated[
        str | None, typer.Option(help="Refuse up front if the estimate exceeds this (4G, 1500M).")
    ] = None,
    mirror: MirrorDir = None,
    restart_stale: Annotated[
        bool,
        typer.Option(
            help="Latents from another checkpoint, store, --chunk or --use are deleted "
            "and encoded again instead of refused (one task only)."
        ),
    ] = False,
    max_vram: MaxVram = None,
    vram_pool: VramPool = False,
) -> None:
    """Every image's z-point into zarr, chunk by chunk with flat memory; resumable and splittable."""
    vram_pool_option(vram_pool)
    from latentkit.model.encode import encode
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = encode(
        run=run,
        chunk=chunk,
        data=data,
        out=out,
        batch=batch,
        task=task,
        tasks=tasks,
        use=use,
        max_ram=max_ram,
        events=events(),
        mirror=mirror,
        restart_stale=restart_stale,
        max_vram=max_vram,
    )
    typer.echo(f"encoded {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {result.out}")


@app.command("status")
@user_errors
def status_cmd(
    run: Annotated[Path, typer.Option(help="Run directory.")],
    last: Annotated[int, typer.Option(help="Monitor lines to show (0: all).", min=0)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Epochs trained, latent chunks done and missing, and the last monitor lines."""
    from latentkit.cli.console import status_lines
    from latentkit.pipeline.status import run_status

    s = run_status(run, last=last)
    if as_json:
        typer.echo(json.dumps(s, indent=2))
        return
    echo_lines(status_lines(s))
