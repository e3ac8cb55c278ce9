"""The ``latentkit`` commands that look further into latents (``analyze`` is in ``analyze.py``):
``report`` (the page), ``attributes``, ``compare``, ``plane``, ``lattice``, ``explore`` (the
latent space live in a browser) and ``flow`` (a normalising flow on the latents).

Each command parses its options, calls one library function (imported inside the command), and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import (
    AnalysisOut,
    Force,
    LatentsRun,
    app,
    events,
    user_errors,
)
from latentkit.core import AnalysisPaths, LatentkitError, RunPaths


@app.command("report")
@user_errors
def report_cmd(
    run: Annotated[Path, typer.Option(help="Run directory, analyzed (`latentkit analyze --run RUN`).")],
    points: Annotated[
        int, typer.Option(help="Images on the interactive map (a random sample of the encoded ones).", min=10)
    ] = 3000,
    clusters: Annotated[int, typer.Option(help="k-means clusters to colour by.", min=1)] = 10,
    labels: Annotated[
        Path | None,
        typer.Option(help="A .parquet or .csv file with a row per image: its columns colour the map too."),
    ] = None,
) -> None:
    """RUN/analysis/report.html: one self-contained page with an interactive map of the cloud (images on
    hover, colour by any label, lasso selection), the findings, every figure and the tables."""
    from latentkit.analysis.report.page import write_page

    out = write_page(run, points=points, clusters=clusters, events=events(), labels=labels)
    typer.echo(f"report: {out} ({out.stat().st_size / 2**20:,.1f} MB; opens offline in a browser)")


@app.command("attributes")
@user_errors
def attributes_cmd(
    run: Annotated[Path, typer.Option(help="Run directory with a finished latents.zarr; writes RUN/analysis.")],
    data: Annotated[
        Path | None, typer.Option(help="The run's store (default: the one its latents were encoded from).")
    ] = None,
    show: Annotated[
        list[str],
        typer.Option(
            help="Attribute to draw coloured PCA/t-SNE figures for (repeatable; default: the four best separated)."
        ),
    ] = [],
    probe_sample: Annotated[int, typer.Option(help="Train rows each linear probe learns on.", min=10)] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the random draws.", min=0)] = 0,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="Your own labels instead of the store's: a .parquet or "
            ".csv file with a row per image (a partition column is "
            "used when there is one)."
        ),
    ] = None,
) -> None:
    """Per attribute (CelebA's 40, or the synthetic faces' factors): class centroids, the direction between
    them (for `generate --attribute`), and a linear probe's accuracy on the valid partition."""
    from latentkit.analysis.attributes import AttributeOptions, attributes, ranked
    from latentkit.core import RunPaths
    from latentkit.model.opened import OpenedRun

    paths = RunPaths.of(run)
    if data is None and labels is None:
        data = OpenedRun.of(run).data
    report = attributes(
        latents=paths.latents,
        data=data,
        out=paths.analysis,
        show=show or None,
        events=events(),
        options=AttributeOptions(probe_sample=probe_sample, seed=seed),
        labels=labels,
    )
    typer.echo(f"labels: {report['labels']}; scored on {report['held_out']}")
    typer.echo(f"{'attribute':24s} {'probe':>7s} {'direction':>9s} {'majority':>8s}")
    for row in ranked(report["attributes"]):
        if "skipped" in row:
            typer.echo(f"{row['name']:24s} skipped: {row['skipped']}")
        else:
            typer.echo(
                f"{row['name']:24s} {row['probe_accuracy']:7.3f} {row['direction_accuracy']:9.3f} "
                f"{row['majority_rate']:8.3f}"
            )
    typer.echo(f"report: {paths.analysis_files.attributes_markdown}")


@app.command("compare")
@user_errors
def compare_cmd(
    runs: Annotated[list[Path], typer.Argument(help="Two or more run directories (analyzed where needed).")],
    out: Annotated[Path, typer.Option(help="Directory for report.json, report.md, figures and per-run grids.")],
    grid_n: Annotated[int, typer.Option(help="Generated images per grid (same z-points for every run).", min=1)] = 14,
    seed: Annotated[int, typer.Option(help="Seed of the random draws.", min=0)] = 0,
) -> None:
    """Runs side by side: radius distributions, component centres and half-widths, PCA spectra, hit
    fractions, final losses, and the same generated and reconstructed grids per run."""
    from latentkit.analysis.jobs import compare_runs

    result = compare_runs(runs=runs, out=out, grid_n=grid_n, seed=seed, events=events())
    first = result["runs"][0]["label"]
    for r in result["runs"]:
        s = r["summary"]
        extra = "".join(
            text
            for key, text in (
                ("coverage_mvn", f"  mvn coverage {s.get('coverage_mvn', 0):.3f}"),
                ("active_units", f"  active {s.get('active_units')} of {s['z_dim']}"),
            )
            if key in s
        )
        typer.echo(
            f"{r['label']:20s} {s['kind']:3s} z_dim {s['z_dim']:4d}  radius {s['radius_mean']:8.2f}  "
            f"mvn hit {s['hit_mvn_k1.5']:.3f}  N(0,I) hit {s['hit_normal_k1.5']:.3f}{extra}"
        )
    changed = {k: v for r in result["runs"][1:] for k, v in r["differences"].items() if v}
    typer.echo(f"differences from {first}: " + (f"{len(changed)} numbers differ" if changed else "none"))
    typer.echo(f"report: {AnalysisPaths(out).markdown}")


@app.command("plane")
@user_errors
def plane_cmd(
    run: LatentsRun = None,
    latents: Annotated[
        Path | None, typer.Option(help="Your vectors instead of a run's (any format `analyze --latents` takes).")
    ] = None,
    column: Annotated[str | None, typer.Option(help="--latents FILE.parquet: the column holding the vectors.")] = None,
    out: AnalysisOut = None,
    pcs: Annotated[
        str | None,
        typer.Option(
            help="Two principal components, counted from 0 as every index is: 0:1 is PC0-PC1, the two largest (the default)."
        ),
    ] = None,
    axes: Annotated[str | None, typer.Option(help="Two components instead of PCs, e.g. 52:221.")] = None,
    zoom: Annotated[
        str | None,
        typer.Option(
            help="Zoom factors around the centre: 1 shows the data's +-4 sigma; "
            "the studies saw filaments at about 50. Default: 1,10,50 when a x50 "
            "window holds about 50 points at the fitted normal's density, else "
            "1 up to the deepest zoom that does (fewer points: less "
            "deep)."
        ),
    ] = None,
    centre: Annotated[
        str | None,
        typer.Option(
            help="Centre x,y in the plane's coordinates (default: the data's "
            "mean there). PC coordinates are analyze's, centred: 0,0 is the "
            "data's mean; --axes are the components' own values."
        ),
    ] = None,
    max_points: Annotated[
        int, typer.Option(help="Points kept per zoom's window (a random subset).", min=100)
    ] = 200_000,
    seed: Annotated[int, typer.Option(help="Seed of the subsets and the normal's points.", min=0)] = 0,
    magnification: Annotated[
        bool,
        typer.Option(
            "--magnification",
            help="With --run: the decoder's log magnification, log sqrt(det JᵀJ) of J = dx/dz, on a grid "
            "over the plane (magnification_pcs_I-J.png, a 'magnification' block in the .json).",
        ),
    ] = False,
    grid: Annotated[
        int,
        typer.Option(
            help="--magnification: the grid's side (grid x grid z-points; time grows with its square).", min=2
        ),
    ] = 10,
) -> None:
    """The cloud in one plane at several zooms, with the fitted normal's points in another colour
    and the nearest-neighbour distances in that plane: plane_pcs_I-J.png and .json; with
    --magnification the decoder's stretching over it."""
    from latentkit.analysis.plane import PlaneOptions, plane
    from latentkit.core import RunPaths, parse_numbers, parse_pairs

    if (run is None) == (latents is None):
        raise LatentkitError("give exactly one of --run DIR or --latents PATH")
    if pcs is not None and axes is not None:
        raise LatentkitError("give one of --pcs I:J or --axes I:J")
    if run is not None:
        latents, out = RunPaths.of(run).latents, out or RunPaths.of(run).analysis
    elif out is None:
        raise LatentkitError("--latents needs --out DIR")
    pair = {flag: parse_pairs(text, flag) for flag, text in (("--pcs", pcs), ("--axes", axes)) if text}
    if any(len(p) != 1 for p in pair.values()):
        raise LatentkitError("--pcs and --axes take one pair, e.g. 0:1")
    middle = None
    if centre is not None:
        try:
            x, y = (float(v) for v in centre.split(","))
        except ValueError:  # not two numbers
            raise LatentkitError(f"--centre takes x,y, got {centre!r}") from None
        middle = (x, y)
    options = PlaneOptions(
        pcs=pair.get("--pcs", ((0, 1),))[0] if axes is None else None,
        axes=pair["--axes"][0] if axes is not None else None,
        zooms=None if zoom is None else parse_numbers(zoom, "--zoom"),
        centre=middle,
        max_points=max_points,
        seed=seed,
        magnification=grid if magnification else 0,
    )
    assert latents is not None  # --run gave it, or it was given
    opened = None
    if magnification:
        from latentkit.model.opened import OpenedRun

        opened = None if run is None else OpenedRun.of(run)
    report = plane(latents=latents, out=out, options=options, column=column, events=events(), run=opened)
    for row in report["zooms"]:
        typer.echo(f"zoom x{row['zoom']:g}: {row['points']:,} points in the window, {row['groups']} group(s)")
    nn = report["nearest_neighbours"]
    if "median_ratio" in nn:
        typer.echo(f"nearest-neighbour median in the plane, data / fitted normal: {nn['median_ratio']:.3f}")
    typer.echo(f"figure: {Path(out) / report['figure']}")
    if "magnification" in report:
        grown = report["magnification"]
        typer.echo(
            f"log magnification over the {grown['grid']}x{grown['grid']} grid: median {grown['grid_median']:.2f} "
            f"({grown['grid_min']:.2f} to {grown['grid_max']:.2f}); at {grown['data_points']} data points: median "
            f"{grown['data_median']:.2f} ({grown['seconds']:.1f} s)"
        )
        typer.echo(f"figure: {Path(out) / grown['figure']}")


@app.command("lattice")
@user_errors
def lattice_cmd(
    run: Annotated[Path, typer.Option(help="Run directory, encoded (and analyzed, for --plane attributes:...).")],
    out: Annotated[Path | None, typer.Option(help="The picture (default RUN/analysis/lattice.png).")] = None,
    plane: Annotated[
        str,
        typer.Option(
            help="pca (PC0-PC1 through the data's mean) or attributes:NAME,NAME (two "
            "attribute directions from `latentkit attributes`)."
        ),
    ] = "pca",
    n: Annotated[int, typer.Option(help="Cells per side: an n x n lattice.", min=2, max=40)] = 12,
    span: Annotated[
        float, typer.Option(help="Half-width of the lattice in the data's standard deviations along each axis.")
    ] = 3.0,
    force: Force = False,
) -> None:
    """Decode anywhere: a lattice of z-points over a plane, each decoded to an image and coloured by
    its re-encoding distance, laid on the data's density; the holes are where it decodes to images
    unlike the data's."""
    from latentkit.analysis.lattice import lattice

    found = lattice(run=run, out=out, plane=plane, n=n, span=span, force=force, events=events())
    typer.echo(
        f"lattice {found['axes'][0]}-{found['axes'][1]}: {n}x{n} cells, median re-encoding distance "
        f"{found['median_ratio']:.2f}x the data's own ({found['data_median']:.3g}): {found['out']}"
    )


@app.command("explore")
@user_errors
def explore_cmd(
    run: Annotated[Path, typer.Option(help="Run directory, encoded and analyzed (`latentkit analyze --run RUN`).")],
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 to serve the page at (0: any free one).", min=0, max=65535)
    ] = 5006,
    sample: Annotated[
        int,
        typer.Option(help="Latents kept for the densities, the faces and the nearest-neighbour distances.", min=10),
    ] = 10_000,
) -> None:
    """The latent space live in a browser: click anywhere on a plane and see the face decoded there,
    drag along principal components, attribute directions or a VAE's dimensions, walk between two
    points. Served on 127.0.0.1 only (reach it from afar with `ssh -L`); writes nothing into the run;
    Ctrl-C stops it."""
    from latentkit.analysis.explore import serve

    def ready(url: str) -> None:
        typer.echo(f"explore: {url} (open it in a browser; from another machine: ssh -L; Ctrl-C stops it)")

    serve(run, port=port, sample=sample, events=events(), ready=ready)
    typer.echo("explore: stopped")


@app.command("flow")
@user_errors
def flow_cmd(
    run: Annotated[Path, typer.Option(help="Run directory with finished latents: the flow goes to RUN/flow.")],
    epochs: Annotated[
        int | None, typer.Option(help="Train until this many epochs (extends a flow; default 30).", min=1)
    ] = None,
    couplings: Annotated[int, typer.Option(help="Affine coupling layers (alternating masks).", min=2)] = 8,
    hidden: Annotated[int, typer.Option(help="Units of each coupling's two hidden layers.", min=4)] = 256,
    batch: Annotated[int, typer.Option(help="Latents per step.", min=8)] = 512,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Seed of the weights and the order of the latents.", min=0)] = 0,
) -> None:
    """A normalising flow (RealNVP) fitted to the run's latents, chunk by chunk, resumable like train:
    then `analyze --run` lists it among the generators and `generate --method flow` draws from it."""
    from latentkit.model.flow import train_flow

    if not lr > 0:
        raise LatentkitError(f"--lr must be positive, got {lr}")
    found = train_flow(
        run=run, epochs=epochs, couplings=couplings, hidden=hidden, batch=batch, lr=lr, seed=seed, events=events()
    )
    last = found["history"][-1] if found["history"] else None
    typer.echo(
        f"flow at epoch {found['epochs']}"
        + (f": negative log-likelihood {last['nll']:.3f}" if last else "")
        + f" -> {RunPaths.of(run).flow}; next: latentkit analyze --run {run}"
    )
