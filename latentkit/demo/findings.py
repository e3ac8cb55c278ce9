"""What the studies found, set against what one run measured: the demo's closing table.

Each finding is a claim of the studies, this run's numbers, whether the numbers bear the claim
out (by a stated criterion), and the figure to look at. Pure code: the demo writes and prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from latentkit.analysis.compare import HIT_K
from latentkit.analysis.report_schema import GeneratorRow, Radius, Report
from latentkit.analysis.stats import wilson_interval

RMSE_GOAL = 0.05  # pixels in [0, 1]: reconstructions keep eyes, brows, mouth and hair
CORRELATED_R = 0.5  # |r| at or above: a strongly correlated pair, its ellipse visibly rotated (post IX: "high values")
DEGENERATE_R = 0.99  # |r| at or above: the pair is a line, not an ellipse (axes 14 : 1 in standard units): one number
UNIFORM_HIT_MAX = 0.01  # a b "lands" when its hit interval lies above this share, "misses" when below (k = 1.5)
DATA_RADII = (0.01, 0.99)  # the data's radii: the 1st to the 99th percentile of the radius histogram
SHELL_SDS = 3.0  # a uniform generator's shell: its mean radius +- 3 sd
THIN_SHELL = 0.1  # a thin shell: sd at most this share of its mean radius (b sqrt(N/3) against b/sqrt(15))


@dataclass(frozen=True)
class Finding:
    claim: str  # what the studies found
    measured: str  # what this run measured
    holds: bool | None  # whether this run's numbers bear the claim out (criterion in ``measured``); None: inconclusive
    figure: str  # where to look, relative to the run directory

    @property
    def verdict(self) -> str:
        return verdict(self.holds)


def verdict(holds: bool | None) -> str:
    """A row's holds column: yes, no, or inconclusive (None: an interval did not separate)."""
    return "inconclusive" if holds is None else "yes" if holds else "no"


def findings(report: Report, rmse: dict[str, Any]) -> list[Finding]:
    """The studies' findings checked against an analysis ``report`` and a ``reconstruction_rmse`` result."""
    gens = report["generators"]
    uniform = sorted((g for g in gens if g["method"] == "uniform"), key=lambda g: g["params"]["b"])
    mvn = next(g for g in gens if g["method"] == "mvn")
    data_hit = report["data_hit_fraction"][HIT_K]
    comps = report["components"]
    gaussian = sum(abs(c["gauss"]["sigma"] / c["std"] - 1) < 0.2 for c in comps if c["std"] > 0)
    pair = report["correlations"]["top_pairs"][0] if report["correlations"]["top_pairs"] else {"i": 0, "j": 0, "r": 0.0}
    strength = abs(pair["r"])
    axes = f"{np.sqrt((1 + strength) / (1 - strength)):.1f} : 1" if strength < 1 else "a line"
    rows = [
        Finding("Reconstructions keep each face's features",
                f"{rmse['partition']} RMSE {rmse['rmse']:.4f} over {rmse['n']:,} images (goal <= {RMSE_GOAL})",
                rmse["rmse"] <= RMSE_GOAL, "samples/reconstructions.png"),
        Finding("Each component is close to a Gaussian",
                f"{gaussian} of {len(comps)} components: Gaussian-fit sigma within 20% of the std (goal >= 80%)",
                gaussian >= 0.8 * len(comps), "analysis/components.png, analysis/dominant.png"),
        Finding("Some component pairs are strongly linearly correlated (rotated ellipses), none degenerate (a line)",
                f"strongest pair z{pair['i']}, z{pair['j']}: r = {pair['r']:+.3f}, its ellipse's axes {axes} in "
                f"standard units (holds if {CORRELATED_R:g} <= |r| < {DEGENERATE_R:g})",
                CORRELATED_R <= strength < DEGENERATE_R, "analysis/ellipses.png, analysis/correlation.png"),
    ]  # fmt: skip
    if uniform:
        rows.append(_shells(report["radius"], uniform))
        rows.append(_hits(uniform))
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


def radius_percentiles(radius: Radius, shares: tuple[float, ...] = DATA_RADII) -> list[float]:
    """The data's radii at ``shares`` of its radius histogram (linear within a bin)."""
    edges, counts = np.asarray(radius["histogram"]["edges"], float), np.asarray(radius["histogram"]["counts"], float)
    cumulative = np.concatenate([[0.0], np.cumsum(counts)]) / max(counts.sum(), 1.0)
    return [float(np.interp(share, cumulative, edges)) for share in shares]


def _shells(radius: Radius, uniform: list[GeneratorRow]) -> Finding:
    """Post II: uniform z-points lie on thin shells; only a few b (there 1-2) overlap the data's radii, larger b
    miss. A shell overlaps when its mean +- ``SHELL_SDS`` sd meets the data's 1st-99th percentile radii."""
    low, high = radius_percentiles(radius)
    sides = []
    for g in uniform:
        mean, sd = g["radius_mean"], g["radius_std"]
        sides.append("misses below" if mean + SHELL_SDS * sd < low else "misses above" if mean - SHELL_SDS * sd > high
                     else "overlaps")  # fmt: skip
    shells = ", ".join(f"b={g['params']['b']:g} {g['radius_mean']:.1f} +- {g['radius_std']:.2f} {side}"
                       for g, side in zip(uniform, sides))  # fmt: skip
    thin = all(g["radius_std"] <= THIN_SHELL * g["radius_mean"] for g in uniform)
    return Finding("Uniform z-points lie on thin shells (radius b*sqrt(N/3)); only a few b overlap the data's radii, "
                   "larger b miss (post II, N = 256: b = 1-2 overlap)",
                   f"data's radii {low:.1f}-{high:.1f} (1st-99th percentile), peak {radius['peak']:.1f}; shells "
                   f"(mean +- sd, overlap within {SHELL_SDS:g} sd): {shells} (holds if every shell is thin, sd <= "
                   f"{THIN_SHELL:.0%} of its radius, some b overlap and the largest b misses above)",
                   thin and "overlaps" in sides and sides[-1] == "misses above", "analysis/radius.png")  # fmt: skip


def _hits(uniform: list[GeneratorRow]) -> Finding:
    """Post II: uniform z-points land inside the data's region only for small b (there b = 1 at k = 1.5),
    larger b essentially never. A b lands or misses when its Wilson interval lies wholly above or below
    ``UNIFORM_HIT_MAX``; an interval across it leaves that b inconclusive, and the row too where the
    verdict turns on that b."""
    classes, parts = [], []
    for g in uniform:
        share = g["hit_fraction"][HIT_K]
        drawn = g.get("hit_draws", g["samples"])
        low, high = g.get("hit_interval", {}).get(HIT_K) or wilson_interval(round(share * drawn), drawn)
        classes.append("lands" if low > UNIFORM_HIT_MAX else "misses" if high < UNIFORM_HIT_MAX else "inconclusive")
        parts.append(f"b={g['params']['b']:g} {_share(share)} [{_share(low)}, {_share(high)}] {classes[-1]}")
    draws = sorted({g.get("hit_draws", g["samples"]) for g in uniform})
    return Finding("Uniform z-points land inside the data's region only for small b, larger b essentially never "
                   "(post II, k = 1.5: b = 1 all, b = 1.5 fewer than 10 in 170,000)",
                   f"hit fraction (k={HIT_K}) with its 95% interval over {'/'.join(f'{d:,}' for d in draws)} draws: "
                   f"{', '.join(parts)} (lands above {UNIFORM_HIT_MAX:.0%}, misses below; holds if the largest b "
                   "misses and no b lands above one that misses)",
                   _only_small_b_land(classes), "analysis/radius.png, samples/generated_uniform_b3.png")  # fmt: skip


def _only_small_b_land(classes: list[str]) -> bool | None:
    """The largest b misses and no b lands above one that misses (``classes`` by b), or None when
    the answer turns on an inconclusive b (it differs whichever way that b is read)."""
    readings: list[list[str]] = [[]]
    for c in classes:
        readings = [r + [o] for r in readings for o in ((c,) if c != "inconclusive" else ("lands", "misses"))]
    answers = {r[-1] == "misses" and "lands" not in r[r.index("misses"):] for r in readings}
    return answers.pop() if len(answers) == 1 else None


def _share(x: float) -> str:
    return f"{x:.1%}" if x >= 0.001 else f"{x:.2g}" if x > 0 else "0"


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
    lines += ["| " + " | ".join(_cell(c) for c in (f.claim, f.measured, f.verdict, f.figure)) + " |"
              for f in rows]  # fmt: skip
    return "\n".join(lines) + "\n"


def as_json(rows: list[Finding]) -> list[dict[str, Any]]:
    return [{**asdict(f), "verdict": f.verdict} for f in rows]
