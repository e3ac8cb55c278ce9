"""A user's own vectors and labels, read as analyze and attributes read latentkit's latents.

Vectors (N, D): a zarr array or group (``latents.zarr``), a ``.npy`` file (memory-mapped),
a folder of ``.npy`` shards (concatenated in natural name order: shard_2 before shard_10;
an ``export --format npy`` folder gives its ``z.npy``), or a column of a parquet file (a
list column, as ``export --format parquet``, latent-scope and embedding-atlas write them),
read row group by row group. Every source answers ``shape``, ``chunks``, slices of rows and
``get_orthogonal_selection`` as a zarr array does, so the jobs stream any of them alike.

Labels: a parquet or CSV file with a row per vector; each column becomes two classes for the
attributes analysis (booleans; two values, the larger "present"; numbers, above the median;
text with two values) and a colouring of the report's map.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentkit.core import LatentkitError

READ_ROWS = 20_000  # rows per read of a source without chunks of its own
LATENT_COLUMNS = ("z", "mu", "logvar")
NOT_LABELS = ("row", "names", "name", "partition", *LATENT_COLUMNS)


class _Rows:
    """Rows of a (N, D) source: slices and row selections as numpy float arrays."""

    shape: tuple[int, int]
    chunks: tuple[int, int]

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.shape[0])
        return self._read(start, max(start, stop))

    def get_orthogonal_selection(self, selection) -> np.ndarray:
        rows = np.asarray(selection[0])
        if len(rows) == 0:
            return np.empty((0, self.shape[1]), np.float32)
        order = np.argsort(rows, kind="stable")
        out = np.empty((len(rows), self.shape[1]), np.float32)
        sorted_rows = rows[order]
        begin = 0
        while begin < len(sorted_rows):
            first = sorted_rows[begin]
            end = np.searchsorted(sorted_rows, first + self.chunks[0], side="left")
            block = self._read(int(first), int(min(first + self.chunks[0], self.shape[0])))
            out[order[begin:end]] = block[sorted_rows[begin:end] - first]
            begin = end
        return out

    def _read(self, start: int, stop: int) -> np.ndarray:
        raise NotImplementedError


class NpyRows(_Rows):
    """One or more ``.npy`` files, memory-mapped, as one (N, D) array."""

    def __init__(self, files: list[Path]):
        self.parts: list[np.ndarray] = []
        for path in files:
            try:
                part = np.load(path, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError) as error:
                raise LatentkitError(f"{path} is not a .npy array file ({type(error).__name__})") from None
            if part.ndim != 2 or part.dtype.kind not in "fiu":
                raise LatentkitError(
                    f"{path} holds a {part.dtype} array of shape {part.shape}: vectors are a 2-D "
                    f"array of numbers (N, D)"
                )
            if self.parts and part.shape[1] != self.parts[0].shape[1]:
                raise LatentkitError(
                    f"{path} has {part.shape[1]} columns, {files[0]} has {self.parts[0].shape[1]}: "
                    f"shards must have the same width"
                )
            self.parts.append(part)
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])
        self.shape = (int(self.starts[-1]), int(self.parts[0].shape[1]))
        self.chunks = (READ_ROWS, self.shape[1])

    def _read(self, start: int, stop: int) -> np.ndarray:
        pieces = []
        for part, offset in zip(self.parts, self.starts):
            lo, hi = max(start, offset), min(stop, offset + len(part))
            if lo < hi:
                pieces.append(np.asarray(part[lo - offset : hi - offset], np.float32))
        return np.concatenate(pieces) if pieces else np.empty((0, self.shape[1]), np.float32)


class ParquetRows(_Rows):
    """A list column of a parquet file, read one row group at a time (the last one kept)."""

    def __init__(self, path: Path, column: str | None):
        pq = _pyarrow(path)
        try:
            self.file = pq.ParquetFile(path)
        except Exception as error:
            raise LatentkitError(f"{path} is not a parquet file ({type(error).__name__})") from None
        schema = self.file.schema_arrow
        lists = [f.name for f in schema if _is_list(f.type)]
        if column is None:
            column = "z" if "z" in lists else lists[0] if len(lists) == 1 else None
            if column is None:
                raise LatentkitError(
                    f"{path} has {'no list column' if not lists else 'several list columns'} "
                    f"({', '.join(lists) or ', '.join(schema.names)}): give --column NAME"
                )
        elif column not in schema.names:
            raise LatentkitError(f"--column {column}: {path} has the columns {', '.join(schema.names)}")
        elif column not in lists:
            raise LatentkitError(f"--column {column} of {path} holds one number per row: vectors are a list column")
        self.path, self.column = path, column
        sizes = [self.file.metadata.row_group(i).num_rows for i in range(self.file.num_row_groups)]
        self.starts = np.cumsum([0] + sizes)
        first = self._group(0) if sizes and sizes[0] else np.empty((0, 0))
        self.shape = (int(self.starts[-1]), int(first.shape[1]))
        self.chunks = (max(sizes, default=READ_ROWS) or READ_ROWS, self.shape[1])
        self._cached: tuple[int, np.ndarray] | None = None

    def _group(self, i: int) -> np.ndarray:
        import pyarrow.compute as pc

        values = self.file.read_row_group(i, columns=[self.column]).column(0).combine_chunks()
        lengths = np.asarray(pc.list_value_length(values))
        if len(lengths) and (lengths.min() != lengths.max() or values.null_count):
            raise LatentkitError(
                f"{self.path}: column {self.column} has rows of different lengths or empty rows: "
                f"vectors must all have the same length"
            )
        flat = np.asarray(pc.list_flatten(values), np.float32)
        return flat.reshape(len(values), int(lengths[0]) if len(lengths) else 0)

    def _read(self, start: int, stop: int) -> np.ndarray:
        pieces = []
        for i in range(self.file.num_row_groups):
            offset, end = int(self.starts[i]), int(self.starts[i + 1])
            lo, hi = max(start, offset), min(stop, end)
            if lo < hi:
                if self._cached is None or self._cached[0] != i:
                    self._cached = (i, self._group(i))
                pieces.append(self._cached[1][lo - offset : hi - offset])
        return np.concatenate(pieces) if pieces else np.empty((0, self.shape[1]), np.float32)


def open_vectors(path: str | os.PathLike, column: str | None = None) -> _Rows | None:
    """A user's vectors at ``path`` as rows, or None when ``path`` is a zarr array or group."""
    path = Path(path)
    if (path / "zarr.json").exists() or (path / ".zarray").exists() or (path / ".zgroup").exists():
        if column is not None:
            raise LatentkitError("--column is for a parquet file's vectors, not a zarr store")
        return None
    if column is not None and path.suffix != ".parquet":
        raise LatentkitError(f"--column is for a parquet file's vectors, not {path.name}")
    if path.is_dir():
        if (path / "columns.json").exists() and (path / "z.npy").exists():  # export --format npy
            return NpyRows([path / "z.npy"])
        shards = sorted(path.glob("*.npy"), key=_natural)
        if not shards:
            raise LatentkitError(
                f"{path} holds no .npy files and is not a zarr store: give latents.zarr, a .npy "
                f"file, a folder of .npy shards or a .parquet file"
            )
        return NpyRows(shards)
    if path.suffix == ".npy":
        return NpyRows([path])
    if path.suffix == ".parquet":
        return ParquetRows(path, column)
    raise LatentkitError(f"{path}: give latents.zarr, a .npy file, a folder of .npy shards or a .parquet file")


def _natural(path: Path) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _is_list(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) or pa.types.is_large_list(kind)


def _pyarrow(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise LatentkitError(f'reading {path.name} needs pyarrow: pip install "latentkit[parquet]"') from None
    return pq


@dataclass(frozen=True)
class LabelTable:
    """A labels file's columns, one value per row: what the attributes analysis and the report's map use."""

    path: Path
    columns: dict[str, np.ndarray]  # name -> (N,) numbers or text
    partition: np.ndarray | None  # (N,) uint8 partition codes, when the file has a partition column

    def classes(self) -> tuple[list[str], np.ndarray, list[str]]:
        """Two classes per usable column: names, (N, A) int8 (1 present, -1 absent, 0 unknown),
        and a line per column left out (not two-valued and not numeric)."""
        names, columns, skipped = [], [], []
        for name, values in self.columns.items():
            two = _two_classes(values)
            if two is None:
                skipped.append(f"{name} (text with {len(set(values.tolist()))} values)")
                continue
            names.append(name)
            columns.append(two)
        n = len(next(iter(self.columns.values()))) if self.columns else 0
        return names, np.stack(columns, axis=1) if columns else np.zeros((n, 0), np.int8), skipped


def _two_classes(values: np.ndarray) -> np.ndarray | None:
    if values.dtype.kind == "b":
        return np.where(values, 1, -1).astype(np.int8)
    if values.dtype.kind in "fiu":
        known = np.isfinite(values.astype(np.float64))
        distinct = np.unique(values[known])
        if len(distinct) <= 2:
            out = np.where(values == distinct[-1], 1, -1) if len(distinct) else np.zeros(len(values))
        else:  # a continuous label: above its median is "present"
            out = np.where(values > np.median(values[known]), 1, -1)
        return np.where(known, out, 0).astype(np.int8)
    text = np.asarray([str(v) if v is not None else "" for v in values])
    classes = sorted(set(text.tolist()) - {""})
    if len(classes) != 2:
        return None
    return np.where(text == classes[1], 1, np.where(text == classes[0], -1, 0)).astype(np.int8)


def read_labels(path: str | os.PathLike, n: int) -> LabelTable:
    """The labels file at ``path`` (parquet or CSV with a header row), checked to have ``n`` rows."""
    from latentkit.store import PARTITIONS

    path = Path(path)
    if not path.is_file():
        raise LatentkitError(f"no labels file {path}")
    if path.suffix == ".parquet":
        pq = _pyarrow(path)
        try:
            table = pq.read_table(path)
        except Exception as error:
            raise LatentkitError(f"{path} is not a parquet file ({type(error).__name__})") from None
        columns = {
            name: _column(table.column(name))
            for name in table.column_names
            if not _is_list(table.schema.field(name).type)
        }
    elif path.suffix in (".csv", ".tsv", ".txt"):
        columns = _read_csv(path)
    else:
        raise LatentkitError(f"--labels {path.name}: give a .parquet or .csv file with a row per vector")
    rows = len(next(iter(columns.values()))) if columns else 0
    if rows != n:
        raise LatentkitError(
            f"--labels {path} has {rows:,} rows, the vectors {n:,}: a labels file has a row per vector"
        )
    partition = columns.pop("partition", None)
    if partition is not None:
        codes = {**{k: v for k, v in PARTITIONS.items()}, **{str(v): v for v in PARTITIONS.values()}}
        partition = np.array([codes.get(str(v), 255) for v in partition.tolist()], np.uint8)
    for name in NOT_LABELS:
        columns.pop(name, None)
    if not columns:
        raise LatentkitError(f"--labels {path} has no label columns (only {', '.join(NOT_LABELS)})")
    return LabelTable(path, columns, partition)


def _column(array) -> np.ndarray:
    values = array.to_numpy(zero_copy_only=False)
    return values if values.dtype.kind in "biuf" else np.asarray(values, dtype=object)


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        header = next(reader, None)
        if not header:
            raise LatentkitError(f"--labels {path} is empty: a CSV file with a header row")
        cells = list(reader)
    if any(len(row) != len(header) for row in cells):
        bad = next(i for i, row in enumerate(cells) if len(row) != len(header))
        raise LatentkitError(f"--labels {path}: line {bad + 2} has {len(cells[bad])} fields, the header {len(header)}")
    columns = {}
    for j, name in enumerate(header):
        raw = [row[j] for row in cells]
        try:
            columns[name] = np.array([float(v) if v.strip() else np.nan for v in raw])
        except ValueError:
            columns[name] = np.array(raw, dtype=object)
    return columns
