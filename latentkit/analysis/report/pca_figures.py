"""The figures of the cloud on its principal axes and in pairs of components: the ellipses of
the fitted normal over pairs of components and of PCs, post IX's trimmed clouds, the PCA
spectrum, each PC's histogram with its Gaussian fit, and the PC scatter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentkit.analysis.measures.stats import ellipse_points, gaussian
from latentkit.analysis.report.drawing import (
    plt,
    save_figure,
)


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
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 5.6 * rows), squeeze=False)
    fig.subplots_adjust(hspace=0.6, wspace=0.3)
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
        # six levels strictly between 0 and the peak: a level at 0 would outline the empty bins
        levels = np.linspace(0, counts.max(), 8)[1:-1]
        ax.contour(xc, yc, counts.T, levels=levels, colors="black", linewidths=0.6)
        ax.plot([], [], color="black", lw=0.6, label="histogram contours")
    if len(xy) > 3 and np.linalg.matrix_rank(np.cov(xy.T)) == 2:
        kde = gaussian_kde(xy[:2000].T)  # the studies' density contours; 2,000 points keep it quick
        gx, gy = np.meshgrid(np.linspace(xe[0], xe[-1], 60), np.linspace(ye[0], ye[-1], 60))
        density = kde(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        ax.contour(
            gx,
            gy,
            density,
            levels=np.linspace(0, density.max(), 8)[1:-1],  # not at ~0: the far tails' stray lines
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
    # one column: two columns under each of three panels run into the neighbours' legends
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, fontsize=7, frameon=False)


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
        fig = plt.figure(figsize=(max(5.2 * cols, 3.4 * hist_cols), 7.2 * rows + 2.6 * hist_rows))
        # matplotlib's stub: subfigures returns one SubFigure or an array, here an array of two
        top, bottom = fig.subfigures(2, 1, height_ratios=[7.2 * rows, 2.6 * hist_rows])  # type: ignore[misc]
        axes = top.subplots(rows, cols, squeeze=False).ravel()
        top.subplots_adjust(bottom=0.3 / rows, hspace=0.7, wspace=0.3)  # room for each panel's legend below it
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
