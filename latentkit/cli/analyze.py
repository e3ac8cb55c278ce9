"""The ``latentkit`` command ``analyze``: the studies' statistics of a latent cloud, then the
attributes of a labels file and the report page (``latentkit.analysis.jobs.analyze_run``); its
many options, parsed here, are ``AnalyzeOptions``.

Like every command module: parse, call one library function (imported inside the command), print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from latentkit.cli.app import (
    AnalysisOut,
    LatentsRun,
    app,
    echo_lines,
    events,
    user_errors,
)
from latentkit.core import AnalysisPaths, LatentkitError, RunPaths, count


@app.command("analyze")
@user_errors
def analyze_cmd(
    run: LatentsRun = None,
    latents: Annotated[
        Path | None,
        typer.Option(
            help="Your vectors instead of a run's: a zarr (N, D) array or a "
            "group holding z, a .npy file, a folder of .npy shards, or a "
            ".parquet file (its list column)."
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(
            help="--latents FILE.parquet: the column holding the vectors (default: z, or its one list column)."
        ),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="A .parquet or .csv file with a row per vector: its columns also go through the attributes analysis."
        ),
    ] = None,
    out: AnalysisOut = None,
    bins: Annotated[
        int,
        typer.Option(
            help="Histogram bins per component (each over its mean +- 6 sd). 0: by the "
            "data's size, the Freedman-Diaconis rule for a Gaussian: 4.45 n^(1/3) bins, "
            "10 to 100 (21 for 100 points, 55 for 1,797, 100 from 11,300): more would leave a few "
            "points a bin and half-widths read off noise.",
            min=0,
        ),
    ] = 0,
    radius_bin: Annotated[
        float,
        typer.Option(
            help="Bin width of the radius histogram (the posts used 0.5 and 0.05); "
            "0: --bins bins over the radii's range.",
            min=0,
        ),
    ] = 0.0,
    pairs: Annotated[
        str | None,
        typer.Option(
            help="Pairs of components for confidence ellipses, e.g. 0:1,5:9 (default: the three most correlated)."
        ),
    ] = None,
    pc_pairs: Annotated[
        str | None,
        typer.Option(
            help="Pairs of principal components for ellipses in PC coordinates, "
            "of the whole cloud and of each --trim cloud, counted from 0 "
            "(PC0 the largest, as post IX): 0:1,0:2,2:5 (the default), 2:3."
        ),
    ] = None,
    pc_fits: Annotated[
        str | None,
        typer.Option(
            help="Principal components (PC0 the largest) to histogram and fit with a "
            "Gaussian, ranges and single values: 0-7 (the default), 0-3,10,50."
        ),
    ] = None,
    trim: Annotated[
        str | None,
        typer.Option(
            help="Trim factors f (post IX's fact): PCA again without the points "
            "beyond f x half-width (FWHM) of any component's centre, and each "
            "trimmed cloud in the --pc-pairs on its own axes: trimmed_f<F>.png. "
            "e.g. 1.35,1.5,1.8; default 1.25,1.5,1.8."
        ),
    ] = None,
    trim_pca_sample: Annotated[
        int,
        typer.Option(
            help="Each trimmed cloud's PCA from a random N of its points (post IX: 80000); 0: from all of them.", min=0
        ),
    ] = 0,
    hit_draws: Annotated[
        int,
        typer.Option(
            help="z-points per generator for the hit test, streamed (one hit in 10,000 needs about 100,000).", min=1000
        ),
    ] = 100_000,
    uniform_b: Annotated[
        str | None,
        typer.Option(
            help="Bounds b of the uniform generators (each component uniform "
            "on [-b, b]), e.g. 0.5,1,2,8 "
            "(default 0.5,1,1.5,2,3,5)."
        ),
    ] = None,
    sample: Annotated[int, typer.Option(help="Rows sampled for scatter plots.", min=10)] = 20_000,
    tsne: Annotated[bool, typer.Option(help="t-SNE (openTSNE) of a sample.")] = True,
    tsne_sample: Annotated[int, typer.Option(help="Points for t-SNE (up to all).", min=10)] = 20_000,
    tsne_pca: Annotated[
        int,
        typer.Option(
            help="t-SNE of the first N principal components: PCA to 50 first by default "
            "(fast at 128-256 dims); 0: of the raw components, as posts II and XIII "
            "ran it.",
            min=0,
        ),
    ] = 50,
    kmeans: Annotated[bool, typer.Option(help="MiniBatchKMeans inertia against k.")] = True,
    kmeans_sample: Annotated[int, typer.Option(help="Points for KMeans.", min=10)] = 20_000,
    kmeans_max: Annotated[int, typer.Option(help="Largest number of clusters.", min=2)] = 80,
    kmeans_k: Annotated[
        str | None,
        typer.Option(
            help="The numbers of clusters to try, ranges, stepped ranges "
            "LOW-HIGH:STEP and single values: 2-30,40,60,80; 2-80:2 is every "
            "second k up to 80, post XIII's grid (default 2,3,4,5,6,8,10,...,80 "
            "up to --kmeans-max)."
        ),
    ] = None,
    tsne_perplexity: Annotated[
        float,
        typer.Option(
            help="t-SNE perplexity: 30, openTSNE's and sklearn's default, as "
            "the posts' standard runs (their other runs: 10); capped below a "
            "third of the points.",
            min=2,
        ),
    ] = 30.0,
    tsne_exaggeration: Annotated[
        float | None,
        typer.Option(
            help="t-SNE early exaggeration: default 12, openTSNE's "
            "and sklearn's, as the posts' standard runs (their "
            "other runs: 16).",
            min=1,
        ),
    ] = None,
    tsne_iterations: Annotated[
        int,
        typer.Option(
            help="t-SNE iterations, all of them as sklearn's n_iter counts: the "
            "first 250 with early exaggeration, the rest openTSNE's n_iter. "
            "Default 750 (openTSNE's 250 + 500); the posts ran 1000.",
            min=250,
        ),
    ] = 750,
    pca_show: Annotated[
        int,
        typer.Option(
            help="pca.png: the first N principal components' explained variance as "
            "bars (post IX: 40); its cumulative curves show every component.",
            min=1,
        ),
    ] = 40,
    mixture: Annotated[
        bool, typer.Option(help="Fit a Gaussian mixture (components by BIC): the gmm generator.")
    ] = True,
    nn_sample: Annotated[
        int,
        typer.Option(
            help="Points per set for nearest-neighbour distances, data against "
            "the fitted normal and mixture (0: skip).",
            min=0,
        ),
    ] = 4_000,
    quality: Annotated[
        bool,
        typer.Option(
            help="Where the holes are: coverage (precision, recall, density, coverage) "
            "of every generator, fragments, intrinsic dimension, a VAE's active units; "
            "with --run also re-encoding distances and reconstruction MSE/PSNR/SSIM."
        ),
    ] = True,
    quality_sample: Annotated[
        int, typer.Option(help="Points per set for coverage, fragments and intrinsic dimension.", min=10)
    ] = 4_000,
    atlas: Annotated[
        bool,
        typer.Option(
            help="The hole atlas: per generator a cross-fitted classifier's density ratio q/p, its two-sample "
            "test beside the MMD's, the MMD witness, the most over- and under-covered points (atlas_*.png); "
            "and the reweighted generator (the fitted normal accepted by that ratio). With --quality."
        ),
    ] = True,
    atlas_sample: Annotated[
        int, typer.Option(help="Points per set for the hole atlas's classifiers and witness.", min=40)
    ] = 1_000,
    generated: Annotated[
        list[Path],
        typer.Option(
            help="Your own generated z-points (.npy, shards, parquet, zarr) "
            "to measure beside the built-in generators (repeatable)."
        ),
    ] = [],
    reconstruction_images: Annotated[
        int, typer.Option(help="With --run: images per partition for MSE, PSNR and SSIM (0: all).", min=0)
    ] = 2_000,
    likelihood_k: Annotated[
        int,
        typer.Option(
            help="With --run of a VAE: posterior draws per image for its importance-weighted log-likelihood (0: off).",
            min=0,
        ),
    ] = 64,
    likelihood_images: Annotated[
        int, typer.Option(help="With --run of a VAE: test images its log-likelihood is measured on.", min=2)
    ] = 128,
    memorization_images: Annotated[
        int,
        typer.Option(help="With --run: training images each generated image is compared with (memorization).", min=3),
    ] = 1_000,
    figures: Annotated[bool, typer.Option(help="Write the PNG figures.")] = True,
    page: Annotated[
        bool,
        typer.Option(
            "--report/--no-report",
            help="With --run: also write the interactive RUN/analysis/report.html (`latentkit report`).",
        ),
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the random draws (sampling, t-SNE, k-means).", min=0)] = 0,
) -> None:
    """The studies' statistics of a latent cloud, streamed: report.json, report.md, figures, mvn.npz
    (the fitted normal and mixture that `generate` samples)."""
    from latentkit.analysis.analyze import AnalyzeOptions
    from latentkit.analysis.jobs import analyze_run
    from latentkit.core import parse_numbers, parse_pairs, parse_ranges

    if (run is None) == (latents is None):
        raise LatentkitError("give exactly one of --run DIR or --latents PATH")
    if run is not None:
        out = out or RunPaths.of(run).analysis
    elif out is None:
        raise LatentkitError("--latents needs --out DIR")
    extra: dict[str, Any] = {
        "pc_pairs": parse_pairs(pc_pairs, "--pc-pairs") if pc_pairs else None,
        "hit_draws": hit_draws,
        "tsne_perplexity": tsne_perplexity,
        "tsne_exaggeration": tsne_exaggeration,
        "tsne_iterations": tsne_iterations,
        "pca_show": pca_show,
    }
    if kmeans_k:
        extra["kmeans_ks"] = parse_ranges(kmeans_k, "--kmeans-k")
    if pc_fits:
        extra["pc_fits"] = parse_ranges(pc_fits, "--pc-fits", least=0)
    if trim:
        extra["trim_facts"] = parse_numbers(trim, "--trim")
    if uniform_b:
        extra["uniform_bs"] = parse_numbers(uniform_b, "--uniform-b")
    options = AnalyzeOptions(
        **extra,
        bins=bins,
        radius_bin=radius_bin,
        trim_pca_sample=trim_pca_sample,
        pairs=parse_pairs(pairs),
        sample=sample,
        tsne=tsne,
        tsne_sample=tsne_sample,
        tsne_pca=tsne_pca,
        kmeans=kmeans,
        kmeans_sample=kmeans_sample,
        kmeans_max=kmeans_max,
        mixture=mixture,
        nn_sample=nn_sample,
        figures=figures,
        seed=seed,
        quality=quality,
        quality_sample=quality_sample,
        atlas=atlas,
        atlas_sample=atlas_sample,
        generated=tuple(map(str, generated)),
        reconstruction_images=reconstruction_images,
        likelihood_k=likelihood_k,
        likelihood_images=likelihood_images,
        memorization_images=memorization_images,
    )
    done = analyze_run(
        latents=latents, out=out, run=run, options=options, events=events(), column=column, labels=labels, page=page
    )
    report = done.report
    r = report["radius"]
    typer.echo(
        f"{report['n']:,} points in {report['dim']} dims: radius mean {r['mean']:.2f} (peak {r['peak']:.2f}), "
        f"dominant components {report['dominant'] or 'none'}"
    )
    for g in report["generators"]:
        low, high = g["hit_interval"]["1.5"]
        typer.echo(
            f"  {g['name']:48s} radius {g['radius_mean']:7.2f}  hit k=1.5: {g['hit_fraction']['1.5']:.4f} "
            f"[{low:.4f}, {high:.4f}]  k=3: {g['hit_fraction']['3']:.4f}"
        )
    if "mixture" in report:
        typer.echo(f"gaussian mixture: {count(report['mixture']['components'], 'component')} (BIC)")
    if "nearest_neighbours" in report:
        nn = report["nearest_neighbours"]["sets"]["multivariate normal"]
        typer.echo(
            f"nearest-neighbour median, data / fitted normal: {nn['median_ratio']:.3f} (KS {nn['ks_statistic']:.3f})"
        )
    from latentkit.cli.console import quality_lines

    echo_lines(quality_lines(report))
    typer.echo(f"report: {AnalysisPaths(Path(out)).markdown}")
    if run is None:
        typer.echo(
            "no model with these vectors: nothing decoded (generate, reconstruct and the report page need a run)"
        )
    if done.attributes is not None and labels is not None:
        from latentkit.analysis.attributes import ranked

        rows = ranked(done.attributes["attributes"])
        best = [f"{r['name']} {r['probe_accuracy']:.3f}" for r in rows if "skipped" not in r]
        typer.echo(
            f"attributes from {labels.name}: probe accuracy {', '.join(best[:5]) or 'none'}: "
            f"{AnalysisPaths(Path(out)).attributes_markdown}"
        )
    if done.page is not None:
        typer.echo(f"report: {done.page} (interactive; opens offline in a browser)")
