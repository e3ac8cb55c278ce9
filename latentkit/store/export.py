"""The export job: a run's latents (and the store's labels) as plain files, streamed chunk by chunk.

``npy``: a folder with one ``COLUMN.npy`` per column and ``columns.json`` (labels);
``parquet``: one file, a row per image, z/mu/logvar as fixed-size lists, attributes,
factors and landmarks one column per label. Memory holds one latents chunk whatever N.
The output is built under a temporary name and renamed when whole, and refused up front
when it would not fit the disk.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from latentkit.core import JobEvents, LatentkitError, RunPaths, atomic_write
from latentkit.store import layout
from latentkit.store.chunks import chunk_progress
from latentkit.store.layout import PARTITIONS

FORMATS = ("npy", "parquet")
LATENT_COLUMNS = ("z", "mu", "logvar")
DATA_COLUMNS = ("names", "partition", "attributes", "factors", "identity", "landmarks")
LABELS = {"attributes": "attribute_names", "factors": "factor_names", "landmarks": "landmark_names"}
DEFAULT_COLUMNS = ("row", "names", "partition", "z")


@dataclass(frozen=True)
class ExportResult:
    out: Path
    rows: int
    columns: tuple[str, ...]
    bytes: int


def export_latents(
    *,
    run: str | os.PathLike,
    format: str,
    out: str | os.PathLike | None = None,
    partition: str | None = None,
    columns: tuple[str, ...] = DEFAULT_COLUMNS,
    rows: str | os.PathLike | None = None,
    events: JobEvents | None = None,
) -> ExportResult:
    """Write the rows of ``partition`` (every encoded, decodable image by default) of the run's latents;
    ``rows``: only those listed in this file (row numbers, whitespace-separated: what the report
    page's "save the selected rows" gives)."""
    events = events or JobEvents()
    paths = RunPaths.of(run)
    if format not in FORMATS:
        raise LatentkitError(f"--format must be one of {', '.join(FORMATS)}, projector, got {format!r}")
    latents = layout.open_store(paths.latents, holds="z")
    progress = chunk_progress(latents)
    if not progress.complete:
        raise LatentkitError(f"{paths.latents} is incomplete: {len(progress.missing)} chunks not encoded yet")
    data = layout.open_store(layout.str_attr(latents, "source"), holds="images")
    unknown = [c for c in columns if c != "row" and c not in LATENT_COLUMNS + DATA_COLUMNS]
    missing = [c for c in columns if c in LATENT_COLUMNS and c not in latents or c in DATA_COLUMNS and c not in data]
    if unknown or missing:
        raise LatentkitError(
            f"--columns: {', '.join(unknown + missing)} not in this run (it has row, "
            + ", ".join(c for c in LATENT_COLUMNS if c in latents)
            + ", "
            + ", ".join(c for c in DATA_COLUMNS if c in data)
            + ")"
        )
    mask = layout.read_all(latents, "ok").astype(bool)
    if partition not in (None, "all"):
        if partition not in PARTITIONS:
            raise LatentkitError(f"--partition must be train, valid, test or all, got {partition!r}")
        mask &= layout.read_all(data, "partition") == PARTITIONS[partition]
    if rows is not None:
        mask &= _listed(Path(rows), len(mask))
    count = int(mask.sum())
    if count == 0:
        raise LatentkitError(f"no rows in partition {partition!r}" + (f" among those of {rows}" if rows else ""))
    name = f"-{partition or 'all'}" + (f"-{Path(rows).stem}" if rows is not None else "")
    suffix = name + (".parquet" if format == "parquet" else "")
    out = Path(out or paths.root / f"latents{suffix}")
    if out.exists():
        raise LatentkitError(f"{out} exists: remove it or give another --out")
    source = {c: latents[c] if c in LATENT_COLUMNS else data[c] for c in columns if c != "row"}
    names_width = max((len(str(s)) for s in layout.read_all(data, "names")), default=1) if "names" in columns else 0
    need = count * sum(_row_bytes(c, source.get(c), names_width) for c in columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out.parent).free
    if need > free:
        raise LatentkitError(
            f"the export needs about {need / 2**20:,.0f} MB, {out.parent} has "
            f"{free / 2**20:,.0f} MB free: choose another --out or fewer --columns"
        )
    labels = {c: layout.list_attr(data, LABELS[c]) for c in columns if c in LABELS}
    blocks = _blocks(latents, mask, source, columns, events)
    if format == "npy":
        _write_npy(out, blocks, source, columns, count, names_width, labels)
    else:
        _write_parquet(out, blocks, source, columns, labels)
    size = sum(p.stat().st_size for p in out.rglob("*")) if out.is_dir() else out.stat().st_size
    return ExportResult(out, count, tuple(columns), size)


def _listed(path: Path, n: int) -> np.ndarray:
    """A mask of the rows a file lists (whitespace-separated row numbers; a '#' starts a comment)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LatentkitError(f"--rows {path}: cannot be read ({error.strerror})") from None
    words = " ".join(line.split("#")[0] for line in text.splitlines()).split()
    if not all(w.isdigit() for w in words):
        raise LatentkitError(f"--rows {path}: give row numbers separated by spaces or lines (as the report saves them)")
    listed = np.array([int(w) for w in words], dtype=np.int64)
    if len(listed) and listed.max() >= n:
        raise LatentkitError(f"--rows {path}: row {listed.max()} is outside the latents (0..{n - 1})")
    mask = np.zeros(n, bool)
    mask[listed] = True
    return mask


def _row_bytes(column: str, array, names_width: int) -> int:
    if column == "row":
        return 8
    if column == "names":
        return 4 * names_width
    return int(np.prod(array.shape[1:], dtype=np.int64)) * array.dtype.itemsize


def _blocks(latents, mask, source, columns, events):
    """(columns -> selected rows) per latents chunk, in row order."""
    n, chunk = latents.attrs["n"], latents.attrs["chunk"]
    events.start("export", total=int(mask.sum()))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        keep = np.flatnonzero(mask[start:stop])
        if len(keep) == 0:
            continue
        block = {"row": (start + keep).astype(np.int64)}
        for column in columns:
            if column != "row":
                block[column] = np.asarray(source[column][start:stop])[keep]
        yield block
        layout.throttle()
        events.advance(len(keep))
    events.finish()


def _write_npy(out: Path, blocks, source, columns, count: int, names_width: int, labels) -> None:
    from numpy.lib.format import open_memmap

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True)
    try:
        files = {}
        dtype: DTypeLike
        for column in columns:
            if column == "row":
                shape, dtype = (count,), np.int64
            elif column == "names":
                shape, dtype = (count,), f"<U{max(names_width, 1)}"
            else:
                shape, dtype = (count, *source[column].shape[1:]), source[column].dtype
            files[column] = open_memmap(tmp / f"{column}.npy", mode="w+", dtype=dtype, shape=shape)
        at = 0
        for block in blocks:
            rows = len(block["row"])
            for column, target in files.items():
                target[at : at + rows] = block[column]
            at += rows
        for target in files.values():
            target.flush()  # msync: the pages are on disk before the rename
        del files
        with atomic_write(tmp / "columns.json", "w") as handle:
            json.dump({"columns": list(columns), "rows": count, "labels": labels}, handle, indent=1)
        os.replace(tmp, out)  # the folder appears whole under its final name
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_parquet(out: Path, blocks, source, columns, labels) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise LatentkitError('--format parquet needs pyarrow: pip install "latentkit[parquet]"') from None
    writer = None
    with atomic_write(out) as handle:
        for block in blocks:
            table = pa.table(_arrow_columns(pa, block, columns, labels))
            if writer is None:
                writer = pq.ParquetWriter(handle, table.schema)
            writer.write_table(table)
        assert writer is not None  # the export has rows: refused up front otherwise
        writer.close()


def _arrow_columns(pa, block, columns, labels) -> dict:
    arrays = {}
    for column in columns:
        values = block[column]
        if column in LATENT_COLUMNS:
            arrays[column] = pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), values.shape[1])
        elif column in labels:  # one column per label: "Smiling", "skin_tone", "lefteye_x", ...
            for j, label in enumerate(labels[column] or [f"{column}_{j}" for j in range(values.shape[1])]):
                arrays[label] = pa.array(values[:, j])
        else:
            arrays[column] = pa.array(values.tolist(), pa.string()) if column == "names" else pa.array(values)
    return arrays
