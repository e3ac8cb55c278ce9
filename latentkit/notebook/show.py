"""A run's results shown inline in a notebook (IPython display): what the files already hold,
read without Keras and without parsing any command's text."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from latentkit.core import RunPaths

INLINE_BYTES = 150_000  # a picture larger than this is shown as a JPEG (the file keeps its PNG): notebooks stay small
_IN_A_RUN = RunPaths(Path())  # paths relative to the run directory
RESULTS = (  # (caption, path in the run): what a study looks at first
    ("Radius of the data's z-points and of generated ones", _IN_A_RUN.analysis_files.figure("radius")),
    ("Each component's distribution, with its Gaussian fit", _IN_A_RUN.analysis_files.figure("components")),
    ("Images decoded from the fitted multivariate normal", _IN_A_RUN.sample("generated_mvn")),
    ("Originals (odd rows) above their reconstructions", _IN_A_RUN.sample("reconstructions")),
)


def show_training(run: str | os.PathLike) -> None:
    """The loss curve per epoch (RUN/samples/training.png, drawn from history.csv), shown inline."""
    from IPython.display import Markdown, display

    from latentkit.model.epoch_output import draw_training

    paths = RunPaths.of(run)
    if not paths.history.exists():
        display(Markdown(f"no epoch finished yet in `{paths.root}`"))
        return
    history = list(csv.DictReader(paths.history.open(encoding="utf-8")))
    out = paths.training_figure  # drawn by train after every epoch; drawn here for older runs
    if not out.exists():
        draw_training(history, out)
    display(Markdown(f"**Training** ({len(history)} epochs; last loss {float(history[-1]['loss']):.2f})"))
    display(_inline(out))


def show_results(run: str | os.PathLike) -> None:
    """The studies' findings against this run (RUN/findings.json from `latentkit findings`), and
    the radius, components, generated and reconstructed pictures, shown inline."""
    from IPython.display import Markdown, display

    paths = RunPaths.of(run)
    found = paths.findings
    if found.exists():
        rows = json.loads(found.read_text(encoding="utf-8"))["findings"]
        table = ["| the studies found | this run measured | holds |", "| --- | --- | --- |"]
        said = {True: "yes", False: "**no**", None: "inconclusive"}
        cell = lambda text: text.replace("|", "\\|")  # noqa: E731  (|r| in a cell must not end it)
        table += [
            f"| {cell(r['claim'])} | {cell(r['measured'])} | {r.get('verdict') or said[r['holds']]} |" for r in rows
        ]
        display(Markdown("\n".join(table)))
    for caption, relative in RESULTS:
        picture = paths.root / relative
        if picture.exists():
            display(Markdown(f"**{caption}** (`{relative}`)"))
            display(_inline(picture))


def _inline(picture: Path):
    """An IPython image of ``picture``: as it is when small, else a JPEG of it (a grid of images as
    PNG is half a megabyte; as a JPEG, a tenth of that)."""
    import io

    from IPython.display import Image
    from PIL import Image as Picture

    if picture.stat().st_size <= INLINE_BYTES:
        return Image(filename=str(picture))
    buffer = io.BytesIO()
    with Picture.open(picture) as image:
        image.convert("RGB").save(buffer, format="JPEG", quality=88)
    return Image(data=buffer.getvalue(), format="jpeg")
