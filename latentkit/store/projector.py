"""``latentkit export --format projector``: a folder TensorBoard's Embedding Projector opens as it
is (`tensorboard --logdir FOLDER`, Projector tab), written without TensorFlow.

- ``tensors.tsv``: the z-points of a sample of at most 100,000 images (the projector loads no
  more), drawn per partition in proportion, or the analysis' t-SNE sample when there is one;
- ``tsne.tsv``: those rows' t-SNE coordinates as a second embedding, so the projector's own
  t-SNE (sampled down to 10,000 points in the browser) does not decide what you see;
- ``metadata.tsv`` with a header: row, name, partition, each attribute or synthetic factor,
  a k-means cluster, the radius, and whether the point lies in the data's region (k = 1.5);
- ``sprite.png``: the images as a square grid of thumbnails, at most 8192 x 8192 pixels
  (the thumbnail side is chosen to fit);
- ``projector_config.pbtxt`` naming them.

Rows of every file are in the same order. Memory holds the sample's z-points and the sprite.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentkit.core import JobEvents, LatentkitError, RunPaths, atomic_write, check_folder, own_folder, write_text
from latentkit.store.layout import PARTITIONS, open_store, read_all
from latentkit.store.reading import finished_latents

MAX_POINTS = 100_000  # TensorBoard's projector loads no more (tensorflow/tensorboard#773)
MAX_SPRITE = 8192  # the projector's (and WebGL's) limit on the sprite's side


@dataclass(frozen=True)
class ProjectorResult:
    out: Path
    rows: int
    thumbnail: int  # pixels per side of each sprite tile
    tsne: bool  # the t-SNE embedding is included
    bytes: int


def export_projector(
    *,
    run: str | os.PathLike,
    out: str | os.PathLike | None = None,
    sample: int = 20_000,
    clusters: int = 10,
    seed: int = 0,
    events: JobEvents | None = None,
    in_region: Callable[[np.ndarray], np.ndarray] | None = None,
) -> ProjectorResult:
    """Write the projector folder for the run's latents (default RUN/projector). ``in_region``:
    z-points -> inside the data's region? (the analysis' hit test), the metadata's region column."""
    events = events or JobEvents()
    paths = RunPaths.of(run)
    if not 1 <= sample <= MAX_POINTS:
        raise LatentkitError(f"--sample must be 1..{MAX_POINTS:,} (the projector loads no more), got {sample:,}")
    if clusters < 1:
        raise LatentkitError(f"--clusters must be positive, got {clusters}")
    latents = finished_latents(run)
    data = open_store(latents.attrs["source"], holds="images")
    out = check_folder(out or paths.root / "projector", "--out")
    usable = np.flatnonzero(latents["ok"][:].astype(bool) & read_all(data, "ok").astype(bool))
    rng = np.random.default_rng(seed)
    rows, tsne = _rows(paths, usable, read_all(data, "partition"), sample, rng)
    if tsne is None:
        events.message(
            "note: no t-SNE in the run's analysis (`latentkit analyze --run RUN`): the projector's own "
            "t-SNE will sample the points down in the browser"
        )
    order = np.argsort(rows)
    rows, tsne = rows[order], None if tsne is None else tsne[order]  # row order: reads go chunk by chunk
    events.start(f"projector: {len(rows):,} points", total=3)
    z = np.asarray(latents["z"].get_orthogonal_selection((rows,)), np.float64)
    events.advance()
    columns = _metadata(paths, data, rows, z, clusters, seed, events, in_region)
    events.advance()
    own_folder(out)
    _write_tsv(out / "tensors.tsv", z)
    if tsne is not None:
        _write_tsv(out / "tsne.tsv", tsne)
    with atomic_write(out / "metadata.tsv", "w") as handle:
        handle.write("\t".join(columns) + "\n")
        for i in range(len(rows)):
            handle.write("\t".join(str(values[i]) for values in columns.values()) + "\n")
    thumbnail = _sprite(data["images"], rows, out / "sprite.png")
    write_text(out / "projector_config.pbtxt", _config(thumbnail, tsne is not None))
    events.advance()
    events.finish()
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    return ProjectorResult(out, len(rows), thumbnail, tsne is not None, size)


def _rows(
    paths: RunPaths, usable: np.ndarray, partition: np.ndarray, sample: int, rng
) -> tuple[np.ndarray, np.ndarray | None]:
    """The analysis' t-SNE rows (with their coordinates) when there are any, else a sample drawn
    per partition in proportion to its size."""
    embedding, shown = paths.analysis_files.tsne, paths.analysis_files.tsne_rows
    if embedding.exists() and shown.exists():
        rows, coords = np.load(shown), np.load(embedding)
        keep = np.isin(rows, usable)
        rows, coords = rows[keep], coords[keep]
        if len(rows) > sample:
            take = np.sort(rng.choice(len(rows), size=sample, replace=False))
            rows, coords = rows[take], coords[take]
        return rows, coords
    if len(usable) <= sample:
        return usable, None
    picked = []
    for value in np.unique(partition[usable]):
        members = usable[partition[usable] == value]
        share = round(sample * len(members) / len(usable))
        picked.append(rng.choice(members, size=min(share, len(members)), replace=False))
    return np.concatenate(picked)[:sample], None


def _metadata(
    paths: RunPaths, data, rows: np.ndarray, z: np.ndarray, clusters: int, seed: int, events, in_region
) -> dict:
    from sklearn.cluster import MiniBatchKMeans

    names = {v: k for k, v in PARTITIONS.items()}
    columns = {
        "row": rows,
        "name": [str(s) for s in data["names"].get_orthogonal_selection((rows,))],
        "partition": [names.get(int(v), "none") for v in data["partition"].get_orthogonal_selection((rows,))],
    }
    for array, labels in (("attributes", "attribute_names"), ("factors", "factor_names")):
        if array in data:
            values = np.asarray(data[array].get_orthogonal_selection((rows,)))
            for j, label in enumerate(data.attrs.get(labels) or [f"{array}_{j}" for j in range(values.shape[1])]):
                columns[label] = [f"{v:.3g}" if values.dtype.kind == "f" else int(v) for v in values[:, j]]
    k = min(clusters, len(rows))
    columns["cluster"] = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3).fit_predict(z)
    columns["radius"] = [f"{r:.3f}" for r in np.linalg.norm(z, axis=1)]
    if in_region is not None:
        columns["region"] = np.where(in_region(z), "in", "out")
    else:
        events.message("note: no analysis (`latentkit analyze --run RUN`): metadata.tsv has no region column")
    return columns


def _write_tsv(path: Path, values: np.ndarray) -> None:
    with atomic_write(path, "w") as handle:
        for row in values:
            handle.write("\t".join(f"{v:.6g}" for v in row) + "\n")


def _sprite(images, rows: np.ndarray, path: Path) -> int:
    """A square grid of the images' thumbnails, row-major, at most MAX_SPRITE pixels a side."""
    from PIL import Image

    per_side = math.ceil(math.sqrt(len(rows)))
    thumbnail = max(1, min(images.shape[1], MAX_SPRITE // per_side))
    canvas = Image.new("RGB", (per_side * thumbnail, per_side * thumbnail), "white")
    chunk = images.chunks[0]
    for start in range(0, len(rows), chunk):  # rows are sorted: each read is a few chunks
        block = np.asarray(images.get_orthogonal_selection((rows[start : start + chunk],)))
        for i, pixels in enumerate(block, start):
            tile = Image.fromarray(pixels).resize((thumbnail, thumbnail), Image.Resampling.BILINEAR)
            canvas.paste(tile, ((i % per_side) * thumbnail, (i // per_side) * thumbnail))
    with atomic_write(path) as handle:
        canvas.save(handle, format="PNG")
    return thumbnail


def _config(thumbnail: int, tsne: bool) -> str:
    sprite = f'  sprite {{\n    image_path: "sprite.png"\n    single_image_dim: {thumbnail}\n    single_image_dim: {thumbnail}\n  }}\n'
    blocks = [("z", "tensors.tsv")] + ([("t-SNE (latentkit analyze)", "tsne.tsv")] if tsne else [])
    return "".join(
        f'embeddings {{\n  tensor_name: "{name}"\n  tensor_path: "{tensor}"\n  metadata_path: "metadata.tsv"\n'
        f"{sprite}}}\n"
        for name, tensor in blocks
    )
