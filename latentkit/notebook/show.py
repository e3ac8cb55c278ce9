"""A run's results shown inline in a notebook (IPython display): what the files already hold,
read without Keras and without parsing any command's text."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from latentkit.core import RunPaths

RESULTS = (  # (caption, path in the run): what a study looks at first
    ("Radius of the data's z-points and of generated ones", "analysis/radius.png"),
    ("Each component's distribution, with its Gaussian fit", "analysis/components.png"),
    ("Faces decoded from the fitted multivariate normal", "samples/generated_mvn.png"),
    ("Originals (odd rows) above their reconstructions", "samples/reconstructions.png"),
)


def show_training(run: str | os.PathLike) -> Path | None:
    """The loss curve per epoch (RUN/samples/training.png, drawn from history.csv), shown inline."""
    from IPython.display import Image, Markdown, display

    from latentkit.analysis.figures import draw_training

    paths = RunPaths.of(run)
    if not paths.history.exists():
        display(Markdown(f"no epoch finished yet in `{paths.root}`"))
        return None
    history = list(csv.DictReader(paths.history.open(encoding="utf-8")))
    out = paths.samples / "training.png"
    draw_training(history, out)
    display(Markdown(f"**Training** ({len(history)} epochs; last loss {float(history[-1]['loss']):.2f})"))
    display(Image(filename=str(out)))
    return out


def show_results(run: str | os.PathLike) -> list[Path]:
    """The studies' findings against this run (RUN/findings.json from `latentkit findings`), and
    the radius, components, generated and reconstructed pictures, shown inline."""
    from IPython.display import Image, Markdown, display

    paths = RunPaths.of(run)
    found = paths.root / "findings.json"
    if found.exists():
        rows = json.loads(found.read_text(encoding="utf-8"))["findings"]
        table = ["| the studies found | this run measured | holds |", "| --- | --- | --- |"]
        table += [f"| {r['claim']} | {r['measured']} | {'yes' if r['holds'] else '**no**'} |" for r in rows]
        display(Markdown("\n".join(table)))
    shown = []
    for caption, relative in RESULTS:
        picture = paths.root / relative
        if picture.exists():
            display(Markdown(f"**{caption}** (`{relative}`)"))
            display(Image(filename=str(picture)))
            shown.append(picture)
    return shown
