"""The attributes job: where CelebA's 40 attributes (or the synthetic faces' factors) lie in a latent cloud.

Per attribute: the centroid of each class on the train partition (streamed, chunk by chunk),
the direction between them (what latent arithmetic adds to a z-point), and how well the
classes separate on the valid partition: a logistic-regression probe's accuracy, the accuracy
of the centroid direction alone (threshold at the midpoint), and the majority-class rate to
beat. The probe learns on a bounded sample, so memory does not grow with the dataset.

Labels: CelebA's -1/1 (0 = unknown, left out); a synthetic factor is "present" where it is
above 0 (its median: the factors are standard normal).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentkit import store
from latentkit.analysis.report.files import write_report
from latentkit.analysis.report.schema import AttributesReport
from latentkit.core import AnalysisPaths, JobEvents, LatentkitError, atomic_write, check_folder, own_folder, write_text
from latentkit.store import PARTITIONS, list_attr, read_all
from latentkit.store.latents import open_latents, read_blocks


@dataclass(frozen=True)
class AttributeOptions:
    """How ``attributes`` samples: the train rows its probes learn on, the rows per read, the seed."""

    probe_sample: int = 20_000  # train rows the probe learns on (and at most as many valid rows it is scored on)
    read_rows: int = 20_000
    seed: int = 0


@dataclass(frozen=True)
class Labels:
    names: list[str]
    source: str  # "celeba attributes" or "synthetic factors (present: > 0)"
    array: Any  # zarr array (N, A)
    partition: np.ndarray  # (N,) uint8
    usable: np.ndarray  # (N,) bool: written and decoded fine

    def read(self, start: int, stop: int) -> np.ndarray:
        """int8 labels of rows start..stop: 1 present, -1 absent, 0 unknown."""
        return self._classes(self.array[start:stop])

    def take(self, rows: np.ndarray) -> np.ndarray:
        """int8 labels of the given rows."""
        if isinstance(self.array, np.ndarray):
            return self._classes(self.array[rows])
        return self._classes(self.array.get_orthogonal_selection((rows,)))

    def _classes(self, values) -> np.ndarray:
        values = np.asarray(values)
        if self.source.startswith(("celeba", "labels file")):  # classes already: 1, -1, 0
            return values.astype(np.int8)
        return np.where(values > 0, 1, -1).astype(np.int8)


def file_labels(path: str | os.PathLike, n: int, events: JobEvents) -> Labels:
    """A labels file's columns as two classes each (``latentkit.store.vectors.read_labels``)."""
    from latentkit.store.vectors import read_labels

    table = read_labels(path, n)
    names, classes, skipped = table.classes()
    if skipped:
        events.message(f"labels: left out {', '.join(skipped)}: neither numbers nor two values")
    if not names:
        raise LatentkitError(f"--labels {path} has no column with numbers or two values to use as classes")
    partition = table.partition if table.partition is not None else np.full(n, PARTITIONS["train"], np.uint8)
    return Labels(
        names,
        f"labels file {Path(path).name} (numbers: above the median is present)",
        classes,
        partition,
        np.ones(n, bool),
    )


def store_labels(data: str | os.PathLike) -> Labels:
    """The store's per-image labels, or one clear line saying it has none."""
    from latentkit.store import chunk_progress

    group = store.open_store(data, holds="images")
    usable = chunk_progress(group).row_mask() & read_all(group, "ok")
    partition = read_all(group, "partition")
    names = list_attr(group, "attribute_names")
    if names and "attributes" in group:
        return Labels(names, "celeba attributes", group["attributes"], partition, usable)
    if "factors" in group:
        return Labels(
            list_attr(group, "factor_names"), "synthetic factors (present: > 0)", group["factors"], partition, usable
        )
    raise LatentkitError(
        f"{data} has no attributes: prepare CelebA with its list_attr_celeba file, "
        "or use the synthetic faces (their factors act as attributes)"
    )


def attributes(
    *,
    latents: str | os.PathLike,
    data: str | os.PathLike | None,
    out: str | os.PathLike,
    options: AttributeOptions | None = None,
    show: list[str] | None = None,
    events: JobEvents | None = None,
    labels: str | os.PathLike | None = None,
    column: str | None = None,
) -> AttributesReport:
    """Write OUT/attributes.json, attributes.md, attributes.npz (centroids and directions) and figures.

    ``show``: attributes to draw (PC0-PC1 of the held-out rows and, where ``analyze`` left a
    t-SNE in OUT, the t-SNE, coloured by class); default the four best separated.
    ``labels``: a labels file (parquet or CSV, a row per vector) instead of the store's labels.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    options, events = options or AttributeOptions(), events or JobEvents()
    check_folder(out, "--out")
    array, mask = open_latents(latents, column)
    n, dim = array.shape
    if labels is not None:
        label_set = file_labels(labels, n, events)
    else:
        assert data is not None, "attributes needs the store (data) or a labels file"
        label_set = store_labels(data)
    if len(label_set.usable) != n:
        raise LatentkitError(
            f"{latents} has {n:,} rows but {data} has {len(label_set.usable):,} images: not its latents"
        )
    unknown = [name for name in show or [] if name not in label_set.names]
    if unknown:
        raise LatentkitError(f"unknown attribute {unknown[0]!r}: one of {', '.join(label_set.names)}")
    usable = label_set.usable & (np.ones(n, bool) if mask is None else mask)
    train = usable & (label_set.partition == PARTITIONS["train"])
    held_out = usable & (label_set.partition == PARTITIONS["valid"])
    held_out_name = "valid"
    rng = np.random.default_rng(options.seed)
    if not held_out.any():  # say so, never silently: a store made without a valid partition
        held_out_name = "random 20% of train (the store has no valid partition)"
        moved = np.flatnonzero(train)[rng.random(int(train.sum())) < 0.2]
        train[moved], held_out[moved] = False, True
    if train.sum() < 2 or not held_out.any():
        raise LatentkitError(f"{data} has too few usable labelled images ({int(train.sum())} train) for attributes")

    count = len(label_set.names)
    centroids, counts = _class_centroids(array, label_set, train, options, events)
    directions = centroids[:, 1] - centroids[:, 0]

    def sample(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.sort(rng.choice(rows, size=min(options.probe_sample, len(rows)), replace=False))
        return np.asarray(array.get_orthogonal_selection((rows,)), np.float64), label_set.take(rows)

    z_train, y_train = sample(np.flatnonzero(train))
    z_valid, y_valid = sample(np.flatnonzero(held_out))
    scaler = StandardScaler().fit(z_train)
    s_train, s_valid = scaler.transform(z_train), scaler.transform(z_valid)
    rows: list[dict[str, Any]] = []
    events.start(f"attributes: linear probes on {len(z_train):,} rows", total=count)
    for a, name in enumerate(label_set.names):
        known_train, known_valid = y_train[:, a] != 0, y_valid[:, a] != 0
        row: dict[str, Any] = {
            "name": name,
            "train_counts": {"absent": int(counts[a, 0]), "present": int(counts[a, 1])},
        }
        classes = set(np.unique(y_train[known_train, a]))
        if counts[a].min() < 2 or classes != {-1, 1} or not known_valid.any():
            row["skipped"] = "one class only (or no labels) in the train or held-out rows"
        else:
            probe = LogisticRegression(max_iter=1000).fit(s_train[known_train], y_train[known_train, a])
            truth = y_valid[known_valid, a]
            weights = probe.coef_[0] / scaler.scale_  # back to latent coordinates
            unit = directions[a] / (np.linalg.norm(directions[a]) or 1.0)
            midpoint = float((centroids[a, 0] + centroids[a, 1]) @ unit / 2)
            along = np.where(z_valid[known_valid] @ unit > midpoint, 1, -1)
            row.update(
                probe_accuracy=float(probe.score(s_valid[known_valid], truth)),
                direction_accuracy=float(np.mean(along == truth)),
                majority_rate=float(max(np.mean(truth == 1), np.mean(truth == -1))),
                centroid_distance=float(np.linalg.norm(directions[a])),
                probe_direction_cosine=float(weights @ unit / (np.linalg.norm(weights) or 1.0)),
                valid_rows=int(known_valid.sum()),
            )
        rows.append(row)
        events.advance(1)
    events.finish()

    out = own_folder(out)
    best = [r["name"] for r in ranked(rows) if "skipped" not in r]
    figures = [
        _attribute_figure(out, name, label_set.names.index(name), z_valid, y_valid, label_set)
        for name in (show if show is not None else best[:4])
    ]
    files = AnalysisPaths(out)
    with atomic_write(files.directions) as handle:
        np.savez(handle, names=np.array(label_set.names), centroids=centroids, directions=directions)
    report: AttributesReport = {
        "latents": str(latents),
        "data": str(data or ""),
        "labels": label_set.source,
        "held_out": held_out_name,
        "options": asdict(options),
        "train_rows": int(train.sum()),
        "probe_train_rows": len(z_train),
        "attributes": rows,
        "directions": str(files.directions),
        "figures": figures,
    }
    write_report(files.attributes, report, AttributesReport)
    write_text(files.attributes_markdown, attributes_markdown(report))
    return report


def _attribute_figure(out: Path, name: str, a: int, z: np.ndarray, y: np.ndarray, labels: Labels) -> str:
    """PC0-PC1 of the held-out rows (and the analysis' t-SNE, if there is one) coloured by one attribute."""
    from latentkit.analysis.report.run_figures import attribute_figure

    tsne = AnalysisPaths(out).tsne, AnalysisPaths(out).tsne_rows
    panels = [("PC0-PC1 of the held-out rows", _pcs(z), y[:, a])]
    if all(path.exists() for path in tsne):
        rows = np.load(tsne[1])
        if len(rows) and rows.max() < len(labels.usable):
            panels.append((f"t-SNE of {len(rows):,} rows (from analyze)", np.load(tsne[0]), labels.take(rows)[:, a]))
    absent, present = (
        (f"not {name}", name)
        if labels.source.startswith(("celeba", "labels file"))
        else (f"{name} <= 0", f"{name} > 0")
    )
    return attribute_figure(out / f"attribute_{_file_name(name)}.png", name, panels, absent, present)


def _pcs(z: np.ndarray) -> np.ndarray:
    centred = z - z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[:5000], full_matrices=False)
    return centred @ vt[:2].T


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _class_centroids(
    array, labels: Labels, train: np.ndarray, options: AttributeOptions, events: JobEvents
) -> tuple[np.ndarray, np.ndarray]:
    """Per attribute, the mean z of its absent and present train rows (A, 2, D), and their counts (A, 2).

    One streamed pass: memory holds a block of rows and the (A, 2, D) sums, whatever N is.
    """
    n, dim = array.shape
    sums, counts = np.zeros((len(labels.names), 2, dim)), np.zeros((len(labels.names), 2), np.int64)
    events.start(f"attributes: class centroids over {n:,} rows", total=n)
    for start, z in read_blocks(array, options.read_rows):
        y = labels.read(start, start + len(z))
        keep = train[start : start + len(z)]
        for c, value in enumerate((-1, 1)):
            member = (y == value) & keep[:, None]  # (rows, A)
            sums[:, c] += member.T.astype(np.float64) @ z
            counts[:, c] += member.sum(axis=0)
        events.advance(len(z))
    events.finish()
    return sums / np.maximum(counts, 1)[:, :, None], counts


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attribute rows best separated first (by the probe's accuracy), skipped ones last."""
    return sorted(rows, key=lambda r: -r.get("probe_accuracy", -1))


def attributes_markdown(report: AttributesReport) -> str:
    lines = [
        "# Attributes in the latent space",
        "",
        f"Labels: {report['labels']}; probes learn on {report['probe_train_rows']:,} train rows and are scored "
        f"on the held-out rows ({report['held_out']}).",
        "",
        "| attribute | probe accuracy | centroid-direction accuracy | majority rate | centroid distance |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in ranked(report["attributes"]):
        if "skipped" in row:
            lines.append(f"| {row['name']} | skipped: {row['skipped']} | | | |")
        else:
            lines.append(
                f"| {row['name']} | {row['probe_accuracy']:.3f} | {row['direction_accuracy']:.3f} | "
                f"{row['majority_rate']:.3f} | {row['centroid_distance']:.3f} |"
            )
    return "\n".join(lines) + "\n"
