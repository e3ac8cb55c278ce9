"""The code's form and contracts, checked by the pinned tools of the test extra: ruff lays out and
lints every Python file of the package, the tests, the benches and the docs' hooks."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["latentkit", "tests", "bench", "docs"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *CHECKED], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_every_python_file_is_laid_out_by_the_formatter():
    done = _ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, f"run `ruff format {' '.join(CHECKED)}`:\n{done.stdout}{done.stderr}"


def test_the_linter_finds_nothing():
    done = _ruff("check", "--no-cache", "--output-format", "concise")
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_formatter_skips_are_left_in_the_code():
    """The formatter is configured, not switched off line by line."""
    skips = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in CHECKED
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if any(f"fmt: {word}" in line for word in ("skip", "off"))
    ]
    assert skips == []


def test_the_type_checker_finds_nothing(tmp_path):
    """mypy over latentkit/ with pyproject's [tool.mypy]: a drifted report key or a None where a
    value is needed fails here, before anything runs."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_checks_see_a_badly_laid_out_and_a_lint_failing_file(tmp_path):
    """The two checks above fail on a file that breaks them (so a passing run means something)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx = {  'a':1 }\n")
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fmt.returncode == 1 and "bad.py" in fmt.stdout
    assert lint.returncode == 1 and "F401" in lint.stdout
