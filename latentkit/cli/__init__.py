"""The ``latentkit`` command line: one typer app (``app``), the command modules that register
on it, each named for its commands (``stores``, ``runs``, ``analyze``, ``analysis``, ``pictures``,
``machines``, ``demo``), rich rendering (``console``) and the entry point
(``main``). Commands import library code inside their bodies, so a refused command is fast."""
