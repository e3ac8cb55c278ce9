"""What a newcomer meets first (issue 48): the licence and how the package names it, the citation
file, the changelog, the README's first screen, the demo's time said one way everywhere, and a
troubleshooting page for every exit status. Reads files only: no build, no Keras."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# SHA-256 of the Apache License 2.0 as the ASF publishes it (www.apache.org/licenses/LICENSE-2.0.txt,
# MD5 3b83ef96387f14655fc854ddc3c6bd57): LICENSE must be that text, unmodified.
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

# The demo's time, said the same way wherever it is said (BENCHMARKS.md measured 429.3 s).
DEMO_TIME = "about 7 minutes"
DEMO_TIME_PLACES = ("README.md", "docs/guides/findings.md", "latentkit/cli/demo.py", "jobs/demo.toml")
# How it was said before: none of these may come back beside the one figure.
OLD_DEMO_TIMES = ("5–7 minutes", "5-6½", "6½ minutes", "under five", "six minutes", "~6 min", "5 minutes")

STUDIES = (
    "Autoencoders and latent space fragmentation – I – Encoder, Decoder, latent space",
    "Autoencoders and latent space fragmentation – II – number distributions of latent vector components",
    "Autoencoders and latent space fragmentation – IX – PCA transformation of the z-point distribution for CelebA",
    "Variational Autoencoder with Tensorflow 2.8 – XIII – Does a VAE with tiny KL-loss behave like an AE? "
    "And if so, why?",
)


def _text(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def _version() -> str:
    """The package's version as pyproject takes it (``version = {attr = "latentkit.__version__"}``)."""
    pyproject = tomllib.loads(_text("pyproject.toml"))
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "latentkit.__version__"}
    return re.search(r'^__version__ = "([^"]+)"', _text("latentkit/__init__.py"), flags=re.M).group(1)


def test_the_licence_is_the_apache_2_text_and_pyproject_names_it():
    licence = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(licence).hexdigest() == APACHE_2_SHA256, "LICENSE is not the unmodified Apache-2.0 text"
    assert b"Apache License\n                           Version 2.0, January 2004" in licence
    pyproject = tomllib.loads(_text("pyproject.toml"))
    project = pyproject["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]  # PEP 639
    assert pyproject["build-system"]["requires"] == ["setuptools>=77"]  # the first to read PEP 639's fields


def test_the_citation_file_parses_and_carries_the_packages_version():
    import yaml  # PyYAML, which mkdocs brings in the test extra

    cff = yaml.safe_load(_text("CITATION.cff"))
    for key in ("cff-version", "message", "title", "authors"):  # CFF 1.2.0's required keys
        assert cff.get(key), key
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == _version()
    assert cff["license"] == "Apache-2.0"
    assert cff["authors"] == [{"name": "the latentkit authors"}]
    assert cff["abstract"].strip()
    references = cff["references"]
    assert [" ".join(r["title"].split()) for r in references] == list(STUDIES)
    for reference in references:
        assert reference["type"] and reference["authors"]  # required in a CFF reference


def test_the_changelog_names_the_current_version():
    changelog = _text("CHANGELOG.md")
    assert changelog.startswith("# Changelog")
    assert re.search(rf"^## \[{re.escape(_version())}\]", changelog, flags=re.M), _version()
    assert "## [Unreleased]" in changelog


def test_the_readmes_first_screen_holds_both_install_commands():
    first = _text("README.md").splitlines()[:30]
    ci = _text(".ci/run").splitlines()[-1]
    demo = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && latentkit demo"
    assert demo in first and ci in first


def test_the_demos_time_is_one_figure_wherever_it_is_said():
    for place in DEMO_TIME_PLACES:
        text = " ".join(_text(place).split()).lower()  # a docstring's line breaks, "About" starting it
        assert DEMO_TIME in text, f"{place} does not say the demo takes {DEMO_TIME}"
        for old in OLD_DEMO_TIMES:
            assert old not in text, f"{place} still says {old!r}"
    measured = re.search(r"^\| the demo \(`latentkit demo`\) \| \*\*([\d.,]+) s\*\*", _text("BENCHMARKS.md"), re.M)
    assert measured, "BENCHMARKS.md's table has no row for the demo's time"
    minutes = float(measured.group(1).replace(",", "")) / 60
    assert f"about {round(minutes)} minutes" == DEMO_TIME, f"BENCHMARKS.md measured {minutes:.1f} min"


def test_the_troubleshooting_page_names_every_exit_status():
    statuses = re.findall(r"^(\w+_EXIT) = (\d+)", _text("latentkit/core/errors.py"), flags=re.M)
    assert len(statuses) >= 7
    page = _text("docs/troubleshooting.md")
    for name, value in statuses:
        assert re.search(rf"^\| {value} \| `{name}` \|", page, flags=re.M), (name, value)
    assert "(reference/exit-statuses.md)" in page
    nav = _text("mkdocs.yml")
    assert "troubleshooting.md" in nav and "guides/reproducing.md" in nav


def test_the_docs_name_the_studies():
    for place in ("README.md", "docs/index.md", "docs/guides/findings.md", "docs/guides/reproducing.md"):
        text = " ".join(_text(place).split())
        assert "Autoencoders and latent space fragmentation" in text, place
        assert "Variational Autoencoder with Tensorflow 2.8" in text, place
