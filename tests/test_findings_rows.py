"""What each row of the findings says, on made-up reports (no training): findings.md one well-formed
table, the correlation, shell and hit rows' verdicts, and inconclusive in JSON and Markdown."""

import numpy as np


def _table_cells(line: str) -> list[str]:
    """A Markdown table row's cells: split on the pipes that are not escaped (``\\|``)."""
    import re

    assert line.startswith("| ") and line.endswith(" |"), line
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line[1:-1])]


N_DIM = 128  # the demo's z_dim: a uniform [-b, b]^N shell has radius b sqrt(N/3) and sd b / sqrt(15)


def _made_up_report(
    *,
    r: float = -0.5,
    hits: dict[float, int] | None = None,
    draws: int = 100_000,
    radii: tuple[float, float] = (13.0, 27.0),
    intervals: bool = True,
) -> dict:
    """A report as analyze writes it, made up: uniform generators b = 0.5 ... 5 on their shells
    with ``hits`` hits (by b) in ``draws`` draws at k = 1.5, the data's radii spread evenly over
    ``radii`` (0.5 wide bins), the strongest pair's ``r``. No training."""
    from latentkit.analysis.measures.stats import wilson_interval

    hits = {0.5: 0, 1.0: 0, 1.5: 0, 2.0: 0, 3.0: 0, 5.0: 0} if hits is None else hits
    uniform = []
    for b, hit in hits.items():
        row = {
            "name": f"uniform b={b:g}",
            "method": "uniform",
            "params": {"b": b},
            "samples": 10_000,
            "radius_mean": b * np.sqrt(N_DIM / 3),
            "radius_std": b / np.sqrt(15),
            "hit_draws": draws,
            "hit_fraction": {"1.5": hit / draws},
        }
        if intervals:
            row["hit_interval"] = {"1.5": list(wilson_interval(hit, draws))}
        uniform.append(row)
    edges = np.arange(0.0, 40.5, 0.5)
    counts = ((edges[:-1] >= radii[0]) & (edges[1:] <= radii[1])).astype(int) * 100
    return {
        "n": 16_384,
        "dim": N_DIM,
        "generators": uniform
        + [
            {
                "method": "mvn",
                "params": {},
                "radius_mean": 18.0,
                "radius_std": 3.0,
                "samples": 10_000,
                "hit_fraction": {"1.5": 0.6},
            }
        ],
        "data_hit_fraction": {"1.5": 0.9},
        "components": [{"std": 1.0, "gauss": {"sigma": 1.05}}] * 4,
        "correlations": {"top_pairs": [{"i": 0, "j": 1, "r": r}]},
        "radius": {"peak": 17.0, "histogram": {"edges": edges.tolist(), "counts": counts.tolist()}},
        "pca": {"ellipses": [{"pair": [0, 1], "fraction_inside": {"2": 0.86}, "gaussian": {"2": 0.865}, "n": 16_384}]},
        "reencoding": {"data": {"median": 0.5}, "generators": {"uniform_b3": {"median": 4.0, "median_ratio": 8.0}}},
    }


def _row(report: dict, claim: str):
    from latentkit.demo.findings import findings

    rows = findings(report, {"partition": "valid", "rmse": 0.03, "n": 100})
    return next(f for f in rows if claim in f.claim)


def test_findings_markdown_is_one_table_when_cells_hold_pipes():
    """findings.md stays a well-formed table although cells hold ``|r|`` and ``||E(D(z)) - z||``:
    every row splits into the header's four cells on unescaped pipes, and the text reads back whole.
    A made-up report, no training."""
    from latentkit.demo.findings import as_markdown, findings

    report = _made_up_report(hits={0.5: 22_200, 1.0: 1_000, 3.0: 0, 5.0: 0})  # b=1: an interval across 1 %
    rows = findings(report, {"partition": "valid", "rmse": 0.03, "n": 100})
    measured = [f.measured for f in rows]
    assert any("|r|" in m for m in measured) and any("||E(D(z)) - z||" in m for m in measured)  # the text under test
    header, rule, *body = as_markdown(rows).splitlines()
    width = len(_table_cells(header))
    assert width == 4 and len(_table_cells(rule)) == width and len(body) == len(rows)
    for line, row in zip(body, rows, strict=True):
        cells = _table_cells(line)
        assert len(cells) == width, line
        expected = [row.claim, row.measured, {True: "yes", False: "no", None: "inconclusive"}[row.holds], row.figure]
        assert [c.replace("\\|", "|") for c in cells] == expected


def test_findings_correlation_row_degenerate_means_a_line():
    """Post IX: some pairs strongly correlated (rotated ellipses), none degenerate. |r| = 0.961 (the
    AMD run of issue 45) is an ellipse 7.1 : 1 and holds; 0.99 and above is a line; 0.2 is not strong."""
    from latentkit.demo.post_findings import CORRELATED_R, DEGENERATE_R

    assert (CORRELATED_R, DEGENERATE_R) == (0.5, 0.99)
    row = _row(_made_up_report(r=-0.961), "none degenerate")
    assert row.holds is True and "r = -0.961" in row.measured and "axes 7.1 : 1" in row.measured
    assert "holds if 0.5 <= |r| < 0.99" in row.measured
    assert _row(_made_up_report(r=0.946), "none degenerate").holds is True  # the Intel run in the guide
    for degenerate in (-0.995, 1.0):  # Fisher's interval over 16,384 points lies at or above 0.99
        assert _row(_made_up_report(r=degenerate), "none degenerate").holds is False, degenerate
    assert _row(_made_up_report(r=0.99), "none degenerate").verdict == "inconclusive"  # its interval straddles 0.99
    assert "a line" in _row(_made_up_report(r=1.0), "none degenerate").measured
    assert _row(_made_up_report(r=0.2), "none degenerate").holds is False  # a VAE's: not strongly correlated


def test_findings_shell_row_says_which_b_overlap_the_data_radii():
    """Post II: thin shells of radius b sqrt(N/3); only a few b overlap the data's radii, larger b miss.
    The data's radii spread evenly over 13-27: 1st-99th percentile 13.14-26.86; shells at N = 128:
    b=1.5 9.80 +- 0.39 (misses below by more than 3 sd), b=2 13.06, b=3 19.60 (overlap), b=5 32.66 +- 1.29
    (28.79 at -3 sd: misses above)."""
    from latentkit.demo.post_findings import radius_percentiles

    report = _made_up_report()
    assert np.allclose(radius_percentiles(report["radius"]), [13.14, 26.86])
    row = _row(report, "thin shells")
    assert row.holds is True and row.figure == "analysis/radius.png"
    assert "data's radii 13.1-26.9 (1st-99th percentile), peak 17.0" in row.measured
    for said in (
        "b=0.5 3.3 +- 0.13 misses below",
        "b=1 6.5 +- 0.26 misses below",
        "b=1.5 9.8 +- 0.39 misses below",
        "b=2 13.1 +- 0.52 overlaps",
        "b=3 19.6 +- 0.77 overlaps",
        "b=5 32.7 +- 1.29 misses above",
    ):
        assert said in row.measured, said
    assert _row(_made_up_report(radii=(13.0, 31.0)), "thin shells").holds is False  # b=5 overlaps: no b misses above
    assert _row(_made_up_report(radii=(40.0, 45.0)), "thin shells").holds is True  # every b misses below: few meet
    no_large = _made_up_report(hits={0.5: 0, 1.0: 0, 2.0: 0, 3.0: 0})
    assert _row(no_large, "thin shells").holds is False  # the largest b (3) overlaps: "larger b miss" not shown


def test_findings_hit_row_says_which_b_land_and_inconclusive_where_the_interval_does_not_separate():
    """Post II: uniform z-points land only for small b, larger b essentially never. b = 0.5 landing
    22.2 % (the AMD run of issue 45) with b = 5 never holds; a b lands or misses by its Wilson
    interval against 1 %; an interval across 1 % makes the row inconclusive only where the verdict
    turns on that b."""
    found = _row(_made_up_report(hits={0.5: 22_200, 1.0: 0, 1.5: 0, 2.0: 0, 3.0: 0, 5.0: 0}), "only for small b")
    assert found.holds is True and found.verdict == "yes"
    assert "b=0.5 22.2% [21.9%, 22.5%] lands" in found.measured and "b=5 0 [0, 3.8e-05] misses" in found.measured
    assert "over 100,000 draws" in found.measured and "lands above 1%, misses below" in found.measured
    everywhere_none = _row(_made_up_report(), "only for small b")  # the Intel run in the guide: 0 for every b
    assert everywhere_none.holds is True and "lands" not in everywhere_none.measured.split(" (lands")[0]
    # b=1 at 1.00 %: [0.94 %, 1.06 %] across 1 %, but the verdict is yes whichever way b=1 is read
    across = _row(_made_up_report(hits={0.5: 22_200, 1.0: 1_000, 3.0: 0, 5.0: 0}), "only for small b")
    assert "b=1 1.0% [0.9%, 1.1%] inconclusive" in across.measured and across.holds is True
    turns = _row(
        _made_up_report(hits={0.5: 22_200, 3.0: 0, 5.0: 1_000}), "only for small b"
    )  # the largest b across 1 %
    assert turns.holds is None and turns.verdict == "inconclusive"
    assert (
        _row(_made_up_report(hits={0.5: 0, 3.0: 5_000, 5.0: 0}), "only for small b").holds is False
    )  # b=3 above b=0.5
    assert _row(_made_up_report(hits={0.5: 50_000, 5.0: 3_000}), "only for small b").holds is False  # the largest lands
    old = _row(_made_up_report(hits={0.5: 22_200, 5.0: 0}, intervals=False), "only for small b")  # no hit_interval
    assert old.holds is True and "b=0.5 22.2% [21.9%, 22.5%] lands" in old.measured


def test_findings_json_and_markdown_say_inconclusive():
    from latentkit.demo.findings import as_json, as_markdown, findings

    rows = findings(_made_up_report(hits={0.5: 22_200, 5.0: 1_000}), {"partition": "valid", "rmse": 0.03, "n": 100})
    hit = next(f for f in as_json(rows) if "only for small b" in f["claim"])
    assert hit["holds"] is None and hit["verdict"] == "inconclusive"
    assert any(
        line.endswith("| inconclusive | analysis/radius.png, samples/generated_uniform_b3.png |")
        for line in as_markdown(rows).splitlines()
    )
