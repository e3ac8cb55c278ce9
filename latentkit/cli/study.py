"""The ``latentkit`` commands that show and study beyond one run's statistics: ``demo`` (the
studies' findings on synthetic faces), ``attributes`` (where labels lie in the latent space)
and ``compare`` (runs side by side).

Like ``pipeline.py``: parse, call one library function, print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import Force, app, events, user_errors


@app.command("demo")
@user_errors
def demo_cmd(
    workdir: Annotated[Path, typer.Option("--dir", help="Where the demo store and run go.")] = Path("latentkit-demo"),
    n: Annotated[int, typer.Option(help="Synthetic faces to make.", min=256)] = 16_384,
    epochs: Annotated[int | None, typer.Option(help="Training epochs (default: the demo preset's).", min=1)] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="Then train a VAE (KL factor 5) on the same faces and "
            "compare it with the AE (DIR/compare; about as long again).",
        ),
    ] = False,
) -> None:
    """The whole pipeline on built-in synthetic faces, ending with the studies' findings against
    this run's numbers; rerun it to resume. 5-6½ minutes on 2 fast CPU cores; after its
    second epoch it says how long the rest takes on this machine, and, when the rest would take more than 6½ minutes there, which --epochs fits them."""
    from latentkit.core import INTERRUPTED_EXIT
    from latentkit.demo import run_demo, run_demo_compare

    result = (run_demo_compare if compare else run_demo)(
        workdir=workdir, n=n, epochs=epochs, events=events(), say=typer.echo
    )
    if result.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)
    _print_findings(result.findings, result.run)
    if result.comparison is not None:
        typer.echo(f"compare:  {workdir / 'compare' / 'report.md'}")


def _print_findings(rows, run) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="The studies' findings, and this run", show_lines=True)
    for column, style in (
        ("the studies found", "bold"),
        ("this run measured", None),
        ("holds", None),
        ("figure", "dim"),
    ):
        table.add_column(column, style=style, overflow="fold")
    for f in rows:
        colour = {"yes": "green", "no": "red", "inconclusive": "yellow", "not applicable": "blue"}[f.verdict]
        table.add_row(f.claim, f.measured, f"[{colour}]{f.verdict}[/{colour}]", f.figure)
    Console(width=max(Console().width, 120)).print(table)
    typer.echo(f"findings: {run.root / 'findings.md'}")
    typer.echo(f"report:   {run.analysis / 'report.md'}")
    typer.echo(f"figures:  {run.analysis}/*.png")
    typer.echo(f"grids:    {run.samples}/")


@app.command("findings")
@user_errors
def findings_cmd(
    run: Annotated[Path, typer.Option(help="Run directory, analyzed (`latentkit analyze --run RUN`).")],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print findings.json (the rows and every figure's path) instead of the table."),
    ] = False,
    table: Annotated[bool, typer.Option(help="Print the table (a notebook shows its own: --no-table).")] = True,
) -> None:
    """The studies' findings against a run's numbers, as the demo ends: decodes the grids they
    point at into RUN/samples, measures the reconstruction error on the valid partition, writes
    RUN/findings.md and findings.json."""

    from latentkit.analysis.report.schema import read_report
    from latentkit.core import LatentkitError, RunPaths
    from latentkit.demo import write_findings
    from latentkit.model.runs import read_run

    paths = RunPaths.of(run)
    read_run(run).need_decoder("findings (its grids are decoded)")
    report_path = paths.analysis / "report.json"
    if not report_path.exists():
        raise LatentkitError(f"{run} has no analysis ({report_path}): run `latentkit analyze --run {run}` first")
    report = read_report(report_path)
    if "mixture" not in report:
        raise LatentkitError(
            f"{report_path} has no Gaussian mixture (analyzed with --no-mixture): run "
            f"`latentkit analyze --run {run}` again without it"
        )
    _, rows = write_findings(paths, report, say=lambda line: typer.echo(line, err=as_json))  # --json: stdout is JSON
    if as_json:
        typer.echo((paths.root / "findings.json").read_text(encoding="utf-8"), nl=False)
    elif table:
        _print_findings(rows, paths)
    else:
        held, judged = sum(f.verdict == "yes" for f in rows), sum(f.verdict != "not applicable" for f in rows)
        aside = f" ({len(rows) - judged} not applicable)" if judged < len(rows) else ""
        typer.echo(f"{held} of {judged} findings hold for this run{aside}: {paths.root / 'findings.md'}")


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
    from latentkit.model.runs import latents_store, read_run

    paths = RunPaths.of(run)
    if data is None and labels is None:
        data = latents_store(run, read_run(run))
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
    typer.echo(f"report: {paths.analysis / 'attributes.md'}")


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
    typer.echo(f"report: {out / 'report.md'}")


@app.command("plane")
@user_errors
def plane_cmd(
    run: Annotated[
        Path | None, typer.Option(help="Run directory: reads RUN/latents.zarr, writes RUN/analysis.")
    ] = None,
    latents: Annotated[
        Path | None, typer.Option(help="Your vectors instead of a run's (any format `analyze --latents` takes).")
    ] = None,
    column: Annotated[str | None, typer.Option(help="--latents FILE.parquet: the column holding the vectors.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory (default RUN/analysis).")] = None,
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
) -> None:
    """The cloud in one plane at several zooms, with the fitted normal's points in another colour
    and the nearest-neighbour distances in that plane: plane_pcs_I-J.png and .json."""
    from latentkit.analysis.plane import PlaneOptions, plane
    from latentkit.core import LatentkitError, RunPaths, parse_numbers, parse_pairs

    if (run is None) == (latents is None):
        raise LatentkitError("give exactly one of --run DIR or --latents PATH")
    if pcs is not None and axes is not None:
        raise LatentkitError("give one of --pcs I:J or --axes I:J")
    if latents is None:
        latents, out = RunPaths.of(run).latents, out or RunPaths.of(run).analysis
    elif out is None:
        raise LatentkitError("--latents needs --out DIR")
    pair = {flag: parse_pairs(text, flag) for flag, text in (("--pcs", pcs), ("--axes", axes)) if text}
    if any(len(p) != 1 for p in pair.values()):
        raise LatentkitError("--pcs and --axes take one pair, e.g. 0:1")
    middle = None
    if centre is not None:
        try:
            middle = tuple(float(v) for v in centre.split(","))
        except ValueError:
            middle = ()
        if len(middle) != 2:
            raise LatentkitError(f"--centre takes x,y, got {centre!r}")
    options = PlaneOptions(
        pcs=pair.get("--pcs", ((0, 1),))[0] if axes is None else None,
        axes=pair["--axes"][0] if axes is not None else None,
        zooms=None if zoom is None else parse_numbers(zoom, "--zoom"),
        centre=middle,
        max_points=max_points,
        seed=seed,
    )
    report = plane(latents=latents, out=out, options=options, column=column, events=events())
    for row in report["zooms"]:
        typer.echo(f"zoom x{row['zoom']:g}: {row['points']:,} points in the window, {row['groups']} group(s)")
    nn = report["nearest_neighbours"]
    if "median_ratio" in nn:
        typer.echo(f"nearest-neighbour median in the plane, data / fitted normal: {nn['median_ratio']:.3f}")
    typer.echo(f"figure: {Path(out) / report['figure']}")


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
    from latentkit.core import LatentkitError
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
        + f" -> {Path(run) / 'flow'}; next: latentkit analyze --run {run}"
    )
