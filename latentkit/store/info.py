"""``latentkit info``: what a store holds (counts per partition, chunks done, size on disk and
as float32 in memory, skipped files, where its annotations came from), as a dict and as
aligned lines of text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.core import LatentkitError, RunPaths
from latentkit.store.chunks import chunk_progress
from latentkit.store.layout import PARTITIONS, get_array, int_attr, open_store, read_all, size_on_disk

FACE_SOURCES = ("celeba", "synthetic")  # stores whose images are faces whatever the user said


def noun(where: str | os.PathLike) -> str:
    """What a store's images are called in messages, captions and claims: "faces" for CelebA,
    the synthetic faces and a store prepared with ``--faces``, "images" for any other (and for
    what cannot be read). ``where``: a store of images, a run's latents (followed to the store
    they were encoded from) or a run directory (its latents)."""
    import zarr

    path = Path(where)
    if not (path / "zarr.json").exists():
        path = RunPaths.of(path).latents
    try:
        group = zarr.open_group(path, mode="r")
        if "z" in group and "images" not in group:  # latents: their attrs name the store of images
            group = zarr.open_group(group.attrs["source"], mode="r")
        attrs = group.attrs
    except Exception:  # no store, a damaged one, latents of bare vectors: say nothing particular
        return "images"
    return "faces" if attrs.get("source") in FACE_SOURCES or attrs.get("subject") == "faces" else "images"


def store_summary(path: str | os.PathLike) -> dict[str, Any]:
    """Counts per partition, chunks done, size on disk (and ``float32_bytes``: the images as one
    float32 array in memory) and skipped files of a store."""
    group = open_store(path)
    if "images" not in group:
        kind = "latents (z-points)" if "z" in group else "store without images"
        raise LatentkitError(
            f"{path} holds {kind}, not images: `latentkit info` reads stores written by "
            f"`latentkit prepare`; for a run's latents see `latentkit status --run RUN`"
        )
    progress = chunk_progress(group)
    done_rows, decoded = progress.row_mask(), read_all(group, "ok")
    ok = decoded & done_rows
    partition = read_all(group, "partition")
    names = get_array(group, "names")
    skipped_rows = np.flatnonzero(done_rows & ~decoded)
    labels = {value: name for name, value in PARTITIONS.items()}
    return {
        "path": str(path),
        "source": group.attrs["source"],
        "n": int_attr(group, "n"),
        "image_shape": list(get_array(group, "images").shape[1:]),
        "chunk": int_attr(group, "chunk"),
        "chunks_done": progress.chunks_done,
        "chunks_total": progress.chunks_total,
        "images_ok": int(ok.sum()),
        "partitions": {
            labels.get(int(p), "none"): int(((partition == p) & ok).sum()) for p in np.unique(partition[ok])
        },
        "skipped": [str(names[int(i)]) for i in skipped_rows[:50]],
        "skipped_count": int(len(skipped_rows)),
        "size_on_disk_mb": round(size_on_disk(path) / 1024**2, 2),
        # what the images take as one float32 array in memory, N x H x W x 3 x 4 bytes (the
        # studies' "170,000 images as float32: more than 20 GB" arithmetic)
        "float32_bytes": int(np.prod(get_array(group, "images").shape, dtype=np.int64)) * 4,
        "partition_from": group.attrs.get("partition_from"),
        "annotations": group.attrs.get("annotations", {}),
        "attrs": {k: v for k, v in group.attrs.items() if k not in ("layout_complete",)},
    }


def summary_lines(s: dict[str, Any]) -> list[str]:
    """``latentkit info``: a store summary (``store_summary``) as aligned lines."""
    return (
        [
            f"store      {s['path']}  ({s['source']}, {s['size_on_disk_mb']} MB on disk)",
            f"images     {s['images_ok']:,} of {s['n']:,}  shape {tuple(s['image_shape'])}",
            f"memory     {_size_text(s['float32_bytes'])} as float32 ({s['n']:,} x "
            + " x ".join(map(str, s["image_shape"]))
            + f" x 4 = {s['float32_bytes']:,} bytes); "
            f"the store takes {s['size_on_disk_mb']} MB on disk",
            f"chunks     {s['chunks_done']} of {s['chunks_total']} done ({s['chunk']} images each)",
            "partitions " + ", ".join(f"{k} {v:,}" for k, v in s["partitions"].items()),
            f"skipped    {s['skipped_count']}" + (f": {', '.join(s['skipped'])}" if s["skipped"] else ""),
        ]
        + ([f"partition  from {s['partition_from']}"] if s.get("partition_from") and not s.get("annotations") else [])
        + [f"{kind:10s} {_annotation_text(report)}" for kind, report in s.get("annotations", {}).items()]
    )


def _size_text(n_bytes: int) -> str:
    """Bytes in the units the store line uses (MB = 1024² bytes), GB from 1024 MB on."""
    mb = n_bytes / 1024**2
    return f"{mb / 1024:,.2f} GB" if mb >= 1024 else f"{mb:,.2f} MB"


def _annotation_text(r: dict[str, Any]) -> str:
    if "matched" not in r:  # missing, or only noted
        return r["note"] + (f" ({r['from']})" if r.get("from") else "")
    return (
        f"{r['from']}: {r['matched']:,} rows matched"
        + (f", {r['images_without_row']:,} images without a row" if r["images_without_row"] else "")
        + (f", {r['rows_without_image']:,} rows without an image" if r["rows_without_image"] else "")
    )
