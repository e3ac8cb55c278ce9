"""The documentation: the site builds with no broken link or missing page, the generated CLI
reference holds every command and option, the README's commands are the ones the tests and CI
run, and every example a user reads parses against the command it names."""

from __future__ import annotations

import re
import shlex
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


def test_the_site_builds_strict_with_every_page(tmp_path):
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    for page in (
        "index.html",
        "reference/cli/index.html",
        "reference/report-json/index.html",
        "architecture/index.html",
        "reference/exit-statuses/index.html",
        "gallery/index.html",
        "benchmarks/index.html",
    ):
        assert (site / page).exists(), page
    cli_page = (site / "reference" / "cli" / "index.html").read_text()
    assert "latentkit plane" in cli_page and "--hit-draws" in cli_page


def test_the_cli_reference_holds_every_command_and_option_in_the_clis_order():
    from latentkit.cli.main import ORDER, command

    page = _hooks().cli_reference()
    headings = re.findall(r"^## (.+)$", page, flags=re.M)
    assert [h.split()[0] for h in headings if h.split()[0] in ORDER] == [
        name for name in ORDER for _ in (getattr(command().commands[name], "commands", None) or [name])
    ]
    for name, cmd in command().commands.items():
        for leaf_name, leaf in (getattr(cmd, "commands", None) or {name: cmd}).items():
            full = name if leaf is cmd else f"{name} {leaf_name}"
            section = page.split(f"## {full}\n", 1)[1].split("\n## ", 1)[0]
            for param in leaf.params:
                if param.param_type_name == "option":
                    for flag in param.opts:
                        assert f"`{flag}`" in section, (full, flag)
                else:
                    assert f"`{param.name.upper()}`" in section, (full, param.name)


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
