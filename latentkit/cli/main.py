"""The console script ``latentkit``: the app with every command module registered on it."""

from __future__ import annotations

import sys

import typer

# Each command module registers its commands on `app`, in this order in `latentkit --help`.
# isort: off
from latentkit.cli import pipeline, around, study  # noqa: F401
# isort: on
from latentkit.cli.app import app


def run(argv: list[str] | None = None) -> int:
    """Run one command line (``argv`` without the program name; None: ``sys.argv``) and return
    its exit status. Every usage error (unknown option, value out of range) is one line too."""
    try:
        code = app(args=argv, prog_name="latentkit", standalone_mode=False)
    except typer.Exit as done:  # raised by a command or --version outside click's own handling
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("latentkit: interrupted: rerun the same command to resume (finished work is kept)", err=True)
        return 130
    except typer.TyperException as error:  # typer's usage errors (its click-style ClickException)
        ctx = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError":  # `latentkit` or `latentkit prepare` alone: the help
            typer.echo(ctx.get_help())
            return 0
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        typer.echo(f"latentkit: error: {' '.join(message.split())}{where}", err=True)
        return getattr(error, "exit_code", 2)
    return code if isinstance(code, int) else 0


def main() -> None:
    """The console script."""
    sys.exit(run())


if __name__ == "__main__":
    main()
