"""The findings of where the holes are: coverage, re-encoding, a VAE's active units, and the hole atlas's rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from latentkit.analysis.measures.stats import wilson_interval
from latentkit.analysis.report.schema import Report
from latentkit.demo.rows import Finding, decided, look

# the generators fitted to the data's shape, not only its moments
FOLLOWERS = ("gmm", "kde", "posterior", "flow", "reweighted")
REENCODE_FAR = 2.0  # "far": a median re-encoding distance at least this many times the data's own


def _coverage_words(coverage: dict) -> tuple[Callable[[str], tuple[float, float]], Callable[[str], str]]:
    """For the report's ``coverage``: a generator's 95 % Wilson interval, and its coverage said with it."""

    def interval(name: str) -> tuple[float, float]:
        return wilson_interval(round(coverage[name]["coverage"] * coverage[name]["n"]), coverage[name]["n"])

    def said(name: str) -> str:
        low, high = interval(name)
        return f"{name} {coverage[name]['coverage']:.3f} [{low:.3f}, {high:.3f}]"

    return interval, said


def hole_findings(report: Report) -> list[Finding]:
    """Where the holes are (analyze's quality stage), when the report has it."""
    rows = []
    coverage = report.get("coverage", {})

    interval, said = _coverage_words(coverage)

    if "gmm" in coverage and "mvn" in coverage:
        gmm = coverage["gmm"]
        claim = "The fitted mixture covers more of the data than the single normal"
        measured = (
            f"coverage {said('gmm')} (mixture) vs {said('mvn')} (normal), k = {gmm['k']}, {gmm['n']:,} points each"
        )
        components = report.get("mixture", {}).get("components")
        if components == 1:
            rows.append(
                Finding(
                    claim,
                    f"not applicable: BIC chose one component, so the mixture is a single normal ({measured})",
                    None,
                    look("coverage"),
                    applies=False,
                )
            )
        else:
            (g_low, g_high), (m_low, m_high) = interval("gmm"), interval("mvn")
            rows.append(
                Finding(
                    claim,
                    f"{measured} (holds if the mixture's interval lies above the normal's)",
                    decided(g_low > m_high, g_high < m_low),
                    look("coverage"),
                )
            )
    if coverage:
        best = max(coverage, key=lambda name: coverage[name]["coverage"])
        others = ", ".join(said(name) for name in ("gmm", "kde", "mvn", "normal") if name in coverage and name != best)
        rivals = [name for name in coverage if (name in FOLLOWERS) != (best in FOLLOWERS)]
        apart = all(interval(best)[0] > interval(name)[1] for name in rivals)
        rows.append(
            Finding(
                "A generator that follows the data covers it best",
                f"best coverage: {said(best)} ({others}); holds if it is the mixture, the kernel density, "
                "a VAE's aggregate posterior or a flow, its interval above every other generator's",
                (best in FOLLOWERS) if apart else None,
                look("coverage"),
            )
        )
    reencoding = report.get("reencoding", {})
    uniform = reencoding.get("generators", {}).get("uniform_b3")
    if uniform is not None:
        rows.append(
            Finding(
                "Uniform z-points re-encode far from where they were drawn",
                f"median ||E(D(z)) - z|| {uniform['median']:.3g} for uniform b=3, {uniform['median_ratio']:.1f}x "
                f"the data's own {reencoding['data']['median']:.3g} (holds if >= {REENCODE_FAR:g}x)",
                uniform["median_ratio"] >= REENCODE_FAR,
                look("reencoded_faces"),
            )
        )
    vae = report.get("vae")
    if vae is not None:
        rows.append(
            Finding(
                "A VAE's dimensions stay active (no posterior collapse)",
                f"{vae['active_units']} of {vae['dims']} dimensions active (variance of E[z|x] > "
                f"{vae['threshold']:g}; holds if at least half)",
                not vae["collapsed"],
                look("vae_health"),
            )
        )
    return rows


ATLAS_HOLDS_P = 0.01  # the prior's draws told from the data: the C2ST's p-value below this
ATLAS_FAILS_P = 0.05  # not told apart: at or above this
SAMPLER_RIVALS = ("normal", "mvn", "flow")  # the plain prior N(0, I), the normal it reweights, the run's flow


def atlas_findings(report: Report) -> list[Finding]:
    """The hole atlas's rows, when the report has it: whether a classifier tells the prior's draws
    from the data, and whether the reweighted normal covers the data better than its rivals."""
    atlas = report.get("atlas")
    if atlas is None:
        return []
    rows = []
    prior = atlas["generators"].get("normal")
    claim = "The prior N(0, I) leaves holes: a classifier tells its draws from the data (the prior hole problem)"
    if prior is None:
        rows.append(Finding(claim, "not applicable: the atlas has no standard normal", None, look("coverage"), False))
    else:
        scored = prior["n"]  # the held-out half
        low, high = wilson_interval(round(prior["c2st_accuracy"] * scored), scored)
        beside = f", MMD p = {prior['mmd_p_value']:.2g}" if "mmd_p_value" in prior else ""
        r_drawn = float(np.exp(prior["log_ratio_generator"]["p50"]))
        rows.append(
            Finding(
                claim,
                f"C2ST accuracy {prior['c2st_accuracy']:.3f} [{low:.3f}, {high:.3f}] on {scored:,} points, "
                f"p = {prior['c2st_p_value']:.2g}{beside}; the prior's draws' median r = q/p {r_drawn:.3g} "
                f"(holds if p < {ATLAS_HOLDS_P:g}, fails if p >= {ATLAS_FAILS_P:g})",
                decided(prior["c2st_p_value"] < ATLAS_HOLDS_P, prior["c2st_p_value"] >= ATLAS_FAILS_P),
                look("atlas_normal"),
            )
        )
    coverage = report.get("coverage", {})
    claim = "Reweighting the fitted normal by the density ratio covers the data better than the prior and the flow"
    rivals = [name for name in SAMPLER_RIVALS if name in coverage]
    if "reweighted" not in coverage or not rivals:
        why = "no reweighted generator" if "reweighted" not in coverage else "no rival generator"
        rows.append(Finding(claim, f"not applicable: {why} in the coverage", None, look("coverage"), False))
        return rows

    interval, said = _coverage_words(coverage)

    ours = interval("reweighted")
    sampler = atlas.get("sampler")
    kept = f", it keeps {sampler['acceptance_rate']:.0%} of the normal's draws" if sampler else ""
    rows.append(
        Finding(
            claim,
            f"coverage {said('reweighted')} against {', '.join(said(name) for name in rivals)}, k = "
            f"{coverage['reweighted']['k']}{kept} (holds if its interval lies above every other's, fails if "
            "below any)",
            decided(all(ours[0] > interval(n)[1] for n in rivals), any(ours[1] < interval(n)[0] for n in rivals)),
            look("coverage", "atlas_reweighted"),
        )
    )
    return rows
