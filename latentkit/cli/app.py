"""The one typer app, the options every command shares, and the few helpers commands use.

Command modules (``stores``, ``runs``, ``analyze``, ``analysis``, ``pictures``, ``machines``, ``demo``) import this module and register on
``app``; ``latentkit.cli.main`` imports them all. Nothing here imports a command module.
"""

from __future__ import annotations

import os
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer

from latentkit import __version__
from latentkit.core import DISK_FULL_EXIT, LatentkitError, disk_full

app = typer.Typer(
    help="Study autoencoder latent spaces on real image datasets, on small machines.\n\n"
    "Every job is resumable (rerun the same command); prepare and encode are splittable "
    "(--task/--tasks, defaulting to the array variables of SLURM, Kubernetes Indexed Jobs, AWS Batch, "
    "Google Cloud Batch, LSF or PBS).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)

# Shared options, defined once.
OutStore = Annotated[Path, typer.Option("--out", help="Zarr store to write (created, or resumed if it exists).")]
Size = Annotated[int, typer.Option(help="Side of the square output images in pixels.", min=8)]
Chunk = Annotated[int, typer.Option(help="Images per zarr chunk: the unit of work, resume and splitting.")]
Task = Annotated[
    int | None,
    typer.Option(
        help="This worker's index (default: the array index of SLURM, a Kubernetes Indexed Job, "
        "AWS Batch, Google Cloud Batch, LSF or PBS; else 0)."
    ),
]
Tasks = Annotated[
    int | None,
    typer.Option(
        help="Number of workers (default: the array size of SLURM, AWS Batch, Google Cloud Batch "
        "or LSF; else 1). Kubernetes and PBS give none: pass it there."
    ),
]
MirrorDir = Annotated[
    Path | None,
    typer.Option(
        help="Copy the run here (Drive, cluster storage) after every "
        "checkpoint or chunk, in the background: `latentkit sync` semantics."
    ),
]
Workers = Annotated[int | None, typer.Option(help="Decoding threads (default: CPU count).", min=1)]
MaxVram = Annotated[
    str | None,
    typer.Option(
        help="Refuse up front if the estimated GPU memory of a step exceeds "
        "this (6G, 1500M); out of GPU memory later exits 71."
    ),
]
Picture = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Picture to write: .png, .jpg or .webp (one latentkit wrote "
        "is replaced; any other file only with --force).",
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Replace an existing --out that latentkit did not write.")]
LatentsRun = Annotated[
    Path | None, typer.Option("--run", help="Run directory: reads RUN/latents.zarr, writes RUN/analysis.")
]
AnalysisOut = Annotated[Path | None, typer.Option("--out", help="Output directory (default RUN/analysis).")]
VramPool = Annotated[
    bool,
    typer.Option(
        help="Let the backend preallocate its GPU memory pool (faster; VRAM figures "
        "then show the pool, not what the job needs, and the GPU is not shared)."
    ),
]


def user_errors(function):
    """Turn a LatentkitError (or a full disk) into one line on stderr and its exit status: no traceback."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except LatentkitError as error:
            typer.echo(f"latentkit: error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        except Exception as error:
            in_the_way = path_error(error)
            if in_the_way is not None:
                typer.echo(f"latentkit: error: {in_the_way}", err=True)
                raise typer.Exit(LatentkitError.exit_code) from None
            full = disk_full(error)
            if full is None:
                raise
            where = f" writing {full.filename}" if full.filename else ""
            typer.echo(
                f"latentkit: error: no space left on the device{where}: free space and rerun the same "
                f"command (finished work is kept)",
                err=True,
            )
            raise typer.Exit(DISK_FULL_EXIT) from None

    return wrapper


def path_error(error: BaseException | None) -> str | None:
    """The one line for a path the user gave that cannot be used as it is: a file where a folder
    belongs (or the reverse), or a folder this user may not write; None for anything else."""
    while error is not None and not isinstance(error, OSError):
        error = error.__cause__ or error.__context__
    if error is None or not error.filename:
        return None
    where = error.filename
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        return f"{where}: a file is in the way where latentkit needs a folder: choose another path"
    if isinstance(error, IsADirectoryError):
        return f"{where} is a folder where latentkit needs a file: choose another path"
    if isinstance(error, PermissionError):
        if not os.path.lexists(where):  # creating it was refused: its folder is the culprit
            return f"permission denied: cannot write in {os.path.dirname(where) or '.'}: choose a folder you can write"
        return f"permission denied: {where}: choose a path you can read and write, or fix its rights"
    return None


def events():
    from latentkit.cli.console import ConsoleEvents

    return ConsoleEvents()


def vram_pool_option(pool: bool) -> None:
    """--vram-pool: switch the allocators back to the backends' pools, before a backend loads."""
    if pool:
        from latentkit.machine import configure_allocators

        configure_allocators(pool=True)


def echo_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"latentkit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_show_version)
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Show the backend's own lines (TensorFlow's C++ log, CUDA probing), kept off the screen by default.",
        ),
    ] = False,
) -> None:
    """Study autoencoder latent spaces on real image datasets, on small machines."""
    if verbose:
        os.environ["LATENTKIT_VERBOSE"] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"  # read when TensorFlow loads, after this
