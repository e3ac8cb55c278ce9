"""What the studies found, set against what one run measured: the demo's closing table.

Each finding is a claim of the studies, this run's numbers, whether the numbers bear the claim
out (by a stated criterion), and the figure to look at. Pure code: the demo writes and prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from latentkit.analysis.compare import HIT_K
from latentkit.analysis.report_schema import Report

RMSE_GOAL = 0.05  # pixels in [0, 1]: reconstructions keep eyes, brows, mouth and hair
DEGENERATE_R = 0.95  # |r| at or above: two components carry one number
UNIFORM_HIT_MAX = 0.01  # "essentially never inside" at k = 1.5


@dataclass(frozen=True)
class Finding:
    claim: str  # what the studies found
    measured: str  # what this run measured
    holds: bool  # whether this run's numbers bear the claim out (criterion in ``measured``)
    figure: str  # where to look, relative to the run directory


def findings(report: Report, rmse: dict[str, Any]) -> list[Finding]:
    """The studies' findings checked against an analysis ``report`` and a ``reconstruction_rmse`` result."""
    gens = report["generators"]
    uniform = [g for g in gens if g["method"] == "uniform"]
    mvn = next(g for g in gens if g["method"] == "mvn")
    data_hit = report["data_hit_fraction"][HIT_K]
    comps = report["components"]
    gaussian = sum(abs(c["gauss"]["sigma"] / c["std"] - 1) < 0.2 for c in comps if c["std"] > 0)
    pair = report["correlations"]["top_pairs"][0] if report["correlations"]["top_pairs"] else {"i": 0, "j": 0, "r": 0.0}
    peak, shells = report["radius"]["peak"], [(g["params"]["b"], g["radius_mean"], g["radius_std"]) for g in uniform]
    near = min(shells, key=lambda s: abs(s[1] - peak)) if shells else None
    worst = max(uniform, key=lambda g: g["hit_fraction"][HIT_K]) if uniform else None
    rows = [
        Finding("Reconstructions keep each face's features",
                f"{rmse['partition']} RMSE {rmse['rmse']:.4f} over {rmse['n']:,} images (goal <= {RMSE_GOAL})",
                rmse["rmse"] <= RMSE_GOAL, "samples/reconstructions.png"),
        Finding("Each component is close to a Gaussian",
                f"{gaussian} of {len(comps)} components: Gaussian-fit sigma within 20% of the std (goal >= 80%)",
                gaussian >= 0.8 * len(comps), "analysis/components.png, analysis/dominant.png"),
        Finding("Components are linearly correlated (elliptic pairs), none degenerate",
                f"strongest pair z{pair['i']}, z{pair['j']}: r = {pair['r']:+.3f} (goal |r| < {DEGENERATE_R})",
                abs(pair["r"]) < DEGENERATE_R, "analysis/ellipses.png, analysis/correlation.png"),
    ]  # fmt: skip
    if near is not None:
        b, mean, sd = near
        rows.append(Finding("Uniform z-points lie on thin shells (radius b*sqrt(N/3)) far from the data's radius",
                            f"data radius peak {peak:.1f}; nearest shell b={b:g} at {mean:.1f} +- {sd:.2f} "
                            "(goal: peak outside every shell's +-3 sd)",
                            all(abs(peak - m) > 3 * s for _, m, s in shells), "analysis/radius.png"))  # fmt: skip
    if worst is not None:
        rows.append(Finding("Uniform z-points essentially never land inside the data's region",
                            f"hit fraction (k={HIT_K}) at most {worst['hit_fraction'][HIT_K]:.2%} "
                            f"(b={worst['params']['b']:g}; goal < {UNIFORM_HIT_MAX:.0%} for every b)",
                            worst["hit_fraction"][HIT_K] < UNIFORM_HIT_MAX, "samples/generated_uniform_b3.png"))  # fmt: skip
    rows.append(Finding("Multivariate-normal z-points land inside and decode to faces",
                        f"hit fraction (k={HIT_K}) {mvn['hit_fraction'][HIT_K]:.3f} vs the data's own {data_hit:.3f} "
                        "(goal >= half the data's)",
                        mvn["hit_fraction"][HIT_K] >= 0.5 * data_hit, "samples/generated_mvn.png"))  # fmt: skip
    plane = next((e for e in report["pca"].get("ellipses", []) if e["pair"] == [0, 1]), None)
    if plane is not None:
        inside, expected = plane["fraction_inside"]["2"], plane["gaussian"]["2"]
        rows.append(Finding("The cloud is roughly a multivariate normal: its fitted ellipses hold a Gaussian's share",
                            f"the fitted normal's 2 sigma ellipse holds {inside:.1%} of the data in PC0-PC1 "
                            f"(a 2-D Gaussian: {expected:.1%}; holds within {ELLIPSE_SLACK:.0%})",
                            abs(inside - expected) <= ELLIPSE_SLACK, "analysis/pc_ellipses.png"))  # fmt: skip
    nn = report.get("nearest_neighbours", {}).get("sets", {}).get("multivariate normal")
    if nn is not None:
        rows.append(Finding("Structure at small scales: neighbours closer than in the fitted normal",
                            f"nearest-neighbour median ratio data/normal {nn['median_ratio']:.2f}, "
                            f"KS {nn['ks_statistic']:.2f} (holds if ratio < 1 and KS p < 0.01)",
                            nn["median_ratio"] < 1 and nn["ks_pvalue"] < 0.01, "analysis/nn_distances.png"))  # fmt: skip
    rows += _hole_findings(report)
    return rows


FOLLOWERS = ("gmm", "kde", "posterior", "flow")  # the generators fitted to the data's shape, not only its moments
ELLIPSE_SLACK = 0.05  # "a Gaussian's share": within 5 points of 1 - exp(-2) = 86.5 % at 2 sigma
REENCODE_FAR = 2.0  # "far": a median re-encoding distance at least this many times the data's own


def _hole_findings(report: dict[str, Any]) -> list[Finding]:
    """Where the holes are (analyze's quality stage), when the report has it."""
    rows = []
    coverage = report.get("coverage", {})
    if "gmm" in coverage and "mvn" in coverage:
        gmm, mvn = coverage["gmm"], coverage["mvn"]
        rows.append(Finding("The fitted mixture covers more of the data than the single normal",
                            f"coverage {gmm['coverage']:.3f} (mixture) vs {mvn['coverage']:.3f} (normal), k = {gmm['k']}, "
                            f"{gmm['n']:,} points each (holds if the mixture's is higher)",
                            gmm["coverage"] > mvn["coverage"], "analysis/coverage.png"))  # fmt: skip
    if coverage:
        best = max(coverage, key=lambda name: coverage[name]["coverage"])
        others = ", ".join(f"{name} {coverage[name]['coverage']:.2f}" for name in ("gmm", "kde", "mvn", "normal")
                           if name in coverage and name != best)  # fmt: skip
        rows.append(Finding("A generator that follows the data covers it best",
                            f"best coverage: {best} {coverage[best]['coverage']:.3f} ({others}); holds if it is the "
                            "mixture, the kernel density or a VAE's aggregate posterior",
                            best in FOLLOWERS, "analysis/coverage.png"))  # fmt: skip
    reencoding = report.get("reencoding", {})
    uniform = reencoding.get("generators", {}).get("uniform_b3")
    if uniform is not None:
        rows.append(Finding("Uniform z-points re-encode far from where they were drawn",
                            f"median ||E(D(z)) - z|| {uniform['median']:.3g} for uniform b=3, {uniform['median_ratio']:.1f}x "
                            f"the data's own {reencoding['data']['median']:.3g} (holds if >= {REENCODE_FAR:g}x)",
                            uniform["median_ratio"] >= REENCODE_FAR, "analysis/reencoded_faces.png"))  # fmt: skip
    vae = report.get("vae")
    if vae is not None:
        rows.append(Finding("A VAE's dimensions stay active (no posterior collapse)",
                            f"{vae['active_units']} of {vae['dims']} dimensions active (variance of E[z|x] > "
                            f"{vae['threshold']:g}; holds if at least half)",
                            not vae["collapsed"], "analysis/vae_health.png"))  # fmt: skip
    return rows


def _cell(text: str) -> str:
    """One table cell: a pipe in the text (``|r|``, ``||E(D(z)) - z||``) escaped so that it does not end the cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(rows: list[Finding]) -> str:
    lines = ["| the studies found | this run measured | holds | figure |", "| --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(_cell(c) for c in (f.claim, f.measured, "yes" if f.holds else "no", f.figure)) + " |"
              for f in rows]  # fmt: skip
    return "\n".join(lines) + "\n"


def as_json(rows: list[Finding]) -> list[dict[str, Any]]:
    return [asdict(f) for f in rows]
