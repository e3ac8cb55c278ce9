"""The console script ``latentkit``: the app with every command module registered on it."""

from __future__ import annotations

import re
import sys
from functools import cache

import typer

# Each command module registers its commands on `app`.
# isort: off
from latentkit.cli import analysis, analyze, demo, machines, pictures, runs, stores  # noqa: F401

# isort: on
from latentkit.cli.app import app
from latentkit.cli.examples import epilog
from latentkit.core import KEYBOARD_EXIT

# `latentkit --help` lists the commands in the order a study meets them.
ORDER = (
    "demo",
    "env",
    "prepare",
    "info",
    "presets",
    "train",
    "import-model",
    "status",
    "encode",
    "analyze",
    "plane",
    "lattice",
    "explore",
    "flow",
    "findings",
    "report",
    "generate",
    "reconstruct",
    "interpolate",
    "attributes",
    "compare",
    "export",
    "stage",
    "sync",
    "upgrade",
    "slurm",
)
METAVARS = {"int": "N", "float": "X", "path": "PATH", "str": "TEXT"}


@cache
def command():
    """The click command behind the app, built once, with help that reads as click's own: types as
    N / X / PATH / TEXT (not ``<int range>``), commands in pipeline order, and each command's
    first sentence in the list, never cut."""
    root = typer.main.get_command(app)
    _polish(root)
    root.commands = {name: root.commands[name] for name in ORDER}
    for name, cmd in root.commands.items():  # the examples at the end of each command's --help
        for full, leaf in [(f"{name} {s}", c) for s, c in getattr(cmd, "commands", {}).items()] or [(name, cmd)]:
            leaf.epilog = epilog(full)
    return root


def _polish(cmd) -> None:
    for param in cmd.params:
        # typer >= 0.26 names types <int range>, <list[Path]>
        unnamed = param.param_type_name == "option" and not param.is_flag and param.metavar is None
        if unnamed and hasattr(param, "display_type"):
            kind = param.display_type(None).strip("<>").removeprefix("list[").removesuffix("]")
            param.metavar = METAVARS.get(kind.split()[0].lower(), kind)
    if cmd.help and not cmd.short_help:
        cmd.short_help = re.split(r"(?<=\.)\s", " ".join(cmd.help.split()), maxsplit=1)[0].rstrip(".")
    for sub in getattr(cmd, "commands", {}).values():
        _polish(sub)


def run(argv: list[str] | None = None) -> int:
    """Run one command line (``argv`` without the program name; None: ``sys.argv``) and return
    its exit status. Every usage error (unknown option, value out of range) is one line too."""
    try:
        code = command().main(args=argv, prog_name="latentkit", standalone_mode=False)
    except typer.Exit as done:  # raised by a command or --version outside click's own handling
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("latentkit: interrupted: rerun the same command to resume (finished work is kept)", err=True)
        return KEYBOARD_EXIT
    except typer.TyperException as error:  # typer's usage errors (its click-style ClickException)
        ctx = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:  # `latentkit` alone: the help
            typer.echo(ctx.get_help())
            return 0
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        typer.echo(f"latentkit: error: {' '.join(message.split())}{where}", err=True)
        return getattr(error, "exit_code", 2)
    return code if isinstance(code, int) else 0


def chain(commands: list[str]) -> int:
    """Several command lines one after the other in this process (one start-up and one backend
    import for all of them), each announced by its ``$ latentkit COMMAND`` line; the exit status
    of the first that fails (the rest are not run), else 0. The notebook's ``lk`` runs a cell's
    commands so: ``python -c "...chain(sys.argv[1:])" 'encode --run R' 'analyze --run R'``."""
    import shlex

    for line in commands:
        print(f"$ latentkit {line}", flush=True)
        status = run(shlex.split(line))
        sys.stdout.flush()
        sys.stderr.flush()
        if status:
            return status
    return 0


def main() -> None:
    """The console script."""
    sys.exit(run())


if __name__ == "__main__":
    main()
