"""MkDocs hooks: the pages generated from the code at build time, so they cannot drift from it.

- ``reference/cli.md``: every command, argument and option of the typer app, in the CLI's own
  order (``latentkit.cli.main.command``), with its help and the examples ``--help`` shows;
- ``reference/report-json.md``: report.json's schema, from the TypedDicts that define it
  (``latentkit.analysis.report.schema``);
- ``reference/exit-statuses.md``: from the constants of ``latentkit.core.errors``;
- ``architecture.md``: the rooms and what each may import, from the layout test's own table;
- ``benchmarks.md`` and ``reliability.md``: the repository's BENCHMARKS.md and RELIABILITY.md.

Nothing is written into docs/: the pages are added to the build as generated files.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]


def on_files(files, config):
    pages = {
        "reference/cli.md": cli_reference(),
        "reference/report-json.md": report_schema_page(),
        "reference/exit-statuses.md": exit_statuses_page(),
        "architecture.md": architecture_page(),
        "benchmarks.md": (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8"),
        "reliability.md": (ROOT / "RELIABILITY.md").read_text(encoding="utf-8"),
    }
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files


# -- the CLI reference --------------------------------------------------------------------------


def cli_reference() -> str:
    from latentkit.cli.examples import EXAMPLES
    from latentkit.cli.main import command

    root = command()
    lines = [
        "# Command line",
        "",
        "Generated from the typer app at build time: every command in the order `latentkit --help` lists "
        "them, with its arguments, options and examples (also at the end of `latentkit COMMAND --help`).",
        "",
    ]
    for name, cmd in root.commands.items():
        subs = getattr(cmd, "commands", None)
        for full, leaf in [(f"{name} {s}", c) for s, c in subs.items()] if subs else [(name, cmd)]:
            lines += command_section(full, leaf, EXAMPLES.get(full, []))
    return "\n".join(lines) + "\n"


def command_section(name: str, cmd, examples: list[str]) -> list[str]:
    arguments = [p for p in cmd.params if p.param_type_name == "argument"]
    usage = " ".join(
        ["latentkit", name, "[OPTIONS]", *(a.name.upper() + ("..." if a.nargs == -1 else "") for a in arguments)]
    )
    lines = [f"## {name}", "", " ".join((cmd.help or "").split()), "", "```", usage, "```", ""]
    if arguments:
        lines += ["| argument | help |", "| --- | --- |"]
        lines += [f"| `{a.name.upper()}` | {_cell(getattr(a, 'help', '') or '')} |" for a in arguments]
        lines.append("")
    options = [p for p in cmd.params if p.param_type_name == "option"]
    if options:
        lines += ["| option | default | help |", "| --- | --- | --- |"]
        for option in options:
            flags = " / ".join(f"`{f}`" for f in [*option.opts, *option.secondary_opts])
            empty = option.default is None or option.default is False or option.default in ((), [])
            default = "" if empty else f"`{option.default}`"
            lines.append(f"| {flags} | {default} | {_cell(option.help or '')} |")
        lines.append("")
    if examples:
        lines += ["Examples:", "", "```bash", *examples, "```", ""]
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# -- report.json's schema -----------------------------------------------------------------------


def report_schema_page() -> str:
    from latentkit.analysis.report import schema

    lines = [
        "# report.json",
        "",
        f"Written by `analyze` (RUN/analysis/report.json), format version **{schema.REPORT_FORMAT}**. This page "
        "is generated from `latentkit/analysis/report/schema.py`, the one module that defines the file: "
        "`write_report` checks what a job writes against it and `read_report` what a reader reads, so a "
        "renamed key fails in one line naming it. *optional* keys are written when their stage ran.",
        "",
    ]
    seen: list[type] = []
    for name in ("Report", "AttributesReport", "CompareReport", "PlaneReport"):
        _collect(getattr(schema, name), seen)
    for kind in seen:
        hints = typing.get_type_hints(kind)
        doc = " ".join((kind.__doc__ or "").split())
        lines += [f"## {kind.__name__}", "", doc, "", "| key | type | |", "| --- | --- | --- |"]
        comments = _comments(kind)
        for key, hint in hints.items():
            required = "" if key in kind.__required_keys__ else "*optional*"
            note = comments.get(key, "")
            lines.append(f"| `{key}` | `{_type_name(hint)}` | {required} {_cell(note)} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _collect(kind, seen: list) -> None:
    if kind in seen or not typing.is_typeddict(kind):
        return
    seen.append(kind)
    for hint in typing.get_type_hints(kind).values():
        for inner in _walk(hint):
            _collect(inner, seen)


def _walk(hint):
    yield hint
    for arg in typing.get_args(hint):
        yield from _walk(arg)


def _type_name(hint) -> str:
    if typing.is_typeddict(hint):
        return hint.__name__
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is None:
        return getattr(hint, "__name__", str(hint)).replace("NoneType", "null")
    if origin in (typing.Union, __import__("types").UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"


def _comments(kind) -> dict[str, str]:
    """Each key's trailing comment in the class's source, and in the sources of the TypedDicts it
    extends (``class Tsne(TsneSummary)``; a TypedDict keeps no record of its bases): the schema's own words."""
    import inspect

    found: dict[str, str] = {}
    source = inspect.getsource(kind)
    module = inspect.getmodule(kind)
    node = ast.parse(source).body[0]
    for base in node.bases if isinstance(node, ast.ClassDef) else []:
        parent = getattr(module, ast.unparse(base), None)
        if typing.is_typeddict(parent):
            found.update(_comments(parent))
    for line in source.splitlines():
        if ":" in line and "#" in line and not line.strip().startswith(("#", '"')):
            found[line.split(":")[0].strip()] = line.split("#", 1)[1].strip()
    return found


# -- exit statuses and the architecture ---------------------------------------------------------


def exit_statuses_page() -> str:
    source = (ROOT / "latentkit" / "core" / "errors.py").read_text(encoding="utf-8")
    lines = [
        "# Exit statuses",
        "",
        "Generated from `latentkit/core/errors.py`, where every status latentkit gives "
        "is defined once (a user error is one `latentkit:` line on stderr).",
        "",
        "| status | name | meaning |",
        "| --- | --- | --- |",
    ]
    for line in source.splitlines():
        if line.split("=")[0].strip().endswith("_EXIT") and "=" in line:
            name, rest = line.split("=", 1)
            value, _, meaning = rest.partition("#")
            lines.append(f"| {value.strip()} | `{name.strip()}` | {_cell(meaning)} |")
    return "\n".join([*lines, "", "0 means the job finished (or had nothing left to do).", ""])


def architecture_page() -> str:
    tree = ast.parse((ROOT / "tests" / "test_code_layout.py").read_text(encoding="utf-8"))
    assigned = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    table, parts = ast.literal_eval(assigned["MAY_IMPORT"]), ast.literal_eval(assigned["ANALYSIS_PARTS"])
    commands = sorted(ast.literal_eval(assigned["COMMANDS"]))
    rooms = sorted(table, key=lambda r: (len(_below(r, table)), r))
    lines = [
        "# Architecture",
        "",
        "The package is split into rooms; imports go one way, from the top down. This table is generated "
        "from `MAY_IMPORT` in `tests/test_code_layout.py`, the table the layout test holds the code to "
        "(every import read with `ast`, lazy ones too; no two rooms may import each other).",
        "",
        "| room | may import |",
        "| --- | --- |",
    ]
    for room in rooms:
        name = "the package root (`latentkit/__init__.py`)" if room == "" else f"`latentkit/{room}/`"
        targets = (
            ", ".join(f"`{t}`" if t else "the package root" for t in sorted(table[room])) or "nothing of latentkit"
        )
        lines.append(f"| {name} | {targets} |")
    lines += [
        "",
        "## The analysis room",
        "",
        "At its top one module per command ("
        + ", ".join(f"`{c}`" for c in commands)
        + "); below them the parts, each importing only the parts below it (`ANALYSIS_PARTS`); "
        "no command imports another: `jobs` chains them (a run analyzed in full, runs compared).",
        "",
        "| part | may import of the room |",
        "| --- | --- |",
        *(
            f"| `{part}` | {', '.join(f'`{t}`' for t in sorted(below)) or 'nothing of the room'} |"
            for part, below in sorted(parts.items(), key=lambda item: len(item[1]))
        ),
        "",
        "Three contracts hold the rooms together, each defined once: report.json "
        "([schema](reference/report-json.md)), the pipeline's steps (`latentkit/pipeline/steps.py`) and a "
        "run's model (`latentkit/model/runs.py`, `latentkit/model/codec.py`).",
        "",
    ]
    return "\n".join(lines)


def _below(room: str, table: dict) -> set:
    seen, stack = set(), [room]
    while stack:
        for target in table.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen
