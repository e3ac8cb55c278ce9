"""MkDocs hooks: the pages generated from the code at build time, so they cannot drift from it.

- ``reference/cli.md``: every command, argument and option of the typer app, in the CLI's own
  order (``latentkit.cli.main.command``), with its help and the examples ``--help`` shows;
- ``reference/report-json.md``: report.json's schema, from the TypedDicts that define it
  (``latentkit.analysis.report.schema`` and its section modules);
- ``reference/exit-statuses.md``: from the constants of ``latentkit.core.errors``;
- ``architecture.md``: the rooms and what each may import, from the layout test's own table;
- ``guides/colab-notebook.md``: colab/bootstrap.ipynb rendered, its cells as text and code, with the
  notebook itself beside it (``guides/bootstrap.ipynb``) and an Open-in-Colab badge;
- ``benchmarks.md`` and ``reliability.md``: the repository's BENCHMARKS.md and RELIABILITY.md;
- ``assets/search-flags.js``: the search's query with an option's leading dashes dropped.

Nothing is written into docs/: the pages are added to the build as generated files. Every line
of code they show is at most ``CODE_WIDTH`` characters (wrapped, never cut).
"""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
CODE_WIDTH = 80  # the widest code line the page shows (tests/test_docs_render.py measured it)
NOTEBOOK = ROOT / "colab" / "bootstrap.ipynb"


def on_files(files, config):
    pages = {
        "reference/cli.md": cli_reference(),
        "reference/report-json.md": report_schema_page(),
        "reference/exit-statuses.md": exit_statuses_page(),
        "architecture.md": architecture_page(),
        "guides/colab-notebook.md": notebook_page(repository_url(config)),
        "guides/bootstrap.ipynb": NOTEBOOK.read_text(encoding="utf-8"),
        "benchmarks.md": (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8"),
        "reliability.md": (ROOT / "RELIABILITY.md").read_text(encoding="utf-8"),
        SEARCH_SCRIPT: search_script(),
    }
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files


# -- the CLI reference --------------------------------------------------------------------------

JOB_PAGES = {"reconstruct": "generate", "interpolate": "generate"}  # commands sharing a job's page
RANGE = re.compile(r"(?:[-+\d.e]+<=?)?x(?:[<>]=?[-+\d.e]+)?")  # click's range: x>=1, 2<=x<=40, x<1
NAMED = {"str": "TEXT", "path": "PATH"}  # the types whose metavar already names them


def cli_reference() -> str:
    from latentkit.cli.examples import EXAMPLES
    from latentkit.cli.main import command

    root = command()
    lines = [
        "# Command line",
        "",
        "Generated from the typer app at build time: every command in the order `latentkit --help` lists "
        "them, with its arguments, options and examples (also at the end of `latentkit COMMAND --help`). "
        "Each column is what `--help` prints: the value's name and type (with its range), whether the "
        "option is required, and its default. A command's name links to its job's page.",
        "",
    ]
    for name, cmd in root.commands.items():
        subs = getattr(cmd, "commands", None)
        for full, leaf in [(f"{name} {s}", c) for s, c in subs.items()] if subs else [(name, cmd)]:
            lines += command_section(full, leaf, EXAMPLES.get(full, []))
    return "\n".join(lines) + "\n"


def job_page(name: str) -> str | None:
    """The job's page (docs/jobs/NAME.md) a command's heading links to, where there is one."""
    page = JOB_PAGES.get(name, name)
    return f"jobs/{page}.md" if (ROOT / "docs" / "jobs" / f"{page}.md").exists() else None


def command_section(name: str, cmd, examples: list[str]) -> list[str]:
    ctx = cmd.context_class(cmd, info_name=f"latentkit {name}")
    arguments = [p for p in cmd.params if p.param_type_name == "argument"]
    usage = ["latentkit", name, "[OPTIONS]", *(a.name.upper() + ("..." if a.nargs == -1 else "") for a in arguments)]
    page = job_page(name)
    heading = f"[{name}](../{page})" if page else name
    lines = [f"## {heading}", "", " ".join((cmd.help or "").split()), "", "```", *wrap_words(usage), "```", ""]
    if arguments:
        lines += ["| argument | type | required | help |", "| --- | --- | --- | --- |"]
        for argument in arguments:
            row = param_row(argument, ctx)
            lines.append(f"| `{argument.name.upper()}` | {row['type']} | {row['required']} | {row['help']} |")
        lines.append("")
    options = [p for p in cmd.params if p.param_type_name == "option" and not p.hidden]
    if options:
        lines += ["| option | type | required | default | help |", "| --- | --- | --- | --- | --- |"]
        for option in options:
            row = param_row(option, ctx)
            flags = " / ".join(f"`{f}`" for f in [*option.opts, *option.secondary_opts])
            lines.append(f"| {flags} | {row['type']} | {row['required']} | {row['default']} | {row['help']} |")
        lines.append("")
    if examples:
        lines += [
            "Examples:",
            "",
            "```bash",
            *(wrapped for line in examples for wrapped in wrap_shell(line)),
            "```",
            "",
        ]
    return lines


def param_row(param, ctx) -> dict[str, str]:
    """One argument's or option's cells, from what ``--help`` prints of it (``get_help_record``:
    the name with the value's name, then the help with ``[default: ...; x>=1; required]``) and the
    type typer gives it (``display_type``: ``<int range>``, ``<path>``, ``<list[Path]>``)."""
    _, printed = param.get_help_record(ctx)
    text = param.help or ""
    extras = printed[len(text) :].strip() if printed.startswith(text) else ""
    pieces = extras[1:-1].split("; ") if extras.startswith("[") and extras.endswith("]") else []
    shown_range = next((p for p in pieces if RANGE.fullmatch(p)), "")
    rest = [p for p in pieces if p not in ("required", shown_range) and not p.startswith("env var: ")]
    default = "; ".join(rest).removeprefix("default: ")
    kind = param.display_type(ctx).strip("<>").removesuffix(" range")
    if getattr(param, "is_flag", False):
        shown = "flag"
    else:
        details = []
        if getattr(param, "multiple", False):
            kind, details = kind.removeprefix("list[").removesuffix("]"), ["repeatable"]
        if param.param_type_name == "argument":
            value = f"`{kind}`"
        else:
            value = f"`{param.display_type_rich(ctx)}`"
            if NAMED.get(kind.lower()) != param.display_type_rich(ctx):
                details.insert(0, kind)
        details += [f"`{shown_range}`"] if shown_range else []
        shown = value + (f" ({', '.join(details)})" if details else "")
    return {
        "type": shown,
        "required": "**required**" if param.required else "",
        "default": f"`{_cell(default)}`" if default else "",
        "help": _cell(text),
    }


def wrap_words(words: list[str], width: int = CODE_WIDTH, indent: str = "    ") -> list[str]:
    """A synopsis (``latentkit plane [OPTIONS] SRC``) in lines of at most ``width``, as click
    wraps its usage line: the words that do not fit go on indented lines."""
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(indent + word)
    return lines


def wrap_shell(line: str, width: int = CODE_WIDTH) -> list[str]:
    """A shell command in lines of at most ``width``, each line but the last ended by `` \\``: it
    breaks before an option, so every option stays on one line with its value."""
    if len(line) <= width:
        return [line]
    words = re.findall(r"""(?:[^\s"']+|"[^"]*"|'[^']*')+""", line)
    groups: list[list[str]] = []
    for word in words:
        if word.startswith("-") or not groups:
            groups.append([word])
        else:
            groups[-1].append(word)
    lines = [" ".join(groups[0])]
    for group in groups[1:]:
        text = " ".join(group)
        if len(lines[-1]) + 1 + len(text) + 2 <= width:
            lines[-1] += " " + text
        else:
            lines.append("  " + text)
    return [f"{text} \\" for text in lines[:-1]] + lines[-1:]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# -- report.json's schema -----------------------------------------------------------------------

SCHEMA_ROOTS = ("Report", "AttributesReport", "CompareReport", "PlaneReport")


def report_schema_page() -> str:
    from latentkit.analysis.report import schema

    lines = [
        "# report.json",
        "",
        f"Written by `analyze` (RUN/analysis/report.json), format version **{schema.REPORT_FORMAT}**. This page "
        "is generated from `latentkit/analysis/report/schema.py` and the modules of the sections it imports "
        "(`cloud_schema.py`, `quality_schema.py`, `peer_schema.py`), the one place that defines the file: "
        "`write_report` checks what a job writes against it and `read_report` what a reader reads, so a "
        "renamed key fails in one line naming it. *optional* keys are written when their stage ran. "
        "Lengths and distances are in the latent space's own units unless a row says otherwise; "
        "indices count from 0.",
        "",
    ]
    for kind in schema_kinds():
        doc = " ".join((kind.__doc__ or "").split())
        lines += [f"## {kind.__name__}", "", doc, "", "| key | type | |", "| --- | --- | --- |"]
        for key, hint, required, note in schema_rows(kind):
            lines.append(f"| `{key}` | `{_type_name(hint)}` | {'' if required else '*optional*'} {_cell(note)} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def schema_kinds() -> list[type]:
    """Every TypedDict of the files' schema, in the page's order: each file's, then those it holds."""
    from latentkit.analysis.report import schema

    seen: list[type] = []
    for name in SCHEMA_ROOTS:
        _collect(getattr(schema, name), seen)
    return seen


def schema_rows(kind) -> list[tuple[str, typing.Any, bool, str]]:
    """(key, type, required, description) of each key of ``kind``, as the page lists them."""
    comments = _comments(kind)
    return [
        (key, hint, key in kind.__required_keys__, comments.get(key, ""))
        for key, hint in typing.get_type_hints(kind).items()
    ]


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
    """Each key's description in the class's source, and in the sources of the TypedDicts it
    extends (``class Tsne(TsneSummary)``; a TypedDict keeps no record of its bases): the comment
    lines directly over the key, then the comment at the end of its line, joined. A short
    description sits at the end of the key's line, a long one in the lines over it."""
    import inspect
    import io
    import tokenize

    found: dict[str, str] = {}
    source = inspect.getsource(kind)
    module = inspect.getmodule(kind)
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ClassDef), kind
    for base in node.bases:
        parent = getattr(module, ast.unparse(base), None)
        if typing.is_typeddict(parent):
            found.update(_comments(parent))
    lines = source.splitlines()
    comments = {  # line number -> (a comment alone on its line, its text)
        token.start[0]: (not lines[token.start[0] - 1][: token.start[1]].strip(), token.string[1:].strip())
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            over, line = [], item.lineno - 1
            while line in comments and comments[line][0]:
                over.insert(0, comments[line][1])
                line -= 1
            ends = [comments[n][1] for n in range(item.lineno, item.end_lineno + 1) if n in comments]
            found[item.target.id] = " ".join(over + ends)
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
        + "); under them the parts, each importing only the parts that rank lower (`ANALYSIS_PARTS`); "
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


# -- the Colab notebook -------------------------------------------------------------------------


def repository_url(config=None) -> str | None:
    """The project's GitHub repository: mkdocs.yml's ``repo_url``, else a URL of pyproject.toml's
    ``[project.urls]``; None while neither names one."""
    import tomllib

    urls = [(config or {}).get("repo_url") or ""]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    urls += list(project.get("urls", {}).values())
    found = [u for u in urls if re.match(r"https://github\.com/[^/]+/[^/]+", u or "")]
    return found[0].removesuffix("/").removesuffix(".git") if found else None


def notebook_page(repository: str | None = None) -> str:
    """colab/bootstrap.ipynb as a page: its text cells as text (their headings a level down, under
    the page's own), its code cells as code blocks whose lines are wrapped at ``CODE_WIDTH``."""
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    path = NOTEBOOK.relative_to(ROOT).as_posix()
    if repository:
        owner_name = repository.removeprefix("https://github.com/")
        target = f"https://colab.research.google.com/github/{owner_name}/blob/main/{path}"
        how = "The badge opens it in Colab, from the repository's main branch."
    else:  # Colab opens a notebook from GitHub by its address: without one, the file itself
        target = "bootstrap.ipynb"
        how = (
            "The badge links to the notebook file itself ([bootstrap.ipynb](bootstrap.ipynb)): save it "
            "and open it in Colab with *File → Upload notebook* (the project names no public "
            "repository yet that Colab could open it from)."
        )
    lines = [
        "# The Colab notebook",
        "",
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({target})",
        "",
        f"`{path}` as it is in the repository, generated from it at build time: its text cells as "
        f"text, its code cells as code. {how} [Colab](colab.md) says what each step does and why.",
        "",
    ]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            lines += [*_demoted(cell.source), ""]
        elif cell.cell_type == "code" and cell.source.strip():
            lines += ["```python", *wrap_python(cell.source).splitlines(), "```", ""]
    return "\n".join(lines)


def _demoted(markdown: str) -> list[str]:
    """A text cell's lines with every heading a level down (``#`` to ``##``), fences left alone."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        out.append("#" + line if not fenced and re.match(r"#{1,5} ", line) else line)
    return out


def wrap_python(source: str, width: int = CODE_WIDTH) -> str:
    """Python code whose lines are at most ``width`` long, the same program: a comment is wrapped
    (at its column, or on lines of its own over the code where its column leaves too little room);
    a line of code breaks inside its brackets (after a comma, or at an opening bracket, or by a
    string cut in two at a space: adjacent strings are one string), the outermost first. A change
    is kept only if the code parses to the same tree; a line nothing shortens is left as it is."""
    try:
        same = ast.dump(ast.parse(source))
    except SyntaxError:  # a cell with IPython's own syntax (!pip, %time): shown as it is
        return source
    stuck: set[str] = set()
    for _ in range(1000):
        lines = source.split("\n")
        long = [i for i, line in enumerate(lines) if len(line) > width and line not in stuck]
        if not long:
            break
        for candidate in _shorter(source, long[0], width):
            try:
                if ast.dump(ast.parse(candidate)) == same:
                    source = candidate
                    break
            except SyntaxError:
                continue
        else:
            stuck.add(lines[long[0]])
    return source


PRAGMA = re.compile(r"#\s*(noqa|type:|fmt:|pragma|pylint:)")
UGLY_BEFORE = {",", ")", "]", "}", ":", "=", ".", "(", "["}  # no break right before these
UGLY_AFTER = {".", "=", "**", "*", "@", "lambda", "not", "await"}  # nor right after these


def _shorter(source: str, row: int, width: int) -> list[str]:
    """Ways to shorten line ``row`` (0-based) of ``source``, the best first."""
    import io
    import tokenize

    lines = source.split("\n")
    line = lines[row]
    indent = line[: len(line) - len(line.lstrip())]
    opened: list[tuple[int, int]] = []  # the open brackets' (row, column)
    mine = []  # this line's tokens, each with the brackets open before it
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.start[0] - 1 == row:
                mine.append((token, list(opened)))
            if token.type == tokenize.OP and token.string in "([{":
                opened.append((token.start[0] - 1, token.start[1]))
            elif token.type == tokenize.OP and token.string in ")]}":
                opened.pop()
    except (tokenize.TokenError, IndentationError):
        return []
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    code = [(t, o) for t, o in mine if t.type not in skip]
    comment = next((t for t, _ in mine if t.type == tokenize.COMMENT), None)
    found: list[tuple[tuple, str]] = []

    def replace(first: int, last: int, new: list[str]) -> str:
        return "\n".join(lines[:first] + new + lines[last + 1 :])

    if comment is not None and not PRAGMA.match(comment.string):
        column, words = comment.start[1], comment.string[1:].split()
        last = row  # the comment lines after it at its column: one paragraph
        while (
            last + 1 < len(lines)
            and lines[last + 1].startswith(" " * column + "#")
            and not lines[last + 1][:column].strip()
        ):
            last += 1
            words += lines[last].strip()[1:].split()
        first = row
        while (
            not code
            and first > 0
            and lines[first - 1].startswith(" " * column + "#")
            and not lines[first - 1][:column].strip()
        ):
            first -= 1
            words = lines[first].strip()[1:].split() + words
        code_text = line[:column].rstrip()
        if width - column - 2 >= 20 or not code:
            text = _wrap_text(words, width - column - 2)
            head = (line[:column] if code else " " * column) + "# " + text[0]
            found.append(((0,), replace(first, last, [head, *(" " * column + "# " + t for t in text[1:])])))
        else:  # too far right: the comment goes on lines of its own over the code
            text = _wrap_text(words, width - len(indent) - 2)
            apart = [""] if row and lines[row - 1].lstrip().startswith("#") else []  # not the comment over it
            found.append(((0,), replace(first, last, [*apart, *(indent + "# " + t for t in text), code_text])))
    statement = re.fullmatch(r"(\s*from\s+\S+\s+import\s+)([^()#]+?)(\s*#.*)?", line)
    if statement and len(code) > 1 and code[0][0].string == "from" and not code[0][1]:
        names = statement.group(2).strip()
        head = statement.group(1) + "(" + (statement.group(3) or "")
        found.append(((1, 0, 0, 0), replace(row, row, [head, indent + "    " + names + ")"])))
    for i, (token, before) in enumerate(code[1:], 1):
        previous = code[i - 1][0]
        if not before or token.string in UGLY_BEFORE or previous.string in UGLY_AFTER:
            continue
        column = token.start[1]
        head = line[:column].rstrip()
        bracket_row, bracket_column = before[-1]
        if previous.string in ("(", "[", "{"):
            kind, hang = 2, indent + "    "
        else:
            kind = 0 if previous.string == "," else 3
            hang = " " * (bracket_column + 1) if bracket_row == row else indent
        tail = hang + line[column:]
        if len(head) <= width and len(tail) < len(line):
            found.append(((int(len(tail) > width), len(before), kind, -column), replace(row, row, [head, tail])))
    for token, before in code:  # a string cut in two at a space before the width
        match = re.match(r"([a-zA-Z]*)(['\"])", token.string)
        if token.type != tokenize.STRING or not before or not match or token.start[1] + 12 > width:
            continue
        prefix, quote = match.groups()
        if token.string.startswith(prefix + quote * 3) or "b" in prefix.lower():
            continue
        body = token.string[len(prefix) + 1 : -1]
        start = token.start[1] + len(prefix) + 1
        cuts = [j for j in range(1, len(body)) if body[j - 1] == " " and _cuttable(body, j, "f" in prefix.lower())]
        cuts = [j for j in cuts if start + j + 1 <= width]
        if not cuts:
            continue
        left, right = body[: cuts[-1]], body[cuts[-1] :]
        hang = " " * token.start[1] if token.start[1] + 30 < width else indent + "    "
        head = line[: token.start[1]] + _literal(prefix, quote, left)
        tail = hang + _literal(prefix, quote, right) + line[token.end[1] :]
        if len(tail) < len(line):
            found.append(((int(len(tail) > width), len(before), 1, -token.start[1]), replace(row, row, [head, tail])))
    return [new for _, new in sorted(found, key=lambda item: item[0])]


def _wrap_text(words: list[str], width: int) -> list[str]:
    lines = [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def _literal(prefix: str, quote: str, text: str) -> str:
    """A string literal of ``text``: an f-string only where it holds a replacement field."""
    if "{" not in text.replace("{{", "").replace("}}", ""):
        if "f" in prefix.lower():
            text = text.replace("{{", "{").replace("}}", "}")
        prefix = prefix.replace("f", "").replace("F", "")
    return f"{prefix}{quote}{text}{quote}"


def _cuttable(body: str, at: int, formatted: bool) -> bool:
    """Whether a string's text may be cut before ``body[at]``: not after a backslash, nor inside
    an f-string's replacement field."""
    if at >= 2 and body[at - 2] == "\\":
        return False
    depth, i = 0, 0
    while formatted and i < at:
        if depth == 0 and body.startswith(("{{", "}}"), i):
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(body[i], 0)
        i += 1
    return depth == 0


# -- the search ---------------------------------------------------------------------------------

SEARCH_SCRIPT = "assets/search-flags.js"
LEADING_DASHES = r"(^|\s)-+(?=[A-Za-z])"  # an option's dashes at the start of a search word


def search_script() -> str:
    """The site's search reads a word's leading ``-`` as lunr's "must not contain", so ``--hit-draws``
    typed as the command line spells it found nothing, whatever the search's ``separator``: the
    query leaves the page with an option's leading dashes dropped (``--hit-draws`` searches for
    ``hit-draws``, which the index holds as ``hit`` and ``draws``). Material hands the query to its
    search worker as ``{type: 2, data: query}`` (its ``SearchMessageType.QUERY``)."""
    return f"""// Generated by docs/hooks.py: search for `--hit-draws` as you type it (lunr reads a leading
// "-" as "must not contain", and the query failed): an option's leading dashes are dropped.
(function () {{
  function latentkitQuery(query) {{
    return query.replace(/{LEADING_DASHES}/g, "$1");
  }}
  globalThis.latentkitQuery = latentkitQuery;
  if (typeof Worker === "undefined") return;
  var post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message) {{
    if (message && message.type === 2 && typeof message.data === "string") {{
      message = {{ type: message.type, data: latentkitQuery(message.data) }};
    }}
    return post.apply(this, [message].concat([].slice.call(arguments, 1)));
  }};
}})();
"""
