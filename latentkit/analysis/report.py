"""report.md: the analysis in tables a person reads first."""

from __future__ import annotations

from pathlib import Path

from latentkit.core import write_text


def write_markdown(path: Path, report: dict) -> None:
    lines = ["# Latent-space analysis", "", f"`{report['latents']}`: n = {report['n']:,} points, {report['dim']} components.", ""]
    comps = report["components"]
    centres = sorted(c["gauss"]["centre"] for c in comps)
    widths = sorted(c["fwhm"] for c in comps)
    mid = len(comps) // 2
    lines += ["## Components", "",
              f"Gaussian-fit centres: median {centres[mid]:+.3f} (range {centres[0]:+.3f} to {centres[-1]:+.3f}); "
              f"half-widths (FWHM): median {widths[mid]:.3f} (range {widths[0]:.3f} to {widths[-1]:.3f}).", "",
              "Dominant components (centre or width far from the rest): "
              + (", ".join(f"z{j}" for j in report["dominant"]) or "none"), "",
              "| component | mean | std | half-width | fit centre | fit sigma |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    shown = report["dominant"][:20] or list(range(min(8, len(comps))))
    for j in shown:
        c = comps[j]
        lines.append(f"| z{j} | {c['mean']:+.3f} | {c['std']:.3f} | {c['fwhm']:.3f} | {c['gauss']['centre']:+.3f} | "
                     f"{c['gauss']['sigma']:.3f} |")  # fmt: skip
    r = report["radius"]
    lines += ["", "## Radius and generators", "",
              f"Data radius: mean {r['mean']:.3f}, std {r['std']:.3f}, peak {r['peak']:.3f}.", "",
              "| generator | radius mean | (expected) | radius std | (expected) | "
              + " | ".join(f"hit k={k}" for k in report["data_hit_fraction"]) + " |",
              "| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in report["data_hit_fraction"]) + " |",
              "| *the data itself* | | | | | " + " | ".join(f"{v:.3f}" for v in report["data_hit_fraction"].values()) + " |"]  # fmt: skip
    fmt = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
    for g in report["generators"]:
        lines.append(f"| {g['name']} | {g['radius_mean']:.3f} | {fmt(g['expected_radius_mean'])} | {g['radius_std']:.3f}"
                     f" | {fmt(g['expected_radius_std'])} | "
                     + " | ".join(f"{v:.4f}" for v in g["hit_fraction"].values()) + " |")  # fmt: skip
    lines += ["", "Hit: every component within k x half-width of the data's component centre.", "",
              "## Correlations", "", "| pair | r |", "| --- | --- |"]  # fmt: skip
    lines += [f"| z{p['i']}, z{p['j']} | {p['r']:+.3f} |" for p in report["correlations"]["top_pairs"]]
    pca = report["pca"]
    cum = pca["cumulative"]
    reach = lambda f: next((i + 1 for i, v in enumerate(cum) if v >= f), len(cum))  # noqa: E731
    lines += ["", "## PCA", "", f"Components for 50 / 80 / 95 % of the variance: {reach(.5)} / {reach(.8)} / {reach(.95)}.",
              f"Leading ratios: {', '.join(f'{v:.3f}' for v in pca['explained_variance_ratio'][:8])}.", ""]  # fmt: skip
    for t in pca["trimmed"]:
        lines.append(f"- trimmed at {t['fact']:g} x half-width: {t['kept']:,} points kept ({t['kept_fraction']:.1%})")
    if "mixture" in report:
        m = report["mixture"]
        lines += ["", "## Gaussian mixture", "",
                  f"{m['components']} components chosen by BIC on {m['points']:,} points "
                  f"(tried {', '.join(m['bic'])}); weights {', '.join(f'{w:.3f}' for w in m['weights'])}."]  # fmt: skip
    if "nearest_neighbours" in report:
        nn = report["nearest_neighbours"]
        lines += ["", "## Nearest-neighbour distances", "",
                  f"{nn['points']:,} points per set. A data/generator median ratio well below 1 means filaments or "
                  "fragments the generator smears out.", "",
                  "| set | 10 % | median | 90 % | median ratio | KS statistic |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for name, row in nn["sets"].items():
            q = row["quantiles"]
            extra = f"{row['median_ratio']:.3f} | {row['ks_statistic']:.3f}" if "median_ratio" in row else " | "
            lines.append(f"| {name} | {q['0.1']:.4g} | {q['0.5']:.4g} | {q['0.9']:.4g} | {extra} |")
    if "tsne" in report:
        lines += ["", "## t-SNE", "", f"{report['tsne']['points']:,} points, {report['tsne']['input_dims']} input dims."]
    if "kmeans" in report:
        k = report["kmeans"]
        lines += ["", "## KMeans", "", "| k | inertia |", "| --- | --- |"]
        lines += [f"| {a} | {b:,.1f} |" for a, b in zip(k["k"], k["inertia"])]
    if report.get("figures"):
        lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in report["figures"]]
    write_text(path, "\n".join(lines) + "\n")
