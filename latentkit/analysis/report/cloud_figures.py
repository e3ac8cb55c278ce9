"""The cloud's figures (analyze's passes): ``draw_all`` and the components, radius, neighbours,
correlation, t-SNE, k-means and uniform generators' figures; those on the principal axes and in
pairs are in ``pca_figures``, what every figure shares in ``drawing``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentkit.analysis.measures.stats import gaussian
from latentkit.analysis.report.drawing import (
    _SET_COLOURS,
    DATA_COLOUR,
    generator_colour,
    legend_outside,
    plt,
    save_figure,
)
from latentkit.analysis.report.pca_figures import (
    ellipses_figure,
    pc_ellipses_figure,
    pc_histograms_figure,
    pc_scatter_figure,
    pca_figure,
    trimmed_figures,
)


def draw_all(
    out: Path, *, report, components, radius, pcs, pc_scale, fit, corr, sample, projected, pairs, options, trims=()
) -> list[str]:
    names = [
        components_figure(out, components, report),
        dominant_figure(out, components, report),
        radius_figure(out, radius, report),
        correlation_figure(out, corr),
        *([radius_dimension_figure(out, report)] if "radius_by_dimension" in report else []),
        uniform_components_figure(out, components, report, fit, options),
        uniform_cube_figure(out, options.seed),
        ellipses_figure(out, sample, fit, pairs, report),
        pca_figure(out, report, options.pca_show),
        *([pc_histograms_figure(out, pcs, pc_scale, report)] if len(pc_scale) else []),
        pc_scatter_figure(out, projected),
    ]
    if report["pca"].get("ellipses"):
        drawn = pc_ellipses_figure(out, projected, report)
        assert drawn is not None, "there are ellipses: it drew them"
        names.append(drawn)
    names += trimmed_figures(out, report, trims)
    if "tsne" in report:
        names.append(tsne_figure(out, np.load(report["tsne"]["embedding"])))
    if "kmeans" in report:
        names.append(kmeans_figure(out, report["kmeans"]))
    if "nearest_neighbours" in report:
        names.append(nn_figure(out, report["nearest_neighbours"]))
    return names


def components_figure(out, components, report) -> str:
    fig, ax = plt.subplots(figsize=(9, 5))
    for counts in components.counts_:
        ax.plot(components.centres_, counts, lw=0.6, alpha=0.35)
    ax.set(
        title=f"Histogram of each of the {report['dim']} components (one line each, n = {report['n']:,})",
        xlabel="component value z_j",
        ylabel="images per bin",
    )
    return save_figure(fig, out / "components.png")


def dominant_figure(out, components, report) -> str:
    chosen = report["dominant"][:12] or [int(np.argmax([c["fwhm"] for c in report["components"]]))]
    fig, ax = plt.subplots(figsize=(9, 5))
    for j in chosen:
        g = report["components"][j]["gauss"]
        line = ax.plot(components.centres_, components.counts_[j], lw=1.2, label=f"z{j}")[0]
        # The fit's amplitude is per standardised bin: rescale to the common bins' width.
        bin_ratio = (components.centres_[1] - components.centres_[0]) / (
            12 / components.bins * report["components"][j]["std"] or 1
        )
        ax.plot(
            components.centres_,
            gaussian(components.centres_, g["centre"], g["sigma"], g["amplitude"] * bin_ratio),
            ls="--",
            color=line.get_color(),
            lw=0.8,
        )
    title = "Dominant components" if report["dominant"] else "No dominant component; widest shown"
    ax.set(
        title=f"{title}: histograms (solid) and Gaussian fits (dashed)",
        xlabel="component value",
        ylabel="images per bin",
    )
    legend_outside(ax)
    return save_figure(fig, out / "dominant.png")


def radius_figure(out, radius, report) -> str:
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for g in report["generators"]:
        lo, hi = g["radii_range"]
        edges = np.linspace(lo, hi, len(g["radii"]) + 1)
        h = np.asarray(g["radii"], float)
        ax.plot(
            (edges[:-1] + edges[1:]) / 2,
            h / max(h.max(), 1),
            lw=1.3,
            color=generator_colour(g["method"], g["params"].get("b")),
            label=g["name"],
        )
    counts = radius.counts_[0]
    ax.fill_between(radius.centres_, counts / counts.max(), color=DATA_COLOUR, alpha=0.15, lw=0)
    ax.plot(radius.centres_, counts / counts.max(), lw=2.2, color=DATA_COLOUR, label=f"data ({report['n']:,} images)")
    ax.set(
        title=f"Distance from the origin of the data's z-points and of generated ones ({report['dim']} dims)",
        xlabel="radius |z| (L2 norm)",
        ylabel="density (each curve scaled to peak 1)",
        ylim=(0, 1.08),
    )
    legend_outside(ax)
    return save_figure(fig, out / "radius.png")


def nn_figure(out, nn) -> str:
    fig, ax = plt.subplots(figsize=(10, 4.8))
    edges = np.asarray(nn["edges"])
    centres = np.sqrt(edges[:-1] * edges[1:])
    for name, row in nn["sets"].items():
        counts = np.asarray(row["counts"], float)
        ratio = f", median ratio {row['median_ratio']:.2f}" if "median_ratio" in row else ""
        ax.plot(
            centres,
            counts / max(counts.sum(), 1),
            lw=2.2 if name == "data" else 1.4,
            color=_SET_COLOURS.get(name, DATA_COLOUR),
            label=f"{name}{ratio}",
        )
    ax.set(
        xscale="log",
        title=f"Distance to the nearest neighbour, {nn['points']:,} points per set",
        xlabel="nearest-neighbour distance (log scale)",
        ylabel="fraction of points per bin",
    )
    legend_outside(ax)
    return save_figure(fig, out / "nn_distances.png")


def correlation_figure(out, corr) -> str:
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(image, ax=ax, label="Pearson r")
    ax.set(title="Correlation between components", xlabel="component", ylabel="component")
    return save_figure(fig, out / "correlation.png")


def tsne_figure(out, embedding) -> str:
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.scatter(embedding[:, 0], embedding[:, 1], s=1, alpha=0.4)
    ax.set(title=f"t-SNE of {len(embedding):,} points", xticks=[], yticks=[])
    return save_figure(fig, out / "tsne.png")


def kmeans_figure(out, kmeans) -> str:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(kmeans["k"], kmeans["inertia"], marker="o")
    if kmeans.get("elbow") is not None:
        ax.axvline(kmeans["elbow"], color="tab:red", ls="--", lw=0.8, label=f"elbow: k = {kmeans['elbow']}")
        ax.legend(frameon=False)
    ax.set(
        title=f"KMeans inertia against the number of clusters ({kmeans['points']:,} points)",
        xlabel="clusters k",
        ylabel="inertia (sum of squared distances)",
    )
    return save_figure(fig, out / "kmeans.png")


def radius_dimension_figure(out: Path, report) -> str:
    """radius_vs_dim.png: the radius of uniform [-b, b]^N and standard normal z-points against N
    (formula: line and +-1 sd band; drawn: dots), with the data's radius at its own N."""
    found = report["radius_by_dimension"]
    dims = np.asarray(found["dims"])
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    for row in found["generators"]:
        b = float(row["name"].split("=")[1]) if "=" in row["name"] else None
        colour = generator_colour("uniform" if b is not None else "normal", b)
        mean, sd = np.asarray(row["mean"]), np.asarray(row["std"])
        ax.plot(dims, mean, color=colour, lw=1.2, label=row["name"])
        ax.fill_between(dims, mean - sd, mean + sd, color=colour, alpha=0.2)
        ax.plot(dims, row["drawn_mean"], "o", ms=2.5, color=colour)
    r = report["radius"]
    ax.errorbar(
        [report["dim"]],
        [r["mean"]],
        yerr=[r["std"]],
        fmt="*",
        ms=12,
        color="black",
        capsize=4,
        label=f"the data (N = {report['dim']})",
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="dimension N",
        ylabel="radius ||z||",
        title="Radius against the dimension (lines: formulas with +-1 sd, dots: drawn)",
    )
    legend_outside(ax)
    return save_figure(fig, out / "radius_vs_dim.png")


def uniform_components_figure(out: Path, components, report, fit, options) -> str:
    """uniform_components.png (post II): every component's histogram, the data's beside those of
    the uniform [-b, b] generators' z-points (drawn by the generators themselves), on one range,
    as densities: the uniforms' flat boxes against the data's narrow, mostly centred bells."""
    from latentkit.analysis.generators import generators_of

    uniforms = [g for g in generators_of(fit, options.uniform_bs) if g.method == "uniform"]
    reach = max([abs(components.low), abs(components.high)] + [g.params["b"] for g in uniforms])
    edges = np.linspace(-1.05 * reach, 1.05 * reach, 121)
    shown = min(report["dim"], 64)  # the first 64 components: enough lines to see the shape
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8), sharex=True)
    width = components.edges_[1] - components.edges_[0]
    for counts in components.counts_[:shown]:
        axes[0].plot(components.centres_, counts / max(counts.sum() * width, 1), lw=0.6, alpha=0.4, color=DATA_COLOUR)
    axes[0].set(
        title=f"the data: {shown} of {report['dim']} components' histograms",
        xlabel="component value z_j",
        ylabel="density",
    )
    rng = np.random.default_rng([options.seed, 45])
    for generator in uniforms:
        z = generator.sample(rng, 4_000, fit)[:, :shown]
        colour = generator_colour("uniform", generator.params["b"])
        for j in range(z.shape[1]):
            density, _ = np.histogram(z[:, j], bins=edges, density=True)
            axes[1].plot(
                (edges[:-1] + edges[1:]) / 2,
                density,
                lw=0.6,
                alpha=0.5,
                color=colour,
                label=generator.name if j == 0 else None,
            )
    axes[1].set(
        title="uniform generators: every component flat on [-b, b] (4,000 z-points each)",
        xlabel="component value z_j",
        ylabel="density",
    )
    legend_outside(axes[1])
    fig.suptitle("Per-component distributions: the data against the uniform generators (post II)", fontsize=11)
    return save_figure(fig, out / "uniform_components.png")


def uniform_cube_figure(out: Path, seed: int = 0, *, points: int = 200, b: float = 10.0) -> str:
    """uniform_cube.png (post II): ``points`` z-points uniform in the cube [0, b]^3, its three planes
    and in 3-D, the origin in violet. Regions that need two or three coordinates near an edge at
    once are nearly empty by plain statistics: the stripe x0 in [0, b/10], x1 in [0.9 b, b] holds
    1/100 of the points on average, the corner [0, b/10]^3 1/1000, what the shell of N dimensions
    grows from."""
    z = np.random.default_rng([seed, 46]).uniform(0, b, (points, 3))
    stripe = (z[:, 0] <= b / 10) & (z[:, 1] >= 0.9 * b)
    corner = (z <= b / 10).all(axis=1)
    fig = plt.figure(figsize=(17, 4.4))
    for i, (a, c) in enumerate(((0, 1), (0, 2), (1, 2))):
        ax = fig.add_subplot(1, 4, i + 1)
        ax.scatter(z[:, a], z[:, c], s=6, color="0.35")
        ax.scatter(z[stripe, a], z[stripe, c], s=18, color="tab:red", label="in the x0-x1 edge stripe")
        ax.set(
            xlim=(0, b),
            ylim=(0, b),
            xlabel=f"x{a}",
            ylabel=f"x{c}",
            aspect="equal",
            title=f"x{a}-x{c} plane: every area looks covered",
        )
    ax = fig.add_subplot(1, 4, 4, projection="3d")
    ax.scatter(z[:, 0], z[:, 1], z[:, 2], s=5, color="0.35")
    ax.scatter(z[stripe, 0], z[stripe, 1], z[stripe, 2], s=18, color="tab:red")
    ax.scatter([0], [0], [0], s=60, color="darkviolet", label="origin")
    ax.set(xlabel="x0", ylabel="x1", zlabel="x2", title="in 3-D: edges and corners nearly empty")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.axes[0].legend(loc="upper right", fontsize=8, framealpha=0.9)
    fig.suptitle(
        f"{points} points uniform in [0, {b:g}]^3: the edge stripe holds {int(stripe.sum())} (expected "
        f"{points / 100:g}), the corner cube [0, {b / 10:g}]^3 {int(corner.sum())} (expected {points / 1000:g})",
        fontsize=11,
    )
    return save_figure(fig, out / "uniform_cube.png")
