"""The posts' findings as rows: reconstructions, Gaussian components, correlations, uniform shells, the normal."""

from __future__ import annotations

from typing import Any

import numpy as np

from latentkit.analysis.compare import HIT_K
from latentkit.analysis.measures.stats import wilson_interval
from latentkit.analysis.report.cloud_schema import GeneratorRow, Radius, Region
from latentkit.analysis.report.quality_schema import Coverage
from latentkit.analysis.report.schema import Report
from latentkit.demo.rows import Finding, decided, look, side

RMSE_GOAL = 0.05  # pixels in [0, 1]: reconstructions keep eyes, brows, mouth and hair
CORRELATED_R = 0.5  # |r| at or above: a strongly correlated pair, its ellipse visibly rotated (post IX: "high values")
DEGENERATE_R = 0.99  # |r| at or above: the pair is a line, not an ellipse (axes 14 : 1 in standard units): one number
UNIFORM_HIT_MAX = 0.01  # a b "lands" when its hit interval lies above this share, "misses" when below (k = 1.5)
DATA_RADII = (0.01, 0.99)  # the data's radii: the 1st to the 99th percentile of the radius histogram
SHELL_SDS = 3.0  # a uniform generator's shell: its mean radius +- 3 sd
THIN_SHELL = 0.1  # a thin shell: sd at most this share of its mean radius (b sqrt(N/3) against b/sqrt(15))


BASELINE_MIN = 0.05  # the data's own hit share must reach this (upper 95 % bound) for a comparison against it
SHELL_COVERAGE = 0.05  # a uniform b's coverage at or above this: its points do reach the data's neighbourhoods
ELLIPSE_SLACK = 0.05  # "a Gaussian's share": within 5 points of 1 - exp(-2) = 86.5 % at 2 sigma


def post_findings(report: Report, rmse: dict[str, Any], noun: str = "images") -> list[Finding]:
    """The posts' findings checked against an analysis ``report`` and a ``reconstruction_rmse``
    result; ``noun`` is what the images are ("faces" for CelebA). Every comparison carries its
    95 % interval and says inconclusive when the interval does not decide, not applicable when the
    test cannot judge this data."""
    gens = report["generators"]
    uniform = sorted((g for g in gens if g["method"] == "uniform"), key=lambda g: g["params"]["b"])
    comps = report["components"]
    gaussian = sum(abs(c["gauss"]["sigma"] / c["std"] - 1) < 0.2 for c in comps if c["std"] > 0)
    low, high = rmse.get("rmse_interval", (rmse["rmse"], rmse["rmse"]))
    rows = [
        Finding(
            f"Reconstructions keep each {noun.removesuffix('s')}'s features",
            f"{rmse['partition']} RMSE {rmse['rmse']:.4f} [{low:.4f}, {high:.4f}] over {rmse['n']:,} images "
            f"(holds if the interval lies at or below {RMSE_GOAL})",
            decided(high <= RMSE_GOAL, low > RMSE_GOAL),
            look("samples:reconstructions"),
        ),
        Finding(
            "Each component is close to a Gaussian",
            f"{gaussian} of {len(comps)} components: Gaussian-fit sigma within 20% of the std (goal >= 80%)",
            gaussian >= 0.8 * len(comps),
            look("components", "dominant"),
        ),
        _correlation(report),
    ]
    if uniform:
        rows.append(_shells(report["radius"], uniform, report["dim"]))
        rows.append(_hits(uniform, report.get("region")))
        if "region" in report and "shell_fraction" in uniform[0]:
            rows.append(_shell_hits(uniform, report["region"], report.get("coverage", {})))
    rows.append(_mvn(report, noun))
    plane = next((e for e in report["pca"].get("ellipses", []) if e["pair"] == [0, 1]), None)
    if plane is not None:
        inside, expected = plane["fraction_inside"]["2"], plane["gaussian"]["2"]
        low, high = wilson_interval(round(inside * plane["n"]), plane["n"])
        band = (expected - ELLIPSE_SLACK, expected + ELLIPSE_SLACK)
        rows.append(
            Finding(
                "The cloud is roughly a multivariate normal: its fitted ellipses hold a Gaussian's share",
                f"the fitted normal's 2 sigma ellipse holds {inside:.1%} [{low:.1%}, {high:.1%}] of the "
                f"{plane['n']:,} points in PC0-PC1 (a 2-D Gaussian: {expected:.1%}; holds if the interval "
                f"lies within {band[0]:.1%}-{band[1]:.1%})",
                decided(band[0] <= low and high <= band[1], high < band[0] or low > band[1]),
                look("pc_ellipses"),
            )
        )
    nn = report.get("nearest_neighbours", {}).get("sets", {}).get("multivariate normal")
    if nn is not None:
        rows.append(
            Finding(
                "Structure at small scales: neighbours closer than in the fitted normal",
                f"nearest-neighbour median ratio data/normal {nn['median_ratio']:.2f}, "
                f"KS {nn['ks_statistic']:.2f}, p = {nn['ks_pvalue']:.2g} (holds if ratio < 1 and KS p < 0.01)",
                nn["median_ratio"] < 1 and nn["ks_pvalue"] < 0.01,
                look("nn_distances"),
            )
        )
    return rows


def _correlation(report: Report) -> Finding:
    """Post IX: some pairs strongly correlated (rotated ellipses), none degenerate (a line). The
    strongest pair's |r| with Fisher's 95 % interval over the report's n points."""
    pairs = report["correlations"]["top_pairs"]
    pair = pairs[0] if pairs else {"i": 0, "j": 0, "r": 0.0}
    strength = abs(pair["r"])
    axes = f"{np.sqrt((1 + strength) / (1 - strength)):.1f} : 1" if strength < 1 else "a line"
    low, high = fisher_interval(strength, report["n"])
    return Finding(
        "Some component pairs are strongly linearly correlated (rotated ellipses), none degenerate (a line)",
        f"strongest pair z{pair['i']}, z{pair['j']}: r = {pair['r']:+.3f}, |r| in [{low:.3f}, {high:.3f}] "
        f"over {report['n']:,} points, its ellipse's axes {axes} in standard units (holds if "
        f"{CORRELATED_R:g} <= |r| < {DEGENERATE_R:g})",
        decided(low >= CORRELATED_R and high < DEGENERATE_R, high < CORRELATED_R or low >= DEGENERATE_R),
        look("ellipses", "correlation"),
    )


def fisher_interval(r: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Fisher's 95 % interval of a correlation ``r`` over ``n`` points (atanh r +- z / sqrt(n - 3))."""
    if n <= 3 or abs(r) >= 1:
        return (-1.0, 1.0) if n <= 3 else (r, r)
    centre, half = np.arctanh(r), z / np.sqrt(n - 3)
    return float(np.tanh(centre - half)), float(np.tanh(centre + half))


def _mvn(report: Report, noun: str) -> Finding:
    """Multivariate-normal z-points land inside about as often as the data: at least half the
    data's own share, intervals for both; in the box, or in the data's shell where the box holds
    the origin (then the box is wider than the data's region); not applicable when the data's own
    share is about 0."""
    mvn = next(g for g in report["generators"] if g["method"] == "mvn")
    n, region = report["n"], report.get("region")
    claim = f"Multivariate-normal z-points land inside and decode to {noun}"
    if region is not None and region["box_holds_origin"].get(HIT_K) and "shell_fraction" in mvn:
        data, (data_low, data_high) = region["data_shell_fraction"], region["data_shell_interval"]
        share, (low, high) = mvn["shell_fraction"], mvn["shell_interval"]
        what, where = "share inside the data's shell (the box holds the origin)", "the shell"
    else:
        data = report["data_hit_fraction"][HIT_K]
        data_low, data_high = wilson_interval(round(data * n), n)
        share, (low, high) = mvn["hit_fraction"][HIT_K], _box_interval(mvn)
        what, where = f"hit fraction (k={HIT_K})", "the box"
    measured = (
        f"{what} {share:.3f} [{low:.3f}, {high:.3f}] vs the data's own {data:.3f} "
        f"[{data_low:.3f}, {data_high:.3f}] over {n:,} points"
    )
    if data_high < BASELINE_MIN:
        return Finding(
            claim,
            f"not applicable: the data's own {data:.3f} [{data_low:.3f}, {data_high:.3f}] over {n:,} "
            f"points: {where} holds almost none of the data, so there is nothing to compare with "
            f"(too few points for the half-widths, or a cloud the box does not fit); {measured}",
            None,
            look("samples:generated_mvn"),
            applies=False,
        )
    return Finding(
        claim,
        f"{measured} (holds if the normal's interval lies above half the data's)",
        decided(low >= data_high / 2, high < data_low / 2),
        look("samples:generated_mvn"),
    )


def radius_percentiles(radius: Radius, shares: tuple[float, ...] = DATA_RADII) -> list[float]:
    """The data's radii at ``shares`` of its radius histogram (linear within a bin)."""
    edges, counts = np.asarray(radius["histogram"]["edges"], float), np.asarray(radius["histogram"]["counts"], float)
    cumulative = np.concatenate([[0.0], np.cumsum(counts)]) / max(counts.sum(), 1.0)
    return [float(np.interp(share, cumulative, edges)) for share in shares]


def _shells(radius: Radius, uniform: list[GeneratorRow], dim: int) -> Finding:
    """Post II: uniform z-points lie on thin shells; only a few b (there 1-2) overlap the data's radii, larger b
    miss. A shell overlaps when its mean +- ``SHELL_SDS`` sd meets the data's 1st-99th percentile radii."""
    low, high = radius_percentiles(radius)
    sides = []
    for g in uniform:
        mean, sd = g["radius_mean"], g["radius_std"]
        sides.append(
            "misses below"
            if mean + SHELL_SDS * sd < low
            else "misses above"
            if mean - SHELL_SDS * sd > high
            else "overlaps"
        )
    shells = ", ".join(
        f"b={g['params']['b']:g} {g['radius_mean']:.1f} +- {g['radius_std']:.2f} {side}"
        for g, side in zip(uniform, sides)
    )
    thin = all(g["radius_std"] <= THIN_SHELL * g["radius_mean"] for g in uniform)
    formula = np.sqrt(3 / (15 * dim))  # a uniform shell's sd / radius in ``dim`` dimensions
    judged = formula <= THIN_SHELL
    thinness = (
        f"every shell is thin, sd <= {THIN_SHELL:.0%} of its radius (sqrt(3 / (15 N)) = {formula:.3f} at N = {dim}),"
        if judged
        else f"(thinness not judged: at N = {dim} a uniform shell's sd / radius is sqrt(3 / (15 N)) = {formula:.2f} "
        f"by the formula, thin only from N = 20)"
    )
    return Finding(
        "Uniform z-points lie on thin shells (radius b*sqrt(N/3)); few b meet the data's radii, the "
        "largest b misses them (post II, N = 256: b = 1-2 overlap, larger b miss)",
        f"data's radii {low:.1f}-{high:.1f} (1st-99th percentile), peak {radius['peak']:.1f}; shells "
        f"(mean +- sd, overlap within {SHELL_SDS:g} sd): {shells} (holds if {thinness} and the largest b "
        "misses)",
        (thin or not judged) and sides[-1] != "overlaps",
        look("radius"),
    )


def _classes(uniform: list[GeneratorRow], share_of, interval_of) -> tuple[list[str], str]:
    """Each b lands or misses when its Wilson interval lies wholly above or below
    ``UNIFORM_HIT_MAX``, else "inconclusive"; and the per-b text."""
    classes, parts = [], []
    for g in uniform:
        share, (low, high) = share_of(g), interval_of(g)
        where = side((low, high), UNIFORM_HIT_MAX)
        classes.append({"above": "lands", "below": "misses"}.get(where, "inconclusive"))
        parts.append(f"b={g['params']['b']:g} {_share(share)} [{_share(low)}, {_share(high)}] {classes[-1]}")
    return classes, ", ".join(parts)


def _box_interval(g: GeneratorRow) -> tuple[float, float]:
    drawn = g.get("hit_draws", g["samples"])
    low, high = g.get("hit_interval", {}).get(HIT_K) or wilson_interval(round(g["hit_fraction"][HIT_K] * drawn), drawn)
    return low, high


def _hits(uniform: list[GeneratorRow], region: Region | None) -> Finding:
    """Post II: uniform z-points land inside the data's region only for small b (there b = 1 at k = 1.5),
    larger b essentially never. A b lands or misses by its Wilson interval against
    ``UNIFORM_HIT_MAX``; an undecided b leaves the row inconclusive where the verdict turns on it.
    Not applicable where the box holds the origin and every b lands (a box far wider than the data's
    hollow cloud, as the digits'): it then tells no b from another."""
    claim = (
        "Uniform z-points land inside the data's region only for small b, larger b essentially never "
        "(post II, k = 1.5: b = 1 all, b = 1.5 fewer than 10 in 170,000)"
    )
    classes, parts = _classes(uniform, lambda g: g["hit_fraction"][HIT_K], _box_interval)
    draws = sorted({g.get("hit_draws", g["samples"]) for g in uniform})
    measured = f"hit fraction (k={HIT_K}) with its 95% interval over {'/'.join(f'{d:,}' for d in draws)} draws: {parts}"
    figure = look("radius", "samples:generated_uniform_b3")
    origin = region is not None and region["box_holds_origin"].get(HIT_K)
    if origin and set(classes) == {"lands"}:
        return Finding(
            claim,
            f"not applicable: the box (every component within {HIT_K} half-widths of its centre) "
            "holds the origin and every uniform box, as no component lies that far off-centre: they all "
            f"land in it whatever the data's shape ({measured}); the shell row judges instead",
            None,
            figure,
            applies=False,
        )
    aside = (
        "; the box holds the origin, so small boxes around 0 land in it by construction (where the data lie: "
        "the shell row)"
        if origin
        else ""
    )
    return Finding(
        claim,
        f"{measured} (lands above {UNIFORM_HIT_MAX:.0%}, misses below; holds if the largest b "
        f"misses and no b lands above one that misses){aside}",
        _only_small_b_land(classes),
        figure,
    )


def _shell_hits(uniform: list[GeneratorRow], region: Region, coverage: dict[str, Coverage]) -> Finding:
    """The posts' claim by a region that is the data's whatever their shape: the shell they fill
    (Mahalanobis distance from the fitted normal and radius, each between the data's own 1st and
    99th percentiles).
    Holds when every b misses it; where coverage was measured, a b that misses the shell but whose
    coverage reaches ``SHELL_COVERAGE`` (or lands with coverage below it) makes the row inconclusive:
    two measures of one run must not be read against each other."""
    shell = region["shell"]
    classes, parts = _classes(uniform, lambda g: g["shell_fraction"], lambda g: tuple(g["shell_interval"]))
    disagree = []
    for g, c in zip(uniform, classes):
        found = coverage.get(f"uniform_b{g['params']['b']:g}")
        if found is not None and ((c == "misses") == (found["coverage"] >= SHELL_COVERAGE)) and c != "inconclusive":
            disagree.append(
                f"b={g['params']['b']:g} {'misses' if c == 'misses' else 'lands in'} the shell, "
                f"coverage {found['coverage']:.2f}"
            )
    covered = ", ".join(
        f"b={g['params']['b']:g} {coverage[k]['coverage']:.2f}"
        for g in uniform
        if (k := f"uniform_b{g['params']['b']:g}") in coverage
    )
    data = region["data_shell_fraction"]
    measured = (
        f"share inside the data's shell (Mahalanobis {shell['low']:.2f}-{shell['high']:.2f} and radius "
        f"{shell['radius_low']:.1f}-{shell['radius_high']:.1f}, the data's own {data:.1%}) with its 95% interval: "
        f"{parts}" + (f"; coverage {covered}" if covered else "")
    )
    if disagree:
        return Finding(
            _SHELL_CLAIM,
            f"{measured}; the shell and coverage disagree ({'; '.join(disagree)})",
            None,
            look("coverage", "samples:generated_uniform_b3"),
        )
    holds = False if "lands" in classes else None if "inconclusive" in classes else True
    return Finding(
        _SHELL_CLAIM,
        f"{measured} (holds if every b misses: below {UNIFORM_HIT_MAX:.0%})",
        holds,
        look("radius", "samples:generated_uniform_b3"),
    )


_SHELL_CLAIM = (
    "Uniform z-points essentially never land where the data lie, by the data's own region: the shell "
    "they fill (Mahalanobis distance and radius each within the data's own range)"
)


def _only_small_b_land(classes: list[str]) -> bool | None:
    """The largest b misses and no b lands above one that misses (``classes`` by b), or None when
    the answer turns on an inconclusive b (it differs whichever way that b is read)."""
    readings: list[list[str]] = [[]]
    for c in classes:
        readings = [r + [o] for r in readings for o in ((c,) if c != "inconclusive" else ("lands", "misses"))]
    answers = {r[-1] == "misses" and "lands" not in r[r.index("misses") :] for r in readings}
    return answers.pop() if len(answers) == 1 else None


def _share(x: float) -> str:
    return f"{x:.1%}" if x >= 0.001 else f"{x:.2g}" if x > 0 else "0"
