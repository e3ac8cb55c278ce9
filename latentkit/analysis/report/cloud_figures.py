"""The cloud's figures (analyze's passes), drawn with matplotlib's Agg
backend and written atomically, and what every figure shares (``save_figure``, one colour per
generator). The figures of a run's model and of runs side by side are in ``run_figures``: the
other modules of the analysis room compute, these two draw."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from latentkit.analysis.measures.stats import ellipse_points, gaussian
from latentkit.core import atomic_write
from latentkit.model.images import SOFTWARE

DATA_COLOUR = "black"
_UNIFORM_SHADES = {0.5: "#fdd0a2", 1.0: "#fdae6b", 1.5: "#fd8d3c", 2.0: "#f16913", 3.0: "#d94801", 5.0: "#8c2d04"}
_METHOD_COLOURS = {"normal": "tab:purple", "component": "tab:gray", "mvn": "tab:blue", "gmm": "tab:green"}
_SET_COLOURS = {"multivariate normal": _METHOD_COLOURS["mvn"], "gaussian mixture": _METHOD_COLOURS["gmm"]}


def generator_colour(method: str, b: float | None = None) -> str:
    """One colour per generator, the same in every figure (and in compare): uniform in oranges by b."""
    if method == "uniform":
        assert b is not None, "a uniform generator has its b"
        return _UNIFORM_SHADES.get(float(b), "#e6550d")
    return _METHOD_COLOURS.get(method, "tab:olive")


def _legend_outside(ax, **kwargs) -> None:
    """A legend to the right of the axes, where it covers no data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, **kwargs)


def save_figure(fig, path: Path) -> str:
    """Write ``fig`` as a PNG atomically and close it; the file's name."""
    try:
        with atomic_write(path) as handle:
            # tagged as latentkit's (as save_png tags grids): a later run may replace it, nothing else
            fig.savefig(
                handle, format="png", dpi=110, bbox_inches="tight", metadata={"Software": f"{SOFTWARE} (matplotlib)"}
            )
    finally:
        plt.close(fig)
    return path.name


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
    _legend_outside(ax)
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
    _legend_outside(ax)
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
    _legend_outside(ax)
    return save_figure(fig, out / "nn_distances.png")


def correlation_figure(out, corr) -> str:
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(image, ax=ax, label="Pearson r")
    ax.set(title="Correlation between components", xlabel="component", ylabel="component")
    return save_figure(fig, out / "correlation.png")


def ellipses_figure(out, sample, fit, pairs, report) -> str:
    """ellipses.png: for each pair of components, the points, histogram contours, kernel density
    contours and the fitted normal's 1, 2, 3 sigma ellipses with the share of all points inside."""
    panels = [
        (f"z{i}", f"z{j}", sample[:, [i, j]], fit.mean[[i, j]], fit.cov[np.ix_([i, j], [i, j])], found)
        for (i, j), found in zip(pairs, report["ellipses"])
    ]
    return _ellipse_panels(out / "ellipses.png", panels, "components")


def pc_ellipses_figure(out, projected, report) -> str | None:
    """pc_ellipses.png: the same in principal-component coordinates (PC pairs, ``--pc-pairs``)."""
    values = np.asarray(report["pca"]["eigenvalues"])
    panels = [
        (f"PC{a}", f"PC{b}", projected[:, [a, b]], np.zeros(2), np.diag(np.clip(values[[a, b]], 0, None)), found)
        for found in report["pca"]["ellipses"]
        for a, b in [found["pair"]]
    ]
    return _ellipse_panels(out / "pc_ellipses.png", panels, "principal components") if panels else None


def _ellipse_panels(path: Path, panels, what: str) -> str:
    rows, cols = _grid(len(panels), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 5.2 * rows), squeeze=False)
    fig.subplots_adjust(hspace=0.45)
    for ax, panel in zip(axes.ravel(), panels):
        _ellipse_panel(ax, *panel)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    fig.suptitle(f"Fitted normal's ellipses against the data, pairs of {what}", fontsize=11)
    return save_figure(fig, path)


def _grid(count: int, most: int) -> tuple[int, int]:
    """Rows and columns for ``count`` panels, at most ``most`` a row: figures stay readable at 256 dims."""
    cols = max(1, min(most, count))
    return -(-count // cols), cols


def _ellipse_panel(ax, x_name, y_name, xy, mean2, cov2, found) -> None:
    """One pair: the points, histogram and kernel density contours, and the 1, 2, 3 sigma ellipses
    with the share of all points inside each (``found``: an ``EllipseShares``)."""
    from scipy.stats import gaussian_kde

    ax.scatter(xy[:, 0], xy[:, 1], s=1, color="0.6", alpha=0.25, rasterized=True, label="points (sample)")
    if len(xy) > 3:
        bins = int(np.clip(np.sqrt(len(xy)) / 4, 8, 40))  # about 16 points a bin at the centre's density or more
        counts, xe, ye = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins)
        xc, yc = (xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2
        ax.contour(xc, yc, counts.T, levels=6, colors="black", linewidths=0.6)
        ax.plot([], [], color="black", lw=0.6, label="histogram contours")
    if len(xy) > 3 and np.linalg.matrix_rank(np.cov(xy.T)) == 2:
        kde = gaussian_kde(xy[:2000].T)  # the studies' density contours; 2,000 points keep it quick
        gx, gy = np.meshgrid(np.linspace(xe[0], xe[-1], 60), np.linspace(ye[0], ye[-1], 60))
        ax.contour(
            gx,
            gy,
            kde(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape),
            levels=6,
            colors="tab:blue",
            linewidths=0.7,
            linestyles="dashed",
        )
        ax.plot([], [], color="tab:blue", lw=0.7, ls="--", label="kernel density contours")
    for k, colour in zip((1, 2, 3), ("tab:red", "tab:orange", "tab:green")):
        ring = ellipse_points(mean2, cov2, k)
        inside, expected = found["fraction_inside"][str(k)], found["gaussian"][str(k)]
        ax.plot(
            ring[:, 0],
            ring[:, 1],
            color=colour,
            lw=1.3,
            label=f"{k} sigma: {100 * inside:.1f} % inside (Gaussian {100 * expected:.1f} %)",
        )
    ax.set(xlabel=x_name, ylabel=y_name)
    ax.set_title(f"{x_name} vs {y_name} (r = {found['r']:+.2f}), {found['n']:,} points", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7, frameon=False)


def trimmed_figures(out: Path, report, trims) -> list[str]:
    """trimmed_f<FACT>.png, one per trim factor (post IX): the trimmed cloud on its own principal
    axes, for each ``--pc-pairs`` pair its points, contours and 1, 2, 3 sigma ellipses, and each
    PC's histogram with its Gaussian fit."""
    from latentkit.analysis.measures.stats import fit_gaussian
    from latentkit.analysis.measures.trimmed import projected_points

    names = []
    for trim, found in zip(trims, report["pca"]["trimmed"]):
        if "ellipses" not in found:
            continue
        rows, cols = _grid(len(found["ellipses"]), 3)
        hist_rows, hist_cols = _grid(len(trim.pcs), 4)
        fig = plt.figure(figsize=(max(5.2 * cols, 3.4 * hist_cols), 6.4 * rows + 2.6 * hist_rows))
        # matplotlib's stub: subfigures returns one SubFigure or an array, here an array of two
        top, bottom = fig.subfigures(2, 1, height_ratios=[6.4 * rows, 2.6 * hist_rows])  # type: ignore[misc]
        axes = top.subplots(rows, cols, squeeze=False).ravel()
        top.subplots_adjust(bottom=0.2 / rows, hspace=0.55, wspace=0.3)
        bottom.subplots_adjust(top=0.9, bottom=0.14, hspace=0.6, wspace=0.3)
        for ax, shares in zip(axes, found["ellipses"]):
            a, b = shares["pair"]
            cov2 = np.diag(np.clip(trim.eigenvalues[[a, b]], 0, None))
            _ellipse_panel(ax, f"PC{a}", f"PC{b}", projected_points(trim, (a, b)), np.zeros(2), cov2, shares)
        for ax in axes[len(found["ellipses"]) :]:
            ax.axis("off")
        hist_axes = bottom.subplots(hist_rows, hist_cols, squeeze=False).ravel()
        for i, (ax, fitted) in enumerate(zip(hist_axes, found["pc_fits"])):
            counts = trim.histograms.counts_[i]
            x = trim.histograms.centres_ * trim.scale[i]
            g = fit_gaussian(trim.histograms.centres_, counts, 0.0, 1.0)
            ax.plot(x, counts, color="k", lw=1, label="kept points")
            ax.set_xlim(-4.5 * trim.scale[i], 4.5 * trim.scale[i])
            ax.plot(
                x,
                gaussian(trim.histograms.centres_, g["centre"], g["sigma"], g["amplitude"]),
                ls="--",
                color="tab:red",
                lw=0.8,
                label="Gaussian fit",
            )
            ax.set_title(f"PC{fitted['pc']}: fit sigma {fitted['sigma']:.2f}", fontsize=9)
            ax.set_xlabel(f"PC{fitted['pc']}", fontsize=8)
        for ax in hist_axes[len(found["pc_fits"]) :]:
            ax.axis("off")
        hist_axes[0].legend(fontsize=7, frameon=False)
        fig.suptitle(
            f"Trimmed at {found['fact']:g} x half-width: {found['kept']:,} of {report['n']:,} points kept "
            f"({found['kept_fraction']:.1%}); PCA of {found['pca_points']:,} of them, its own axes",
            fontsize=11,
        )
        names.append(save_figure(fig, out / f"trimmed_f{found['fact']:g}.png"))
    return names


def pca_figure(out, report, show: int = 40) -> str:
    """Left, the first ``show`` components' explained variance ratio as bars (post IX shows 40);
    right, the cumulative share over every component, of all points and of each trimmed cloud,
    with where it reaches 80 %. Its size does not grow with the dimension."""
    pca = report["pca"]
    ratio, cumulative = np.asarray(pca["explained_variance_ratio"]), np.asarray(pca["cumulative"])
    shown, x = min(show, len(ratio)), np.arange(len(ratio))
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(13, 4.8))
    bars.bar(x[:shown], ratio[:shown], color="tab:blue")
    which = f"PC0 ... PC{shown - 1} of {len(ratio)}" if shown < len(ratio) else f"all {len(ratio)} components"
    bars.set(
        title=f"explained variance ratio, {which}",
        xlabel="principal component (PC0 the largest)",
        ylabel="explained variance ratio",
    )
    curves.plot(x, cumulative, color="k", label="all points")
    for trim in pca["trimmed"]:
        if trim["explained_variance_ratio"]:
            curves.plot(
                np.cumsum(trim["explained_variance_ratio"]),
                lw=0.8,
                ls="--",
                label=f"trimmed at {trim['fact']:g} x half-width ({trim['kept']:,} kept)",
            )
    if cumulative[-1] >= 0.8:
        at = int(np.argmax(cumulative >= 0.8))
        curves.axhline(0.8, color="0.6", lw=0.6, ls=":")
        curves.plot([at], [cumulative[at]], "o", color="tab:red", ms=4, label=f"80 % by PC{at} ({at + 1} components)")
    if shown < len(ratio):
        curves.axvspan(-0.5, shown - 0.5, color="tab:blue", alpha=0.08, lw=0, label=f"the bars' {shown} components")
    curves.set(
        title=f"cumulative explained variance, all {len(ratio)} components",
        ylim=(0, 1.02),
        xlabel="principal component (PC0 the largest)",
        ylabel="cumulative share",
    )
    curves.legend(loc="lower right", fontsize=8, frameon=False)
    fig.suptitle("PCA of the latent cloud: variance per principal component")
    return save_figure(fig, out / "pca.png")


def pc_histograms_figure(out, pcs, pc_scale, report) -> str:
    n = len(pc_scale)
    cols = min(4, n)
    fig, axes = plt.subplots(-(-n // cols), cols, figsize=(3.4 * cols, 2.8 * -(-n // cols)), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        x = pcs.centres_ * pc_scale[i]
        ax.plot(x, pcs.counts_[i], color="k", lw=1)
        f = report["pca"]["pc_fits"][i]
        ax.plot(x, gaussian(x, f["centre"], f["sigma"], pcs.counts_[i].max()), ls="--", color="tab:red", lw=0.8)
        ax.set_title(f"PC{f['pc']}: sigma {f['sigma']:.2f}", fontsize=8)
    fig.suptitle("Principal components (--pc-fits; dashed: Gaussian fit)")
    return save_figure(fig, out / "pc_histograms.png")


def pc_scatter_figure(out, projected) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    extent = np.abs(projected[:, :2]).max() or 1.0
    for ax, zoom in zip(axes, (1.0, 0.5, 0.2)):
        ax.scatter(projected[:, 0], projected[:, 1], s=1, alpha=0.3)
        ax.set(
            xlim=(-extent * zoom, extent * zoom),
            ylim=(-extent * zoom, extent * zoom),
            title=f"PC0-PC1, zoom x{1 / zoom:g}",
            xlabel="PC0",
            ylabel="PC1",
        )
    return save_figure(fig, out / "pc_scatter.png")


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
    _legend_outside(ax)
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
    _legend_outside(axes[1])
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
