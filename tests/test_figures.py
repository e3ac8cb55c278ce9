"""The cloud's figures (analysis/report/cloud_figures.py, pca_figures.py): the ellipse panels, pca.png readable at 256 dimensions."""

from __future__ import annotations

import json

import numpy as np
from fixtures.commands import cli
from fixtures.latents import clusters as _clusters
from PIL import Image

from latentkit.analysis.analyze import AnalyzeOptions, analyze


def test_the_ellipse_figures_show_points_density_and_shares(tmp_path):
    z = np.random.default_rng(8).multivariate_normal(np.zeros(6), np.eye(6) + 0.5, 4_000)
    np.save(tmp_path / "z.npy", z)
    options = AnalyzeOptions(
        tsne=True,
        tsne_sample=500,
        tsne_perplexity=10,
        tsne_exaggeration=4,
        kmeans_ks=(2, 3, 4, 6),
        quality=False,
        nn_sample=0,
        mixture=False,
        generator_samples=1000,
        hit_draws=1000,
        pc_pairs=((0, 1), (2, 5)),
    )
    report = analyze(latents=tmp_path / "z.npy", out=tmp_path / "a", options=options)
    assert report["tsne"]["perplexity"] == 10 and report["tsne"]["early_exaggeration"] == 4
    assert report["kmeans"]["k"] == [2, 3, 4, 6]
    assert {"ellipses.png", "pc_ellipses.png", "radius_vs_dim.png", "kmeans.png"} <= set(report["figures"])
    with Image.open(tmp_path / "a" / "pc_ellipses.png") as image:
        assert image.size[0] > 1.2 * image.size[1]  # two panels side by side (stacked: taller than wide)
    assert [e["pair"] for e in report["pca"]["ellipses"]] == [[0, 1], [2, 5]]


def test_pca_png_shows_the_first_pca_show_components_and_keeps_its_width_at_256_dims(tmp_path, monkeypatch):
    """Issue 45 item 5: pca.png readable at 128-256 dimensions: the bars show the first --pca-show
    components (post IX: 40), the cumulative curve all of them, at one width whatever the dimension."""
    from PIL import Image

    from latentkit.analysis.report import pca_figures as figures

    def report_of(dim):
        ratio = np.exp(-np.arange(dim) / 30.0)
        ratio /= ratio.sum()
        trimmed = [{"fact": 1.5, "kept": 900, "explained_variance_ratio": ratio.tolist()}]
        return {
            "pca": {
                "explained_variance_ratio": ratio.tolist(),
                "cumulative": np.cumsum(ratio).tolist(),
                "trimmed": trimmed,
            }
        }

    drawn, save = [], figures.save_figure
    monkeypatch.setattr(
        figures,
        "save_figure",
        lambda fig, path: drawn.append((path.name, [len(ax.patches) for ax in fig.axes])) or save(fig, path),
    )
    widths = {}
    for dim, show in ((256, 40), (256, 12), (6, 40)):
        (tmp_path / f"{dim}-{show}").mkdir()
        figures.pca_figure(tmp_path / f"{dim}-{show}", report_of(dim), show)
        assert drawn[-1][1][0] == min(show, dim)  # the left panel's bars
        with Image.open(tmp_path / f"{dim}-{show}" / "pca.png") as image:
            widths[dim, show] = image.size[0]
    assert abs(widths[256, 40] - widths[6, 40]) < 0.05 * widths[6, 40] and widths[256, 40] < 1600, widths

    np.save(tmp_path / "z.npy", _clusters(400, 64))  # the options through the command line, in one run
    result = cli(
        "analyze",
        "--latents",
        tmp_path / "z.npy",
        "--out",
        tmp_path / "a",
        "--pca-show",
        "12",
        "--tsne-pca",
        "0",
        "--tsne-sample",
        "200",
        "--tsne-iterations",
        "300",
        "--kmeans-k",
        "2-80:26",
        "--kmeans-sample",
        "200",
        "--no-quality",
        "--no-mixture",
        "--nn-sample",
        "0",
        "--hit-draws",
        "1000",
    )
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["options"]["pca_show"] == 12 and dict(drawn)["pca.png"][0] == 12, result.stdout
    assert report["kmeans"]["k"] == [2, 28, 54, 80]
    tsne = report["tsne"]
    assert tsne["input"] == "the raw components" and tsne["input_dims"] == 64 and tsne["iterations"] == 300
    assert (
        "(the raw components), perplexity 30, early exaggeration 12, 300 iterations (250 exaggerated)"
        in (tmp_path / "a" / "report.md").read_text()
    )
