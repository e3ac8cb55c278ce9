"""The chunked zarr layout shared by every job, with per-chunk done markers.

A store is a zarr v3 group. Each job writes whole chunks; after all arrays of chunk ``k``
are written, ``chunk_done[k]`` is set. ``chunk_done`` has one element per zarr chunk, so
concurrent workers marking different chunks never touch the same file, and zarr >= 3.1.3
writes each chunk file to a temporary name and renames it, so a kill never leaves a torn
chunk. A rerun redoes exactly the chunks whose marker is missing.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import zarr

from latentkit.core import LatentkitError

if TYPE_CHECKING:
    from zarr.core.array_spec import ArrayConfigParams

FORMAT_VERSION = 2  # 2: every array names its dimensions (xarray opens the store); 1 is read as it is
DONE = "chunk_done"
PARTITIONS = {"train": 0, "valid": 1, "test": 2}  # the values of the store's `partition` array
# Dimension names per array (zarr v3 ``dimension_names``): arrays of one store share "image".
DIMENSIONS = {
    "images": ("image", "y", "x", "channel"),
    "attributes": ("image", "attribute"),
    "factors": ("image", "factor"),
    "landmarks": ("image", "landmark"),
    "z": ("image", "latent"),
    "mu": ("image", "latent"),
    "logvar": ("image", "latent"),
    DONE: ("chunk",),
}
# Coordinate arrays (labels along a dimension), written from the attrs that list them.
COORDINATES = {"attribute": "attribute_names", "factor": "factor_names", "landmark": "landmark_names"}


def dimension_names(name: str, ndim: int) -> tuple[str, ...]:
    """The dimensions of array ``name``: from DIMENSIONS, else "image" then ``name_1``, ..."""
    known = DIMENSIONS.get(name, ())
    return known if len(known) == ndim else ("image", *(f"{name}_{i}" for i in range(1, ndim)))


@dataclass(frozen=True)
class ArraySpec:
    """One array of a store: rows are aligned with the store's items."""

    tail: tuple[int, ...]
    dtype: Any
    fill_value: Any = 0
    compressors: Any = "auto"  # None for data that does not compress (photos)


@contextmanager
def creation_lock(path: Path) -> Iterator[None]:
    """Serialise store creation between processes (SLURM array tasks start together)."""
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def refuse_foreign(path: Path) -> None:
    """Never write into a file or folder that latentkit did not make: an existing path must be
    a zarr store (ours, or one we were making) or an empty folder."""
    if path.is_file() or path.is_symlink() and not path.exists():
        raise LatentkitError(f"{path} is a file, not a store: choose another --out")
    if path.is_dir() and not (path / "zarr.json").exists() and any(path.iterdir()):
        raise LatentkitError(
            f"{path} is a folder of other files, not a latentkit store: latentkit writes "
            f"nothing into it; choose another --out"
        )


HOLDS = {  # the two kinds of store, by their main array
    "images": ("images", "a store written by `latentkit prepare`"),
    "z": ("latents (z-points)", "latents written by `latentkit encode`"),
}


def create_or_open(
    path: str | os.PathLike,
    *,
    n: int,
    chunk: int,
    arrays: Mapping[str, ArraySpec],
    attrs: Mapping[str, Any],
    identity: tuple[str, ...],
    on_stale: Callable[[list[str]], None] | None = None,
    fix: str = "use another --out or delete the old store",
) -> zarr.Group:
    """Create a store with ``arrays`` of ``n`` rows in chunks of ``chunk`` rows, or reopen it.

    The store is created once under a file lock; every later caller (a rerun, another
    task) opens it ``r+``. ``identity`` names the attrs that must match for a reopen, so a
    rerun with different settings is refused instead of mixing two datasets, unless
    ``on_stale`` is given: then it is told which settings differ and the store is replaced.
    ``fix``: what the refusal tells the user to do.
    """
    path = Path(path)
    if n < 1:
        raise LatentkitError("nothing to write: the input has no items")
    if chunk < 1:
        raise LatentkitError(f"--chunk must be a positive number of rows, got {chunk}")
    if path.is_file() or not path.with_name(path.name + ".lock").exists():
        refuse_foreign(path)  # no lock file left beside a user's file or folder
    with creation_lock(path):  # under the lock: array tasks see the store another one is making whole
        refuse_foreign(path)
        if (path / "zarr.json").exists():
            group = zarr.open_group(path, mode="r+")
            if group.attrs.get("layout_complete"):
                _check_format(path, group)
                have = {k for k in HOLDS if k in group.array_keys()}
                want = {k for k in HOLDS if k in arrays}
                if have != want:  # never replaced, even on request: images are not latents
                    raise LatentkitError(
                        f"{path} holds {', '.join(HOLDS[k][0] for k in have) or 'something else'}, "
                        f"not {', '.join(HOLDS[k][0] for k in want)}: give another --out"
                    )
                settings = {**attrs, "chunk": chunk, "n": n}
                stale = [key for key in ("n", "chunk", *identity) if group.attrs.get(key) != settings.get(key)]
                if not stale:
                    return group
                if on_stale is None:
                    key = stale[0]
                    raise LatentkitError(
                        f"{path} was started with {key}={group.attrs.get(key)!r}, this run asks for "
                        f"{settings.get(key)!r}: {fix}"
                    )
                on_stale(stale)
        group = zarr.open_group(path, mode="w")
        n_chunks = -(-n // chunk)
        for name, spec in arrays.items():
            group.create_array(
                name,
                shape=(n, *spec.tail),
                chunks=(chunk, *spec.tail),
                dtype=spec.dtype,
                fill_value=spec.fill_value,
                compressors=spec.compressors,
                dimension_names=dimension_names(name, 1 + len(spec.tail)),
            )
        group.create_array(
            DONE, shape=(n_chunks,), chunks=(1,), dtype="uint8", fill_value=0, dimension_names=DIMENSIONS[DONE]
        )
        write_coordinates(group, attrs)
        group.attrs.update({**attrs, "n": n, "chunk": chunk, "format_version": FORMAT_VERSION, "layout_complete": True})
        return group


def write_coordinates(group: zarr.Group, attrs: Mapping[str, Any]) -> list[str]:
    """Label arrays (``attribute`` = the attribute names, ...) for the attrs that list labels."""
    written = []
    for dim, key in COORDINATES.items():
        labels = list(attrs.get(key) or [])
        if labels and dim not in group:
            array = group.create_array(dim, shape=(len(labels),), dtype=str, dimension_names=(dim,))
            array[:] = np.array(labels, dtype=str)
            written.append(dim)
    return written


def upgrade(path: str | os.PathLike) -> list[str]:
    """Bring a store to FORMAT_VERSION in place, metadata only: add dimension names and labels.

    Each array's ``zarr.json`` is rewritten atomically, so a killed upgrade leaves every
    file whole and a rerun finishes it. Returns what changed (empty when nothing had to).
    """
    from latentkit.core import write_json

    path = Path(path)
    group = open_store(path, mode="r+")
    changed = []
    for name in sorted(group.array_keys()):
        meta_path = path / name / "zarr.json"
        meta = json.loads(meta_path.read_text())
        if not meta.get("dimension_names"):
            meta["dimension_names"] = list(dimension_names(name, len(meta["shape"])))
            write_json(meta_path, meta)
            changed.append(f"{name}: dimensions {', '.join(meta['dimension_names'])}")
    group = zarr.open_group(path, mode="r+")
    changed += [f"{dim}: labels from {COORDINATES[dim]}" for dim in write_coordinates(group, group.attrs)]
    version = group.attrs.get("format_version", 1)
    if isinstance(version, int) and version < FORMAT_VERSION:  # open_store refused any other
        group.attrs["format_version"] = FORMAT_VERSION
        changed.append(f"format_version: {FORMAT_VERSION}")
    return changed


def open_store(path: str | os.PathLike, *, mode: Literal["r", "r+"] = "r", holds: str | None = None) -> zarr.Group:
    """Open a finished or in-progress store, with a clear error when there is none; ``holds``
    ("images" or "z"): refuse a store of the other kind in one line."""
    path = Path(path)
    if not (path / "zarr.json").exists():
        raise LatentkitError(f"no latentkit store at {path}")
    try:
        group = zarr.open_group(path, mode=mode)
        arrays = {key: get_array(group, key) for key in group.array_keys()}  # every array's metadata parses
    except Exception as error:  # zarr raises many kinds for a damaged zarr.json
        raise LatentkitError(
            f"{path} is damaged: its zarr metadata cannot be read ({type(error).__name__}: "
            f"{' '.join(str(error).split())[:160]})"
        ) from None
    if not group.attrs.get("layout_complete"):
        raise LatentkitError(f"{path} is not a complete latentkit store (creation was interrupted)")
    _check_format(path, group)
    if holds is not None and holds not in arrays:
        has = next((HOLDS[k][0] for k in HOLDS if k in arrays), "neither images nor latents")
        raise LatentkitError(f"{path} holds {has}, not {HOLDS[holds][0]}: give {HOLDS[holds][1]}")
    _check_chunk_files(path, group, arrays)
    return group


def _check_chunk_files(path: Path, group: zarr.Group, arrays: Mapping[str, zarr.Array]) -> None:
    """Refuse a store whose done chunks lost their files (zarr would read them as zeros, silently).

    Checks the main array (``images`` of a data store, ``z`` of latents); a chunk whose every
    row failed (``ok`` False) may hold only zeros, which zarr did not write before
    ``WRITE_EVERY_CHUNK`` (stores written by older versions), so it is skipped.
    """
    main = next((arrays[key] for key in ("images", "z") if key in arrays), None)
    if main is None or DONE not in arrays:
        return
    ok = np.asarray(arrays["ok"][:]) if "ok" in arrays else None
    for k in np.flatnonzero(np.asarray(arrays[DONE][:])):
        start, stop = chunk_bounds(group, int(k))
        if ok is not None and not ok[start:stop].any():
            continue
        key = main.metadata.encode_chunk_key((int(k),) + (0,) * (main.ndim - 1))
        if not (path / main.basename / key).exists():
            raise LatentkitError(
                f"{path} is damaged: chunk {k} of {main.basename} is marked done but its file "
                f"{main.basename}/{key} is missing; write the store again into a new --out"
            )


def _check_format(path: Path, group: zarr.Group) -> None:
    version = group.attrs.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise LatentkitError(
            f"{path} has store format {version!r}, newer than this latentkit reads "
            f"({FORMAT_VERSION}): upgrade latentkit"
        )


def get_array(group: zarr.Group, name: str) -> zarr.Array:
    """The store's array ``name`` (KeyError when there is none): a store holds arrays, no groups."""
    node = group[name]
    if not isinstance(node, zarr.Array):
        raise LatentkitError(f"{group.store_path} is damaged: {name} is a group, not an array")
    return node


def read_all(group: zarr.Group, name: str) -> np.ndarray:
    """Every row of the store's array ``name``, as one numpy array."""
    return np.asarray(get_array(group, name)[:])


def int_attr(group: zarr.Group, key: str) -> int:
    """A whole-number attr of the store (``n``, ``chunk``), as ``int()`` takes it."""
    value = group.attrs[key]
    if not isinstance(value, (int, float, str)):
        raise TypeError(f"{group.store_path}: attr {key} is {value!r}, not a number")
    return int(value)


def str_attr(group: zarr.Group, key: str) -> str:
    """A text attr of the store (``source``: the store of images latents were encoded from)."""
    value = group.attrs[key]
    if not isinstance(value, str):
        raise TypeError(f"{group.store_path}: attr {key} is {value!r}, not text")
    return value


def list_attr(group: zarr.Group, key: str) -> list[Any]:
    """A list attr of the store (labels: ``attribute_names``, ...), as ``list()`` takes it; [] when absent."""
    value = group.attrs.get(key, [])
    if not isinstance(value, Iterable):
        raise TypeError(f"{group.store_path}: attr {key} is {value!r}, not a list")
    return list(value)


def chunk_bounds(group: zarr.Group, k: int) -> tuple[int, int]:
    chunk, n = int_attr(group, "chunk"), int_attr(group, "n")
    return k * chunk, min(n, (k + 1) * chunk)


def done_chunks(group: zarr.Group) -> np.ndarray:
    """Boolean mask over chunks: True where every array of the chunk is written."""
    return read_all(group, DONE).astype(bool)


# Every chunk is written as a file, even one of zeros: zarr's default first compares the whole
# chunk with the fill value, which cost 0.07 s of a 0.08 s write of 1,024 images at 96 px
# (and 0.45 s for a partial last chunk); a done chunk then always has its file.
WRITE_EVERY_CHUNK: ArrayConfigParams = {"write_empty_chunks": True}


def write_chunk(group: zarr.Group, k: int, values: Mapping[str, np.ndarray]) -> None:
    """Write every array's rows of chunk ``k``, then mark the chunk done (last)."""
    start, stop = chunk_bounds(group, k)
    for name, value in values.items():
        if len(value) != stop - start:
            raise ValueError(f"{name}: {len(value)} rows for chunk {k} of {stop - start}")
        get_array(group, name).with_config(WRITE_EVERY_CHUNK)[start:stop] = value
        throttle()
    get_array(group, DONE)[k] = 1


def throttle() -> None:
    """Sleep LATENTKIT_THROTTLE_S seconds (default 0) inside a unit of work.

    Lets a test (or a user rehearsing preemption) kill a job while a unit is half-written.
    """
    delay = float(os.environ.get("LATENTKIT_THROTTLE_S", "0") or 0)
    if delay > 0:
        time.sleep(delay)


def size_on_disk(path: str | os.PathLike[str]) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total
