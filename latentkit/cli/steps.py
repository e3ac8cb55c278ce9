"""The ``latentkit`` commands of the pipeline itself: ``prepare``, ``info``, ``presets``, ``train``,
``encode``, ``status``, ``analyze`` (the decoders ``generate``, ``reconstruct``, ``interpolate``
are in ``pictures.py``).

Each command parses its options, calls one library function (imported inside the command, so
a refused command never loads Keras), and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import (
    Chunk,
    MaxVram,
    MirrorDir,
    OutStore,
    Size,
    Task,
    Tasks,
    VramPool,
    Workers,
    app,
    echo_lines,
    events,
    user_errors,
    vram_pool_option,
)
from latentkit.core import LatentkitError, count, format_crop
from latentkit.ingest import CELEBA_CROP

prepare_app = typer.Typer(help="Build a chunked zarr image store.", no_args_is_help=True)
app.add_typer(prepare_app, name="prepare")


@prepare_app.command("synthetic")
@user_errors
def prepare_synthetic_cmd(
    out: OutStore,
    n: Annotated[int, typer.Option(help="Number of faces.", min=1)] = 10_000,
    size: Size = 96,
    seed: Annotated[int, typer.Option(help="Image i depends only on (seed, i).", min=0)] = 0,
    chunk: Chunk = 1024,
    task: Task = None,
    tasks: Tasks = None,
) -> None:
    """Procedural faces with known latent factors: the pipeline with no download."""
    from latentkit.ingest import prepare_synthetic
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = prepare_synthetic(out=out, n=n, size=size, seed=seed, chunk=chunk, task=task, tasks=tasks, events=events())
    typer.echo(f"wrote {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {out}")


@prepare_app.command("celeba")
@user_errors
def prepare_celeba_cmd(
    src: Annotated[
        Path,
        typer.Argument(
            help="CelebA as you have it: the official Drive folder or its "
            "Img/img_align_celeba.zip, the Kaggle folder or archive.zip, torchvision's "
            "root, the image folder, a tar."
        ),
    ],
    out: OutStore,
    size: Size = 96,
    crop: Annotated[str, typer.Option(help="Crop box X0,Y0,X1,Y1 applied before resizing.")] = format_crop(CELEBA_CROP),
    chunk: Chunk = 1024,
    task: Task = None,
    tasks: Tasks = None,
    workers: Workers = None,
    partition_file: Annotated[
        Path | None, typer.Option(help="list_eval_partition .txt/.csv (default: searched).")
    ] = None,
    attributes_file: Annotated[
        Path | None, typer.Option(help="list_attr_celeba .txt/.csv (default: searched).")
    ] = None,
) -> None:
    """CelebA in any layout users have (read in place), with partitions, attributes, identities, landmarks."""
    from latentkit.core import parse_crop
    from latentkit.ingest import prepare_celeba
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = prepare_celeba(
        src=src,
        out=out,
        size=size,
        crop=parse_crop(crop),
        chunk=chunk,
        task=task,
        tasks=tasks,
        workers=workers,
        partition_file=partition_file,
        attributes_file=attributes_file,
        events=events(),
    )
    typer.echo(f"wrote {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {out}")
    _print_summary(out)


@prepare_app.command("images")
@user_errors
def prepare_images_cmd(
    src: Annotated[Path, typer.Argument(help="A folder (searched recursively), zip or tar of JPEG/PNG/WebP images.")],
    out: OutStore,
    size: Size = 96,
    crop: Annotated[str, typer.Option(help="center (largest central square) or a box X0,Y0,X1,Y1.")] = "center",
    split: Annotated[
        str, typer.Option(help="TRAIN,VALID,TEST fractions, drawn from each path's hash.")
    ] = "0.8,0.1,0.1",
    chunk: Chunk = 1024,
    task: Task = None,
    tasks: Tasks = None,
    workers: Workers = None,
    faces: Annotated[
        bool,
        typer.Option(
            "--faces",
            help="The images are faces: messages, captions and findings "
            "say faces, not images (recorded in the store; CelebA's and the synthetic "
            "stores always do).",
        ),
    ] = False,
) -> None:
    """Any folder of images (LFW, FFHQ thumbnails, your photos): any sizes and modes, in path order."""
    from latentkit.core import parse_image_crop, parse_split
    from latentkit.ingest import prepare_images
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = prepare_images(
        src=src,
        out=out,
        size=size,
        crop=parse_image_crop(crop),
        split=parse_split(split),
        chunk=chunk,
        task=task,
        tasks=tasks,
        workers=workers,
        faces=faces,
        events=events(),
    )
    typer.echo(f"wrote {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {out}")
    _print_summary(out)


def _print_summary(path: Path) -> None:
    from latentkit.store import store_summary, summary_lines

    echo_lines(summary_lines(store_summary(path)))


@app.command("info")
@user_errors
def info_cmd(
    path: Annotated[Path, typer.Argument(help="A store written by `latentkit prepare`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarise a store: counts per partition, chunks done, size on disk and as float32 in memory, skipped files."""
    from latentkit.store import store_summary

    if as_json:
        typer.echo(json.dumps(store_summary(path), indent=2))
    else:
        _print_summary(path)


@app.command("presets")
@user_errors
def presets_cmd(
    show: Annotated[str | None, typer.Argument(help="A preset to print (copy it to start your own spec).")] = None,
) -> None:
    """List the job presets shipped with latentkit, or print one: `latentkit presets vae > my.toml`."""
    from latentkit.model import find_job, presets

    if show is not None:
        typer.echo(find_job(show).read_text(encoding="utf-8"), nl=False)
        return
    for name, preset in presets().items():
        typer.echo(f"{name:12s} {_first_sentence(preset.read_text(encoding='utf-8'))}")


def _first_sentence(toml: str) -> str:
    """The first sentence of a preset's opening comment, however many lines it spans."""
    comment = []
    for line in toml.splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# "))
    text = " ".join(" ".join(comment).split())
    return text.split(". ")[0].rstrip(".") + "."


@app.command("train")
@user_errors
def train_cmd(
    data: Annotated[Path, typer.Option(help="Store written by `latentkit prepare`.")],
    run: Annotated[Path, typer.Option(help="Run directory: spec, checkpoints, history, samples, monitor.")],
    job: Annotated[
        str | None,
        typer.Option(
            help="Spec: a preset name (`latentkit presets`) or a TOML path "
            "(default: the run's job.toml, else ae-case1)."
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Train until this many epochs (extends a run; default: the spec's).", min=1)
    ] = None,
    batch: Annotated[int | None, typer.Option(help="Images per step (default: the spec's).", min=1)] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (default: the spec's).")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of weights and data order (default: the spec's).", min=0)
    ] = None,
    checkpoint_every: Annotated[
        int | None, typer.Option(help="Checkpoint every K steps (and each epoch).", min=1)
    ] = None,
    set_: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="Override any spec field: model.z_dim=128, "
            "train.precision=mixed_bfloat16, train.steps_per_execution=8.",
        ),
    ] = [],
    mirror: MirrorDir = None,
    max_vram: MaxVram = None,
    vram_pool: VramPool = False,
    devices: Annotated[
        str | None,
        typer.Option(
            help="Data-parallel over `all` or N devices (JAX backend); under srun, over every process's devices."
        ),
    ] = None,
    keep_epochs: Annotated[
        str | None,
        typer.Option(
            help="Keep these epochs' checkpoints for good, e.g. 5,10,18 (RUN/checkpoints/epoch_0005.npz ...)."
        ),
    ] = None,
    keep_every: Annotated[int | None, typer.Option(help="Keep every K-th epoch's checkpoint for good.", min=1)] = None,
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Start this new run from a kept checkpoint (another "
            "run's epoch_NNNN.npz or best.npz): its weights, optimizer, epoch "
            "and history, with your --lr, --batch, --set train.*/model.kl_factor/"
            "eps_factor changes applied. --run must be new (rerun to resume "
            "it).",
        ),
    ] = None,
) -> None:
    """Train an AE/VAE; rerun to resume mid-epoch. Stop signals checkpoint, then exit 75; out of GPU memory exits
    71, a NaN loss 65, a run in use by another train 73, a full disk 74 (nothing good is lost)."""
    vram_pool_option(vram_pool)
    from latentkit.core import INTERRUPTED_EXIT, parse_numbers
    from latentkit.model import parse_set
    from latentkit.model.train import train

    overrides = parse_set(set_)
    kept = None if keep_epochs is None else [int(v) for v in parse_numbers(keep_epochs, "--keep-epochs")]
    if kept is not None and any(v != int(v) for v in parse_numbers(keep_epochs, "--keep-epochs")):
        raise LatentkitError(f"--keep-epochs takes whole epochs, e.g. 5,10,18, got {keep_epochs!r}")
    for key, value in (
        ("epochs", epochs),
        ("batch", batch),
        ("lr", lr),
        ("seed", seed),
        ("checkpoint_every", checkpoint_every),
        ("keep_epochs", kept),
        ("keep_every", keep_every),
    ):
        if value is not None:
            overrides[f"train.{key}"] = value
    result = train(
        data=data,
        run=run,
        job=job,
        overrides=overrides,
        events=events(),
        mirror=mirror,
        max_vram=max_vram,
        devices=devices,
        start_from=from_,
    )
    if result.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)
    last = f"loss {result.history[-1]['loss']:.2f}" if result.history else "no epoch finished"
    if result.trained == 0:
        typer.echo(f"nothing trained: {run} is at epoch {result.epoch} ({last})")
    else:
        first, count = result.first_epoch + 1, result.trained
        epochs = f"epoch {first}" if count == 1 else f"epochs {first}-{result.epoch}"
        typer.echo(f"trained {epochs}: {last} -> {run}")


@app.command("encode")
@user_errors
def encode_cmd(
    run: Annotated[Path, typer.Option(help="Run directory with a checkpoint, or one import-model made.")],
    chunk: Annotated[int, typer.Option(help="Images per output chunk: unit of work, resume and memory.")] = 20_000,
    data: Annotated[Path | None, typer.Option(help="Store to encode (default: the one the run trained on).")] = None,
    out: Annotated[Path | None, typer.Option(help="Latents store (default: RUN/latents.zarr).")] = None,
    batch: Annotated[int, typer.Option(help="Images per encoder call (fixed shape: no retracing).")] = 256,
    task: Task = None,
    tasks: Tasks = None,
    use: Annotated[str, typer.Option(help="VAE: z (sampled, reproducible) or mu (z = mu).")] = "z",
    max_ram: Annotated[
        str | None, typer.Option(help="Refuse up front if the estimate exceeds this (4G, 1500M).")
    ] = None,
    mirror: MirrorDir = None,
    restart_stale: Annotated[
        bool,
        typer.Option(
            help="Latents from another checkpoint, store, --chunk or --use are deleted "
            "and encoded again instead of refused (one task only)."
        ),
    ] = False,
    max_vram: MaxVram = None,
    vram_pool: VramPool = False,
) -> None:
    """Every image's z-point into zarr, chunk by chunk with flat memory; resumable and splittable."""
    vram_pool_option(vram_pool)
    from latentkit.model.encode import encode
    from latentkit.store import resolve_task

    task, tasks = resolve_task(task, tasks)
    result = encode(
        run=run,
        chunk=chunk,
        data=data,
        out=out,
        batch=batch,
        task=task,
        tasks=tasks,
        use=use,
        max_ram=max_ram,
        events=events(),
        mirror=mirror,
        restart_stale=restart_stale,
        max_vram=max_vram,
    )
    typer.echo(f"encoded {count(result.chunks_written, 'chunk')}, {result.chunks_skipped} already done: {result.out}")


@app.command("status")
@user_errors
def status_cmd(
    run: Annotated[Path, typer.Option(help="Run directory.")],
    last: Annotated[int, typer.Option(help="Monitor lines to show (0: all).", min=0)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Epochs trained, latent chunks done and missing, and the last monitor lines."""
    from latentkit.cli.console import status_lines
    from latentkit.pipeline.status import run_status

    s = run_status(run, last=last)
    if as_json:
        typer.echo(json.dumps(s, indent=2))
        return
    echo_lines(status_lines(s))


@app.command("analyze")
@user_errors
def analyze_cmd(
    run: Annotated[
        Path | None, typer.Option(help="Run directory: reads RUN/latents.zarr, writes RUN/analysis.")
    ] = None,
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
    out: Annotated[Path | None, typer.Option(help="Output directory (default RUN/analysis).")] = None,
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
    from latentkit.core import RunPaths, parse_numbers, parse_pairs, parse_ranges

    if (run is None) == (latents is None):
        raise LatentkitError("give exactly one of --run DIR or --latents PATH")
    if latents is None:
        out = out or RunPaths.of(run).analysis
    elif out is None:
        raise LatentkitError("--latents needs --out DIR")
    extra = {
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
        generated=tuple(map(str, generated)),
        reconstruction_images=reconstruction_images,
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
    typer.echo(f"report: {Path(out) / 'report.md'}")
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
            f"{Path(out) / 'attributes.md'}"
        )
    if done.page is not None:
        typer.echo(f"report: {done.page} (interactive; opens offline in a browser)")
