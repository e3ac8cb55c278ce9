"""report.md: the analysis in tables a person reads first."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from latentkit.analysis.report.schema import Report
from latentkit.core import write_text


def write_markdown(path: Path, report: Report) -> None:
    lines = [
        "# Latent-space analysis",
        "",
        f"`{report['latents']}`: n = {report['n']:,} points, {report['dim']} components.",
        "",
    ]
    comps = report["components"]
    centres = sorted(c["gauss"]["centre"] for c in comps)
    widths = sorted(c["fwhm"] for c in comps)
    mid = len(comps) // 2
    lines += [
        "## Components",
        "",
        f"Gaussian-fit centres: median {centres[mid]:+.3f} (range {centres[0]:+.3f} to {centres[-1]:+.3f}); "
        f"half-widths (FWHM): median {widths[mid]:.3f} (range {widths[0]:.3f} to {widths[-1]:.3f}).",
        "",
        "Dominant components (centre or width far from the rest): "
        + (", ".join(f"z{j}" for j in report["dominant"]) or "none"),
        "",
        *_component_counts(report.get("component_counts")),
        "| component | mean | std | half-width | fit centre | fit sigma |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    shown = report["dominant"][:20] or list(range(min(8, len(comps))))
    for j in shown:
        c = comps[j]
        lines.append(
            f"| z{j} | {c['mean']:+.3f} | {c['std']:.3f} | {c['fwhm']:.3f} | {c['gauss']['centre']:+.3f} | "
            f"{c['gauss']['sigma']:.3f} |"
        )
    r = report["radius"]
    region = report.get("region")
    shell = " | shell |" if region else " |"
    lines += [
        "",
        "## Radius and generators",
        "",
        f"Data radius: mean {r['mean']:.3f}, std {r['std']:.3f}, peak {r['peak']:.3f}.",
        "",
        "| generator | radius mean | (expected) | radius std | (expected) | "
        + " | ".join(f"hit k={k}" for k in report["data_hit_fraction"])
        + shell,
        "| --- | --- | --- | --- | --- | "
        + " | ".join("---" for _ in report["data_hit_fraction"])
        + (" | --- |" if region else " |"),
        "| *the data itself* | | | | | "
        + " | ".join(f"{v:.3f}" for v in report["data_hit_fraction"].values())
        + (f" | {region['data_shell_fraction']:.3f} |" if region else " |"),
    ]
    fmt = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
    for g in report["generators"]:
        lines.append(
            f"| {g['name']} | {g['radius_mean']:.3f} | {fmt(g['expected_radius_mean'])} | {g['radius_std']:.3f}"
            f" | {fmt(g['expected_radius_std'])} | "
            + " | ".join(_share(g, k) for k in g["hit_fraction"])
            + (f" | {_share_of(g.get('shell_fraction'), g.get('shell_interval'))} |" if region else " |")
        )
    draws = report["generators"][0].get("hit_draws") if report["generators"] else None
    lines += [
        "",
        "Hit: every component within k x half-width of the data's component centre"
        + (f"; {draws:,} z-points per generator, [Wilson's 95 % interval]." if draws else "."),
    ]
    if region:
        s = region["shell"]
        lines += [
            "",
            f"Shell: Mahalanobis distance from the fitted normal and radius each between the data's own "
            f"{s['shares'][0]:.0%} and {s['shares'][1]:.0%} percentiles ({s['low']:.2f} to {s['high']:.2f}; radius "
            f"{s['radius_low']:.2f} to {s['radius_high']:.2f}; from {s['points']:,} sampled rows): the region the "
            "data fill, whatever their shape.",
        ]
        inside = [k for k, held in region["box_holds_origin"].items() if held]
        if inside:
            lines += [
                "",
                f"**The hit test's box holds the origin at k = {', '.join(inside)}**: no component lies that "
                "many half-widths off 0, so every uniform box around 0 lands in it whatever the data's shape "
                "there. Read the shell column (and coverage) for those k.",
            ]
    lines += ["", "## Correlations", "", "| pair | r |", "| --- | --- |"]
    lines += [f"| z{p['i']}, z{p['j']} | {p['r']:+.3f} |" for p in report["correlations"]["top_pairs"]]
    lines += _ellipses_markdown(report.get("ellipses", []), "z", "## Ellipses: pairs of components")
    pca = report["pca"]
    cum = pca["cumulative"]
    reach = lambda f: next((i + 1 for i, v in enumerate(cum) if v >= f), len(cum))  # noqa: E731
    lines += [
        "",
        "## PCA",
        "",
        f"Components for 50 / 80 / 95 % of the variance: {reach(0.5)} / {reach(0.8)} / {reach(0.95)}.",
        f"Leading ratios: {', '.join(f'{v:.3f}' for v in pca['explained_variance_ratio'][:8])}.",
        "",
    ]
    if "max_offdiagonal_correlation" in pca:
        lines.append(
            f"- largest correlation left between two PC coordinates: {pca['max_offdiagonal_correlation']:.1e} "
            f"(post IX: below 2e-7)"
        )
    for t in pca["trimmed"]:
        subset = f"; its PCA on {t['pca_points']:,} of them" if t.get("pca_points", t["kept"]) != t["kept"] else ""
        lines.append(
            f"- trimmed at {t['fact']:g} x half-width: {t['kept']:,} points kept ({t['kept_fraction']:.1%}){subset}"
        )
    lines += _ellipses_markdown(pca.get("ellipses", []), "PC", "## Ellipses: pairs of principal components")
    for t in pca["trimmed"]:
        lines += _ellipses_markdown(
            t.get("ellipses", []),
            "PC",
            f"## Trimmed at {t['fact']:g} x half-width: pairs of its own principal components ({t['kept']:,} points)",
        )
    if "mixture" in report:
        m = report["mixture"]
        lines += [
            "",
            "## Gaussian mixture",
            "",
            f"{m['components']} components chosen by BIC on {m['points']:,} points "
            f"(tried {', '.join(m['bic'])}); weights {', '.join(f'{w:.3f}' for w in m['weights'])}.",
        ]
    if "nearest_neighbours" in report:
        nn = report["nearest_neighbours"]
        lines += [
            "",
            "## Nearest-neighbour distances",
            "",
            f"{nn['points']:,} points per set. A data/generator median ratio well below 1 means filaments or "
            "fragments the generator smears out.",
            "",
            "| set | 10 % | median | 90 % | median ratio | KS statistic |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, row in nn["sets"].items():
            q = row["quantiles"]
            extra = f"{row['median_ratio']:.3f} | {row['ks_statistic']:.3f}" if "median_ratio" in row else " | "
            lines.append(f"| {name} | {q['0.1']:.4g} | {q['0.5']:.4g} | {q['0.9']:.4g} | {extra} |")
    if "tsne" in report:
        tsne = report["tsne"]
        settings = (
            f", perplexity {tsne['perplexity']:g}, early exaggeration {tsne['early_exaggeration']:g}"
            if "perplexity" in tsne
            else ""
        )
        settings += (
            f", {tsne['iterations']} iterations ({tsne['early_exaggeration_iterations']} exaggerated)"
            if "iterations" in tsne
            else ""
        )
        source = f" ({tsne['input']})" if "input" in tsne else ""
        lines += ["", "## t-SNE", "", f"{tsne['points']:,} points, {tsne['input_dims']} input dims{source}{settings}."]
    if "kmeans" in report:
        k = report["kmeans"]
        lines += (
            ["", "## KMeans", ""]
            + ([f"The elbow of the inertia curve: k = {k['elbow']}.", ""] if k.get("elbow") is not None else [])
            + ["| k | inertia |", "| --- | --- |"]
        )
        lines += [f"| {a} | {b:,.1f} |" for a, b in zip(k["k"], k["inertia"])]
    lines += _quality_markdown(report)
    lines += _peers_markdown(report)
    if report.get("figures"):
        lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in report["figures"]]
    write_text(path, "\n".join(lines) + "\n")


def _quality_markdown(report: Mapping[str, Any]) -> list[str]:
    """Where the holes are: coverage, re-encoding, fragments, intrinsic dimension, reconstructions, VAE health."""
    lines = []
    if "coverage" in report:
        ids, re = report.get("intrinsic_dimension", {}), report.get("reencoding", {}).get("generators", {})
        first = next(iter(report["coverage"].values()))
        lines += [
            "",
            "## Coverage of the generators",
            "",
            f"Precision, recall, density and coverage (Naeem et al. 2020; k = {first['k']}, {first['n']:,} points "
            "per set), the TwoNN intrinsic dimension"
            + (
                ", and the re-encoding distance ||E(D(z)) - z|| (median; data's own: "
                f"{report['reencoding']['data']['median']:.3g})"
                if re
                else ""
            )
            + ".",
            "",
            "| generator | precision | recall | density | coverage | intrinsic dim. |"
            + (" re-encoding median | ratio to data |" if re else ""),
            "| --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if re else ""),
        ]
        for name, c in report["coverage"].items():
            row = (
                f"| {name} | {c['precision']:.3f} | {c['recall']:.3f} | {c['density']:.3f} | {c['coverage']:.3f} | "
                f"{ids.get('generators', {}).get(name, float('nan')):.1f} |"
            )
            if re:
                row += f" {re[name]['median']:.3g} | {re[name]['median_ratio']:.2f} |"
            lines.append(row)
        if ids:
            lines.append(f"| data | | | | | {ids['data']:.1f} |" + (" | |" if re else ""))
    if "fragments" in report:
        f = report["fragments"]
        lines += [
            "",
            "## Fragments",
            "",
            f"k-NN graph (k = {f['k']}, {f['n']:,} points): {f['knn_components']} connected components, the largest "
            f"holding {f['largest_component_fraction']:.1%}; HDBSCAN (min cluster size {f['hdbscan_min_cluster_size']}): "
            f"{f['hdbscan_clusters']} clusters, {f['hdbscan_noise_fraction']:.1%} noise.",
        ]
    if report.get("reconstruction"):
        lines += [
            "",
            "## Reconstruction quality",
            "",
            "| partition | images | MSE | PSNR (dB) | SSIM |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {p} | {q['n']:,} | {q['mse']:.5f} | {q['psnr']:.2f} | {q['ssim']:.4f} |"
            for p, q in report["reconstruction"].items()
        ]
    if "vae" in report:
        v = report["vae"]
        lines += [
            "",
            "## VAE health",
            "",
            f"{v['active_units']} of {v['dims']} dimensions active (variance of E[z|x] over the data > {v['threshold']:g}); "
            f"KL {v['kl_total']:.3f} nats per image in all"
            + (": posterior collapse, most dimensions inactive." if v["collapsed"] else "."),
        ]
        lines += _vae_internals(v)
    for skipped in report.get("quality_skipped", []):
        lines += ["", f"Not measured: {skipped['what']} ({skipped['why']})."]
    if "mig" in report.get("disentanglement", {}):
        d = report["disentanglement"]
        lines += [
            "",
            "## Disentanglement",
            "",
            f"Against the store's {d['source']} ({', '.join(d['factors'])}; {d['n']:,} images): MIG {d['mig']:.3f}, "
            f"DCI disentanglement {d['dci']['disentanglement']:.3f}, completeness {d['dci']['completeness']:.3f}, "
            f"informativeness {d['dci']['informativeness']:.3f} (held-out R^2), SAP {d['sap']:.3f}.",
        ]
    if "mismatch" in report:
        mm = report["mismatch"]
        lines += [
            "",
            "## Prior mismatch",
            "",
            f"MMD^2 between the data and each generator ({mm['n']:,} points each; Gaussian kernel, bandwidth the "
            "median pairwise distance; p-value by permutation: below 0.01, the generator's points are not the "
            "data's distribution).",
            "",
            "| generator | MMD^2 | p-value |",
            "| --- | --- | --- |",
        ]
        lines += [f"| {name} | {m['mmd2']:.4g} | {m['p_value']:.3g} |" for name, m in mm["mmd"].items()]
        if "vae" in mm:
            v = mm["vae"]
            lines += [
                "",
                f"VAE: mutual information I(x; z) = {v['mutual_information']:.3f} nats (at most log n = "
                f"{v['log_m']:.2f} with this estimator), aggregate KL(q(z) || p(z)) = {v['aggregate_kl']:.3f}; "
                f"they add up to the mean KL term {v['kl_term']:.3f}.",
            ]
    if "atlas" in report:
        atlas = report["atlas"]
        lines += [
            "",
            "## Hole atlas",
            "",
            f"Per generator, a classifier between the data and its draws ({atlas['n']:,} points each; "
            f"{atlas['folds']}-fold cross-fitted) estimates r = q/p: the C2ST's accuracy on a held-out half and "
            "its binomial p-value beside the MMD's; the median log r of the generator's draws (above 0: they sit "
            "where the data is thinner) and of the data's points (below 0: data the generator misses). "
            "Figures: atlas_*.png.",
            "",
            "| generator | C2ST accuracy | C2ST p | MMD p | median log r, draws | median log r, data |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, g in atlas["generators"].items():
            mmd = f"{g['mmd_p_value']:.3g}" if "mmd_p_value" in g else ""
            lines.append(
                f"| {name} | {g['c2st_accuracy']:.3f} | {g['c2st_p_value']:.3g} | {mmd} | "
                f"{g['log_ratio_generator']['p50']:.3g} | {g['log_ratio_data']['p50']:.3g} |"
            )
        if "sampler" in atlas:
            sampler = atlas["sampler"]
            lines += [
                "",
                f"The reweighted generator accepts the fitted normal's draws with probability min(1, (1/r)/M): it "
                f"keeps {sampler['acceptance_rate']:.0%} of them (M the {sampler['bound_quantile']:g} quantile of 1/r).",
            ]
    return lines


def _share(g: Mapping[str, Any], k: str) -> str:
    """A generator's hit fraction at k, with its interval where the report has one."""
    return _share_of(g["hit_fraction"][k], g.get("hit_interval", {}).get(k))


def _share_of(share: float | None, interval: list[float] | None) -> str:
    if share is None:
        return ""
    return f"{share:.4f}" + (f" [{interval[0]:.4f}, {interval[1]:.4f}]" if interval else "")


def _ellipses_markdown(rows: list, prefix: str, title: str) -> list[str]:
    """Share of the points inside each pair's fitted 1, 2, 3 sigma ellipses, against a 2-D Gaussian's."""
    if not rows:
        return []
    lines = [
        "",
        title,
        "",
        "Share of all points inside the fitted normal's k-sigma ellipse; a 2-D Gaussian puts "
        "39.3 / 86.5 / 98.9 % there.",
        "",
        "| pair | r | 1 sigma | 2 sigma | 3 sigma |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in rows:
        i, j = e["pair"]
        lines.append(
            f"| {prefix}{i}, {prefix}{j} | {e['r']:+.3f} | "
            + " | ".join(f"{100 * e['fraction_inside'][k]:.1f} %" for k in ("1", "2", "3"))
            + " |"
        )
    return lines


def _vae_internals(v: dict) -> list[str]:
    """Post XIII's numbers of a VAE's internals: log-variances, |z - mu|, the radius of z against mu's."""
    lines = []
    if "logvar_values" in v:
        lv = v["logvar_values"]
        lines += [
            "",
            "### VAE internals (post XIII's numbers)",
            "",
            f"- log-variance over all {lv['values']:,} values: max {lv['max']:.4g}, min {lv['min']:.4g}, "
            f"mean {lv['mean']:.4g}; {lv['at_least_minus_3']:,} values at or above -3 (post XIII, tiny KL "
            "factor: 2 of 43.5 million, mean about -13.7)",
        ]
    if "z_minus_mu" in v:
        g = v["z_minus_mu"]
        lines.append(
            f"- |z - mu|: max {g['max_abs']:.4g}, mean {g['mean_abs']:.4g}; {g.get('above_0.05', 0):,} of "
            f"{g.get('values', 0):,} values above 0.05 (post XIII: max 0.26, 5 values)"
        )
    if "difference" in v.get("radius", {}):
        r, d = v["radius"], v["radius"]["difference"]
        lines.append(
            f"- radius by z: mean {r['z']['mean']:.6g} (min {r['z']['min']:.4g}, max {r['z']['max']:.4g}); "
            f"by mu: mean {r['mu']['mean']:.6g} (min {r['mu']['min']:.4g}, max {r['mu']['max']:.4g}); "
            f"|difference| mean {d['mean_abs']:.3g}, max {d['max_abs']:.3g}; relative mean "
            f"{d['mean_relative']:.3g}, max {d['max_relative']:.3g} (post XIII: 6e-5 and 7e-4)"
        )
    if "eps_clip" in v:
        c = v["eps_clip"]
        lines.append(
            f"- noise: eps clipped to +-{c['bound']:g} (post XIII's fix), eps factor {c['eps_factor']:g}: "
            f"{c['clipped']:,} of {c['values']:,} values at the clip (a standard normal passes 5 in "
            "5.7e-7 of draws)"
        )
    return lines


def _component_counts(counts: Mapping[str, Any] | None) -> list[str]:
    """Post II's table: components by fitted centre and half-width, beside the post's bounds."""
    if not counts:
        return []
    bound = counts["post_ii_at_most"]
    rows = [(f"fitted centre \\|mu\\| >= {v}", counts["centre"][v], bound["centre"].get(v)) for v in counts["centre"]]
    rows += [(f"half-width >= {v}", counts["half_width"][v], bound["half_width"].get(v)) for v in counts["half_width"]]
    return [
        "Post II's counts (its case II, 256 components: at most the number given):",
        "",
        "| components with | here | of | post II |",
        "| --- | --- | --- | --- |",
        *[f"| {what} | {n} | {counts['dims']} | <= {b} |" for what, n, b in rows],
        "",
    ]


def _peers_markdown(report: Mapping[str, Any]) -> list[str]:
    """The numbers other tools report: total correlation, local dimension, log-likelihood, memorization."""
    lines = ["", "## The numbers other tools report", ""]
    if "total_correlation" in report:
        tc = report["total_correlation"]
        lines.append(f"- Gaussian total correlation: {tc['gaussian']:.4g} nats over {tc['dims']} components.")
    if report.get("local_dimension", {}).get("n"):
        ld = report["local_dimension"]
        lines.append(
            f"- Local intrinsic dimension ({ld['n']:,} points, k = {ld['k']}): median {ld['median']:.2f}, "
            f"10th-90th percentile {ld['p10']:.2f}-{ld['p90']:.2f}."
        )
    if "log_likelihood" in report:
        ll = report["log_likelihood"]
        lines.append(
            f"- Importance-weighted log-likelihood ({ll['images']} {ll['partition']} images, k = {ll['k']}): "
            f"{ll['mean']:.2f} +- {ll['standard_error']:.2f} {ll['units']} (ELBO, k = 1: {ll['per_k']['1']:.2f}); "
            f"decoder: {ll['likelihood']}."
        )
    if "traversal" in report:
        t = report["traversal"]
        lines.append(f"- Traversal rows (by {t['ordered_by']}): {', '.join(f'z{d}' for d in t['dims'])}.")
    if "memorization" in report:
        m = report["memorization"]
        lines += ["", f"Memorization against {m['training_images']:,} training images:", ""]
        lines += [
            "| generator | share < training p5 | share < training median | median ratio |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {key} | {g['share']:.3f} | {g['share_below_median']:.3f} | {g['median_ratio']:.3f} |"
            for key, g in m["generators"].items()
        ]
    lines += [f"- {s['what']} skipped: {s['why']}" for s in report.get("peers_skipped", [])]
    return lines if len(lines) > 3 else []
