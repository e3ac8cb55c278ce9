"""The ``latentkit`` commands that decode pictures from a run's model: ``generate`` (z-points
drawn by a generator, or an attribute walk), ``reconstruct`` (a partition or your own photos)
and ``interpolate``.

Like every command module: parse, call one library function (imported inside the command), print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from latentkit.cli.app import Force, Picture, app, user_errors
from latentkit.core import LatentkitError


@app.command("generate")
@user_errors
def generate_cmd(
    run: Annotated[
        Path, typer.Option(help="Run directory (with analysis/ for component, mvn, gmm, kde and reweighted).")
    ],
    out: Picture,
    method: Annotated[
        str,
        typer.Option(
            help="uniform | normal | component | mvn | gmm (the fitted mixture) | kde "
            "(the kernel density) | posterior (a VAE's aggregate posterior) | flow (`latentkit flow`) | "
            "reweighted (the fitted normal reweighted by the hole atlas's density ratio)"
        ),
    ] = "mvn",
    b: Annotated[float, typer.Option(help="Uniform: each component in [-b, b].")] = 1.5,
    n: Annotated[int, typer.Option(help="Images to generate.")] = 28,
    sharpen: Annotated[float | None, typer.Option(help="PIL Sharpness factor, e.g. 7.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated z-points.", min=0)] = 0,
    attribute: Annotated[
        str | None,
        typer.Option(
            help="Instead: walk an image's z-point along this attribute's "
            "direction (`latentkit attributes` first), e.g. Smiling."
        ),
    ] = None,
    strength: Annotated[
        float, typer.Option(help="Attribute walk: how far, in centroid distances (negative: take the attribute away).")
    ] = 1.0,
    image: Annotated[int, typer.Option(help="Attribute walk: the store row of the image to start from.", min=0)] = 0,
    steps: Annotated[int, typer.Option(help="Attribute walk: decoded points along the path.", min=2)] = 8,
    force: Force = False,
) -> None:
    """Decode generated z-points into an image grid and print how many hit the data region;
    or, with --attribute, decode one image's z-point walked along an attribute direction."""
    if attribute is not None:
        from latentkit.analysis.generate import attribute_walk

        result = attribute_walk(
            run=run, attribute=attribute, out=out, strength=strength, image=image, steps=steps, force=force
        )
        typer.echo(
            f"wrote image {image} and {steps} points along {attribute} (distance {result['distance']:.3f}) to {out}"
        )
        hits = result["hit_fraction"]
    else:
        from latentkit.analysis.report.decoded import generate

        result = generate(run=run, method=method, out=out, n=n, b=b, sharpen=sharpen, seed=seed, force=force)
        hits = result["hit_fraction"]
        if result["out"] is None:
            typer.echo(
                f"warning: {run} has no decoder: no image written; the {result['n']} z-points' hit fractions follow",
                err=True,
            )
        else:
            typer.echo(f"wrote {result['n']} images to {out}")
        if result["stale"]:
            typer.echo(f"warning: {result['stale']}", err=True)
    typer.echo(
        "hit fraction "
        + (
            ", ".join(f"k={k}: {v:.3f}" for k, v in hits.items())
            if hits
            else "n/a (run `latentkit analyze` for the data region)"
        )
    )
    if "shell_fraction" in result:
        typer.echo(
            f"inside the data's shell (Mahalanobis distance and radius within the data's own 1st-99th "
            f"percentiles): {result['shell_fraction']:.3f}"
        )
    if result.get("box_holds_origin"):
        typer.echo(
            "note: the hit test's box holds the origin (no component lies 1.5 half-widths off-centre), so any "
            "box around 0 lands in it whatever the data's shape: read the shell's share"
        )


@app.command("reconstruct")
@user_errors
def reconstruct_cmd(
    run: Annotated[Path, typer.Option(help="Run directory.")],
    out: Picture,
    n: Annotated[int, typer.Option(help="Images: a random sample across the partition, in store order.", min=1)] = 16,
    partition: Annotated[str, typer.Option(help="train | valid | test | all")] = "valid",
    seed: Annotated[int, typer.Option(help="Seed of the sample: the same seed shows the same images.", min=0)] = 0,
    images: Annotated[
        Path | None,
        typer.Option(
            help="Your own photos instead: a folder, zip or tar of images, "
            "decoded, cropped (--crop) and resized as prepare does."
        ),
    ] = None,
    crop: Annotated[
        str,
        typer.Option(
            help="--images: center (largest central square) or a box X0,Y0,X1,Y1 "
            "(CelebA's aligned photos: 15,40,163,188)."
        ),
    ] = "center",
    force: Force = False,
) -> None:
    """Originals above their reconstructions: a partition of the run's store, or your own photos."""
    from latentkit.analysis.report.decoded import reconstruct
    from latentkit.model.opened import OpenedRun

    photos, opened = None, OpenedRun.of(run)
    if images is not None:
        from latentkit.core import parse_image_crop
        from latentkit.ingest import decode_images

        if not images.exists():
            raise LatentkitError(f"--images {images} does not exist")
        described = opened.described
        photos, names, skipped = decode_images(images, size=described.image_size, crop=parse_image_crop(crop), limit=n)
        for line in skipped:
            typer.echo(f"skipped {line}", err=True)
        if len(photos) == 0:
            raise LatentkitError(f"--images {images} holds no image latentkit can read (jpg, jpeg, png, webp)")
    result = reconstruct(run=run, out=out, n=n, partition=partition, seed=seed, force=force, images=photos)
    typer.echo(f"wrote {result['n']} originals and reconstructions to {out} (RMSE {result['rmse']:.4f})")


@app.command("interpolate")
@user_errors
def interpolate_cmd(
    run: Annotated[Path, typer.Option(help="Run directory.")],
    out: Picture,
    from_: Annotated[
        int | None,
        typer.Option("--from", help="Store row of the first image (default: drawn at random from --partition).", min=0),
    ] = None,
    to: Annotated[
        int | None, typer.Option(help="Store row of the second image (default: drawn at random).", min=0)
    ] = None,
    steps: Annotated[int, typer.Option(help="Decoded points on the path.", min=2)] = 10,
    partition: Annotated[
        str, typer.Option(help="Where ends not given are drawn: train | valid | test | all")
    ] = "valid",
    seed: Annotated[int, typer.Option(help="Seed of the ends drawn.", min=0)] = 0,
    path: Annotated[
        str,
        typer.Option(
            help="straight (the line between the two z-points) | geodesic (the shortest path over the "
            "k-NN graph of the data's latents, drawn and scored beside the straight line)"
        ),
    ] = "straight",
    k: Annotated[int, typer.Option(help="--path geodesic: neighbours per point in the graph.", min=1)] = 10,
    weights: Annotated[
        str, typer.Option(help="--path geodesic: edge weights, latent (z distance) | images (decoded pixels).")
    ] = "latent",
    graph_points: Annotated[
        int, typer.Option(help="--path geodesic: the data's latents in the graph (a seeded sample).", min=3)
    ] = 2000,
    force: Force = False,
) -> None:
    """Decode the straight path between two images' z-points (originals at both ends); with
    --path geodesic, the path over the data's k-NN graph beside it, each step scored."""
    from latentkit.analysis.generate import interpolate

    result = interpolate(
        run=run,
        start=from_,
        stop=to,
        out=out,
        steps=steps,
        partition=partition,
        seed=seed,
        force=force,
        path=path,
        k=k,
        weights=weights,
        graph_points=graph_points,
    )
    typer.echo(
        f"wrote {result['steps']} steps from row {result['from']} to row {result['to']} to {out} "
        f"(z distance {result['distance']:.2f})"
    )
    if path == "geodesic":
        graph = result["graph"]
        typer.echo(
            f"geodesic: {graph['hops']} hops over the {graph['k']}-NN graph of {graph['points']:,} latents "
            f"({graph['weights']} weights)"
        )
        for name, scores in result["paths"].items():
            typer.echo(
                f"{name:>9}: re-encoding median {scores['reencoding_median']:.3f}, max "
                f"{scores['reencoding_max']:.3f}; decoded step mean {scores['step_size_mean']:.4f}, max "
                f"{scores['step_size_max']:.4f}; z length {scores['z_length']:.2f}"
            )
