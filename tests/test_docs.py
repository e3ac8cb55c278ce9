"""The documentation: the site builds with no broken link or missing page, the generated CLI
reference holds every command and option with what ``--help`` says of it, report.json's page
describes every key, the notebook and the Python API have their pages, the search finds an
option as a user types it, the README's commands are the ones the tests and CI run, and every
example a user reads parses against the command it names."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _hooks():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.pop(0)
    return hooks


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S)


def _latentkit_lines(text: str) -> list[str]:
    lines = []
    for block in _code_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("latentkit ") and "[" not in line and "..." not in line:
                lines.append(line)
    return lines


def _parses(line: str) -> None:
    """The command line names a command and only options it has, each with a value of its type
    (nothing runs; a path that does not exist here, such as runs/ae1, is fine)."""
    from latentkit.cli.main import command

    words = shlex.split(line)[1:]
    if words[0].startswith("-"):  # latentkit --version, --help: an option of latentkit itself
        assert any(words[0] in p.opts for p in command().params) or words[0] in ("-h", "--help"), line
        return
    assert words[0] in command().commands, f"{line}: no command {words[0]!r}"
    cmd = command().commands[words[0]]
    args = words[1:]
    if hasattr(cmd, "commands"):  # prepare, slurm: a group
        cmd, args = cmd.commands[args[0]], args[1:]
    try:
        cmd.make_context(words[0], list(args))
    except Exception as error:  # click's (typer's own copy of click's) usage errors
        message = " ".join(str(getattr(error, "message", error)).split())
        if "does not exist" not in message:
            raise AssertionError(f"{line}: {type(error).__name__}: {message}") from None


def test_the_site_builds_strict_with_every_page(docs_site):
    for page in (
        "index.html",
        "reference/cli/index.html",
        "reference/report-json/index.html",
        "reference/api/index.html",
        "architecture/index.html",
        "reference/exit-statuses/index.html",
        "guides/colab-notebook/index.html",
        "guides/bootstrap.ipynb",
        "gallery/index.html",
        "benchmarks/index.html",
    ):
        assert (docs_site / page).exists(), page
    cli_page = (docs_site / "reference" / "cli" / "index.html").read_text()
    assert "latentkit plane" in cli_page and "--hit-draws" in cli_page
    import latentkit.notebook

    api = (docs_site / "reference" / "api" / "index.html").read_text()
    documented = re.findall(r"^::: (\S+)", (ROOT / "docs" / "reference" / "api.md").read_text(), flags=re.M)
    for name in documented:  # each object documented, from its docstring
        assert f'id="{name}"' in api, name
    for name in latentkit.notebook.__all__:  # what a notebook imports, all of it
        assert f"latentkit.notebook.{name}" in documented, name
    for job in ("model.train.train", "model.encode.encode", "analysis.jobs.analyze_run", "analysis.jobs.compare_runs"):
        assert f"latentkit.{job}" in documented, job


def _heading_name(heading: str) -> str:
    """A CLI page heading's command: ``[plane](../jobs/plane.md)`` is ``plane``."""
    return re.sub(r"\[(.+?)\]\(.+?\)", r"\1", heading)


def _cli_sections(page: str) -> dict[str, str]:
    """The CLI page's section of each command, by its name."""
    parts = re.split(r"^## (.+)$", page, flags=re.M)
    return {_heading_name(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}


def _leaves():
    """(name as the page heads it, the click command) of every command, groups' commands too."""
    from latentkit.cli.main import command

    for name, cmd in command().commands.items():
        for leaf_name, leaf in (getattr(cmd, "commands", None) or {name: cmd}).items():
            yield (name if leaf is cmd else f"{name} {leaf_name}"), leaf


def _table_rows(section: str) -> dict[str, list[str]]:
    """A section's table rows by their first cell's first code span (a flag, an argument)."""
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and cells[0].startswith("`"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells
    return rows


def test_the_cli_reference_holds_every_command_and_option_in_the_clis_order():
    from latentkit.cli.main import ORDER, command

    page = _hooks().cli_reference()
    headings = [_heading_name(h) for h in re.findall(r"^## (.+)$", page, flags=re.M)]
    assert [h.split()[0] for h in headings if h.split()[0] in ORDER] == [
        name for name in ORDER for _ in (getattr(command().commands[name], "commands", None) or [name])
    ]
    sections = _cli_sections(page)
    for full, leaf in _leaves():
        for param in leaf.params:
            if param.param_type_name == "option":
                for flag in param.opts:
                    assert f"`{flag}`" in sections[full], (full, flag)
            else:
                assert f"`{param.name.upper()}`" in sections[full], (full, param.name)


def test_the_cli_reference_says_what_help_says_of_every_option():
    """The type, required and default columns come from the app: each option's value name is
    the one --help prints, its required mark is the param's own, and a range is shown."""
    sections = _cli_sections(_hooks().cli_reference())
    for full, leaf in _leaves():
        ctx = leaf.context_class(leaf, info_name=full)
        rows = _table_rows(sections[full])
        for param in leaf.params:
            if param.hidden:
                continue
            key = param.opts[0] if param.param_type_name == "option" else param.name.upper()
            header = "| option |" if param.param_type_name == "option" else "| argument |"
            kind, required = rows[key][1], rows[key][2]
            assert header in sections[full], (full, key)
            assert (required == "**required**") == bool(param.required), (full, key, required)
            names, printed = param.get_help_record(ctx)
            if param.param_type_name == "option" and not param.is_flag:
                assert kind.startswith(f"`{names.split()[-1]}`"), (full, key, kind, names)
            elif param.param_type_name == "option":
                assert kind == "flag", (full, key, kind)
            if param.param_type_name == "option" and "  [default: " in printed:
                assert rows[key][3], (full, key, "--help shows a default the page lacks")
    rows = {full: _table_rows(sections[full]) for full in ("train", "plane", "lattice", "analyze", "export")}
    assert rows["train"]["--data"][2] == "**required**" and rows["train"]["--epochs"][2] == ""
    assert rows["export"]["--format"][2] == "**required**"
    assert rows["plane"]["--max-points"][1:4] == ["`N` (int, `x>=100`)", "", "`200000`"]
    assert rows["lattice"]["--n"][1] == "`N` (int, `2<=x<=40`)"
    assert rows["analyze"]["--lr" if "--lr" in rows["analyze"] else "--radius-bin"][1] == "`X` (float, `x>=0`)"
    assert rows["analyze"]["--tsne"][1:4] == ["flag", "", "`tsne`"]
    assert rows["analyze"]["--generated"][1] == "`PATH` (repeatable)"
    assert rows["analyze"]["--run"][1] == "`PATH`"


def test_each_command_heading_links_to_its_job_page():
    page = _hooks().cli_reference()
    links = dict(re.findall(r"^## \[(.+?)\]\(\.\./(.+?)\)$", page, flags=re.M))
    for name, target in links.items():
        assert (ROOT / "docs" / target).exists(), (name, target)
    for name in ("train", "encode", "analyze", "plane", "lattice", "flow", "report", "export", "attributes", "compare"):
        assert links[name] == f"jobs/{name}.md", name
    assert links["generate"] == links["reconstruct"] == links["interpolate"] == "jobs/generate.md"
    assert "env" not in links and "## env\n" in page  # no job page: a plain heading


def test_the_generated_pages_code_fits_the_page():
    """Every code line of the generated pages is at most CODE_WIDTH wide; a wrapped example is the
    example (its lines joined), a wrapped usage line the usage line."""
    hooks = _hooks()
    for name, page in (("cli", hooks.cli_reference()), ("notebook", hooks.notebook_page(None))):
        for block in re.findall(r"```\w*\n(.*?)```", page, flags=re.S):
            for line in block.splitlines():
                assert len(line) <= hooks.CODE_WIDTH, (name, line)
    line = (
        "latentkit analyze --run runs/ae1 --pc-pairs 0:1,0:2,2:5 --trim 1.25,1.5,1.8 --hit-draws 100000 "
        "--uniform-b 0.5,1,2,8 --kmeans-k 2-30,40,60,80"
    )
    wrapped = hooks.wrap_shell(line)
    assert len(wrapped) > 1 and all(len(w) <= hooks.CODE_WIDTH for w in wrapped)
    assert " ".join(w.removesuffix(" \\").strip() for w in wrapped) == line
    assert hooks.wrap_shell("latentkit env") == ["latentkit env"]
    words = ["latentkit", "import-model", "[OPTIONS]", *["MODEL..."] * 12]
    assert " ".join(" ".join(hooks.wrap_words(words, 30)).split()) == " ".join(words)


def test_the_check_width_is_the_guard_tests():
    """The width the pages are wrapped to is the one the rendered-site guard holds them to."""
    guard = ROOT / "tests" / "test_docs_render.py"
    if not guard.exists():
        pytest.skip("no rendered-site guard")
    values = [
        node.value.value
        for node in ast.parse(guard.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CODE_WIDTH"
    ]
    assert values == [_hooks().CODE_WIDTH]


def test_wrapping_python_keeps_the_program():
    hooks = _hooks()
    source = "\n".join(
        [
            "x = 1  # " + "a comment that runs well past the width of the page and on " * 2,
            'print(f"a {x} string that is far too long for one line of the page, and more words", x)',
            "from latentkit.notebook import preset_size, show_results, show_training, start  # noqa: E402",
            "result = call(first_argument=1, second_argument=2, third_argument=3, fourth_argument=4)",
            "# a full-line comment " + "that goes on and on " * 5,
            "# and its second line",
        ]
    )
    wrapped = hooks.wrap_python(source, 60)
    assert ast.dump(ast.parse(wrapped)) == ast.dump(ast.parse(source))
    assert all(len(line) <= 60 for line in wrapped.splitlines()), wrapped
    assert "(  # noqa: E402" in wrapped  # a pragma stays on its statement's first line
    assert hooks.wrap_python("!pip install latentkit", 10) == "!pip install latentkit"  # IPython's: as it is


def test_the_notebook_page_shows_every_cell_with_a_colab_badge():
    import nbformat

    hooks = _hooks()
    notebook = nbformat.read(ROOT / "colab" / "bootstrap.ipynb", as_version=4)
    page = hooks.notebook_page(None)
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    assert len(blocks) == len(code)
    for block, source in zip(blocks, code):
        assert ast.dump(ast.parse(block)) == ast.dump(ast.parse(source))  # wrapped, the same program
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                assert line.lstrip("#") in page, line
    assert "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](bootstrap.ipynb)" in page
    repository = hooks.notebook_page("https://github.com/someone/latentkit")
    assert "(https://colab.research.google.com/github/someone/latentkit/blob/main/colab/bootstrap.ipynb)" in repository
    assert hooks.repository_url({"repo_url": "https://github.com/someone/latentkit.git"}) == (
        "https://github.com/someone/latentkit"
    )


def test_every_report_json_key_is_described():
    """Every key of every TypedDict the report.json page lists (the same walk as the page's) has
    a description in the schema's modules, and the page shows it."""
    hooks = _hooks()
    page = hooks.report_schema_page()
    missing, count = [], 0
    for kind in hooks.schema_kinds():
        for key, _hint, _required, description in hooks.schema_rows(kind):
            count += 1
            if not description.strip():
                missing.append(f"{kind.__name__}.{key}")
    assert not missing, f"{len(missing)} of {count} keys have no description: {', '.join(missing)}"
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == count
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)  # a cell's own | is escaped
        assert len(cells) == 5 and cells[3].replace("*optional*", "").strip(), row


def _tokens(text: str, separator: str) -> list[str]:
    """Text split as the site's search splits it (lunr with Material's tokenizer), lower-cased."""
    return [t.lower() for t in re.split(separator, text) if t]


def test_the_search_finds_an_option_as_typed(docs_site):
    """``--hit-draws`` typed into the search finds the CLI reference's analyze section. lunr reads
    a leading "-" as "must not contain", so the site's script drops an option's leading dashes
    from the query; the rest, ``hit-draws``, is split by the search's separator into ``hit`` and
    ``draws`` (each matched as a prefix), the tokens the index holds for the option's text."""
    hooks = _hooks()
    index = json.loads((docs_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    separator = index["config"]["separator"]
    assert "separator:" in (ROOT / "mkdocs.yml").read_text() and separator != "[\\s\\-]+"
    query = re.sub(hooks.LEADING_DASHES, r"\1", "--hit-draws")
    assert query == "hit-draws"
    terms = _tokens(query, separator)
    analyze = next(doc for doc in index["docs"] if doc["location"] == "reference/cli/#analyze")
    held = _tokens(re.sub(r"<[^>]+>", " ", analyze["text"]), separator)
    for term in terms:
        assert any(token.startswith(term) for token in held), term
    assert any(token.startswith("report") for token in _tokens("RUN/analysis/report.json", separator))
    script = (docs_site / hooks.SEARCH_SCRIPT).read_text(encoding="utf-8")
    assert hooks.LEADING_DASHES in script
    assert hooks.SEARCH_SCRIPT in (docs_site / "reference" / "cli" / "index.html").read_text()


SEARCH = r"""
// The site's own search, as a browser runs it: Material's search worker on the built index, and
// the site's script patching the page's Worker.postMessage; prints what each query finds.
const fs = require("fs"), vm = require("vm");
const [site, ...queries] = process.argv.slice(2);
const index = JSON.parse(fs.readFileSync(site + "/search/search_index.json", "utf8"));
const dir = site + "/assets/javascripts/workers/";
const file = fs.readdirSync(dir).find(f => /^search\..*\.js$/.test(f));
let handler, replies = [];
const worker = { console: { warn() {}, log() {} }, addEventListener: (t, f) => { handler = f; },
                 postMessage: m => replies.push(m) };
worker.self = worker;
vm.createContext(worker);
vm.runInContext(fs.readFileSync(dir + file, "utf8"), worker);
const page = { console };
page.Worker = class { postMessage(message) { page.sent = handler({ data: message }); } };
vm.createContext(page);
vm.runInContext(fs.readFileSync(site + "/" + process.env.SCRIPT, "utf8"), page);
(async () => {
  await handler({ data: { type: 0, data: { config: index.config, docs: index.docs, options: {} } } });
  const found = {};
  for (const query of queries) {
    replies = [];
    new page.Worker().postMessage({ type: 2, data: query });
    await page.sent;
    found[query] = replies[0].data.items.flat().map(item => item.location);
  }
  console.log(JSON.stringify(found));
})();
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no Node.js to run the site's search")
def test_the_sites_own_search_finds_an_option_as_typed(docs_site, tmp_path):
    """Material's search worker, run with Node on the built index behind the site's script,
    finds ``--hit-draws`` and ``--max-points`` as typed, and ``report.json`` by its parts."""
    hooks = _hooks()
    script = tmp_path / "search.js"
    script.write_text(SEARCH, encoding="utf-8")
    ran = subprocess.run(
        [str(shutil.which("node")), str(script), str(docs_site), "--hit-draws", "--max-points", "pc_fits"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SCRIPT": hooks.SEARCH_SCRIPT},
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    found = json.loads(ran.stdout)
    assert "reference/cli/#analyze" in found["--hit-draws"]
    assert "reference/cli/#plane" in found["--max-points"]
    assert any(location.startswith("reference/report-json/") for location in found["pc_fits"])


def test_every_example_and_every_command_of_the_readme_and_the_docs_parses():
    from latentkit.cli.examples import EXAMPLES

    examples = [line for lines in EXAMPLES.values() for line in lines]
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    found = [line for page in pages for line in _latentkit_lines(page.read_text(encoding="utf-8"))]
    assert len(examples) > 40 and len(found) > 20
    for line in examples + found:
        _parses(line)
    with pytest.raises(AssertionError, match="no-such-option"):
        _parses("latentkit analyze --run runs/ae1 --no-such-option 3")


def test_the_readme_is_short_and_its_two_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    commands = [line for block in _code_blocks(readme) for line in block.splitlines() if "python3 -m venv" in line]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()[-1]
    assert commands[1] == ci  # the test command, exactly as CI runs it
    assert commands[0] == "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && latentkit demo"
    assert "mkdocs serve" in readme
    for link in re.findall(r"\]\(([^)#]+)\)", readme):  # every file the README links to exists
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link


def test_the_generated_reference_pages_come_from_the_code():
    hooks = _hooks()
    schema = hooks.report_schema_page()
    assert "## Report" in schema and "`pca`" in schema and "## EllipseShares" in schema
    statuses = hooks.exit_statuses_page()
    for status in ("| 2 |", "| 65 |", "| 71 |", "| 73 |", "| 74 |", "| 75 |", "| 130 |"):
        assert status in statuses
    architecture = hooks.architecture_page()
    assert "`latentkit/pipeline/`" in architecture and "`latentkit/machine/` | `core` |" in architecture
