"""What the studies found, set against what one run measured: the demo's closing table.

Each finding is a claim of the studies, this run's numbers, whether the numbers bear the claim
out (by a stated criterion), and the figure to look at. Pure code: the demo writes and prints.
The rows are built in ``post_findings`` (the posts' claims) and ``hole_findings`` (where the
holes are, and the hole atlas); a row is a ``rows.Finding``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from latentkit.analysis.report.schema import Report
from latentkit.demo.hole_findings import atlas_findings, hole_findings
from latentkit.demo.post_findings import post_findings
from latentkit.demo.rows import Finding


def findings(report: Report, rmse: dict[str, Any], noun: str = "images") -> list[Finding]:
    """The studies' findings checked against an analysis ``report`` and a ``reconstruction_rmse``
    result; ``noun`` is what the images are ("faces" for CelebA). Every comparison carries its
    95 % interval and says inconclusive when the interval does not decide, not applicable when the
    test cannot judge this data."""
    return post_findings(report, rmse, noun) + hole_findings(report) + atlas_findings(report)


def _cell(text: str) -> str:
    """One table cell: a pipe in the text (``|r|``, ``||E(D(z)) - z||``) escaped so that it does not end the cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(rows: list[Finding]) -> str:
    lines = ["| the studies found | this run measured | holds | figure |", "| --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(_cell(c) for c in (f.claim, f.measured, f.verdict, f.figure)) + " |" for f in rows]
    return "\n".join(lines) + "\n"


def as_json(rows: list[Finding]) -> list[dict[str, Any]]:
    return [{**asdict(f), "verdict": f.verdict} for f in rows]
