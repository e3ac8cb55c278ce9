"""The prepare job: synthetic faces, CelebA or any folder of images into a chunked zarr store.

Each source is a producer of whole chunks (a chunk of 1,024 images is 28 MB) plugged into
the shared chunk runner, which writes, marks, resumes and splits them (``latentkit.store.chunks``).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from latentkit import store
from latentkit.core import JobEvents, LatentkitError, count, format_crop, usable_cpus
from latentkit.ingest.celeba import CELEBA_CROP, open_celeba, partition_note
from latentkit.ingest.decoding import Crop, CropOutside, decode_image
from latentkit.ingest.sources import FileSource, is_image_name, open_source
from latentkit.ingest.synthetic import FACTOR_NAMES, render_faces, synthetic_factors
from latentkit.store import PARTITIONS, ArraySpec, ChunkRunResult, chunk_progress, run_chunks

DEFAULT_CHUNK = 1024
DEFAULT_SPLIT = (0.8, 0.1, 0.1)
READ_AHEAD = 16  # files read ahead of the decoding, per decoding thread (a few MB of photos)
RENDER_BATCH = 256  # keeps the renderer's per-feature temporaries in cache


def _image_arrays(size: int, *, compress: bool) -> dict[str, ArraySpec]:
    return {
        "images": ArraySpec((size, size, 3), "uint8", compressors="auto" if compress else None),
        "partition": ArraySpec((), "uint8", 255),
        "names": ArraySpec((), str, ""),
        "ok": ArraySpec((), "bool", False),
    }


def prepare_synthetic(
    *,
    out: str | os.PathLike,
    n: int,
    size: int = 96,
    seed: int = 0,
    chunk: int = DEFAULT_CHUNK,
    task: int = 0,
    tasks: int = 1,
    events: JobEvents | None = None,
) -> ChunkRunResult:
    """Write ``n`` synthetic faces (and their factors) to the store at ``out``."""
    arrays = {**_image_arrays(size, compress=True), "factors": ArraySpec((len(FACTOR_NAMES),), "float32")}
    attrs = {"source": "synthetic", "size": size, "seed": seed, "factor_names": list(FACTOR_NAMES)}
    group = store.create_or_open(out, n=n, chunk=chunk, arrays=arrays, attrs=attrs, identity=("source", "size", "seed"))

    renderers = ThreadPoolExecutor(max_workers=usable_cpus())  # numpy releases the GIL

    def produce(start: int, stop: int) -> dict[str, np.ndarray]:
        factors, partition = synthetic_factors(seed, start, stop)
        batches = [factors[i : i + RENDER_BATCH] for i in range(0, stop - start, RENDER_BATCH)]
        images = np.concatenate(list(renderers.map(lambda f: render_faces(f, size), batches)))
        names = np.array([f"synthetic_{i:07d}" for i in range(start, stop)])
        return {
            "images": images,
            "factors": factors,
            "partition": partition,
            "names": names,
            "ok": np.ones(stop - start, bool),
        }

    with renderers:
        return run_chunks(group, produce, task=task, tasks=tasks, description="prepare", events=events)


def prepare_celeba(
    *,
    src: str | os.PathLike,
    out: str | os.PathLike,
    size: int = 96,
    crop: tuple[int, int, int, int] = CELEBA_CROP,
    chunk: int = DEFAULT_CHUNK,
    task: int = 0,
    tasks: int = 1,
    workers: int | None = None,
    partition_file: str | os.PathLike | None = None,
    attributes_file: str | os.PathLike | None = None,
    events: JobEvents | None = None,
) -> ChunkRunResult:
    """Decode, crop and resize every CelebA image of ``src`` into the store at ``out``.

    ``src`` is any layout ``latentkit.ingest.celeba`` recognises. Where each annotation came from
    (or that it is missing, and what follows) is told through ``events`` and kept in the
    store's attrs. Corrupt or unreadable images are recorded (``ok`` False, zero pixels).
    """
    events = events or JobEvents()
    source = open_celeba(src, partition_file=partition_file, attributes_file=attributes_file, scratch=Path(out).parent)
    for line in source.messages:
        events.message(line)
    # Photos gain ~4% from zstd but read 5x slower and write 40% slower: stored raw.
    arrays = {**_image_arrays(size, compress=False), "attributes": ArraySpec((len(source.attribute_names),), "int8")}
    rows = {"partition": source.partition, "attributes": source.attributes}
    if source.identity is not None:
        arrays["identity"], rows["identity"] = ArraySpec((), "int32", 0), source.identity
    if source.landmarks is not None:
        arrays["landmarks"] = ArraySpec((source.landmarks.shape[1],), "int16", -1)
        rows["landmarks"] = source.landmarks
    attrs = {
        "source": "celeba",
        "size": size,
        "crop": list(crop),
        "input": str(Path(src).resolve()),
        "attribute_names": source.attribute_names,
        "landmark_names": source.landmark_names,
        "partition_from": partition_note(source.annotations),
        "annotations": source.annotations,
    }
    return _prepare_files(
        source.files,
        source.members,
        source.names,
        rows,
        out=out,
        arrays=arrays,
        attrs=attrs,
        identity=("source", "size", "crop"),
        crop=crop,
        size=size,
        chunk=chunk,
        task=task,
        tasks=tasks,
        workers=workers,
        events=events,
    )


def prepare_images(
    *,
    src: str | os.PathLike,
    out: str | os.PathLike,
    size: int = 96,
    crop: Crop = "center",
    split: tuple[float, float, float] = DEFAULT_SPLIT,
    chunk: int = DEFAULT_CHUNK,
    task: int = 0,
    tasks: int = 1,
    workers: int | None = None,
    faces: bool = False,
    events: JobEvents | None = None,
) -> ChunkRunResult:
    """Any folder (recursive), zip or tar of JPEG/PNG/WebP images of any sizes and modes.

    Images are taken in the order of their paths; each path is stored as its name and its
    partition is drawn from a hash of the path, so adding files never moves old ones.
    ``faces``: the images are faces (the store's ``subject`` attr): messages, captions and
    claims say faces rather than images (``store.noun``).
    """
    events = events or JobEvents()
    files = open_source(src, scratch=Path(out).parent)
    members = [f for f in files.files if is_image_name(f)]
    if not members:
        raise LatentkitError(f"no images (*.jpg, *.png, *.webp) found in {src}")
    others = len(files.files) - len(members)
    events.message(f"images: {len(members):,} in {src}" + (f" ({others:,} other files ignored)" if others else ""))
    partition = hash_split(members, split)
    events.message(
        f"partition: drawn from each path's hash (train/valid/test {split[0]:g}/{split[1]:g}/{split[2]:g}): "
        + ", ".join(f"{k} {int((partition == v).sum()):,}" for k, v in PARTITIONS.items())
    )
    attrs = {
        "source": "images",
        "size": size,
        "crop": crop if isinstance(crop, str) else list(crop),
        "split": list(split),
        "input": str(Path(src).resolve()),
        "partition_from": f"hash of each path (split {split[0]:g}/{split[1]:g}/{split[2]:g})",
        "subject": "faces" if faces else "images",
    }
    result = _prepare_files(
        files,
        members,
        members,
        {"partition": partition},
        out=out,
        arrays=_image_arrays(size, compress=False),
        attrs=attrs,
        identity=("source", "size", "crop", "split"),
        crop=crop,
        size=size,
        chunk=chunk,
        task=task,
        tasks=tasks,
        workers=workers,
        events=events,
    )
    if faces:  # said on a rerun too: a store made without it learns it now
        import zarr

        group = zarr.open_group(out, mode="r+")
        if group.attrs.get("subject") != "faces":
            group.attrs["subject"] = "faces"
    return result


PREFLIGHT = 1000  # files tried before a store is made: the first one that decodes ends the check


def _check_decodable(files: FileSource, members: list[str], *, crop, size: int) -> None:
    """Refuse before any store is made a source none of whose first images can be used: every
    one smaller than the crop box (a crop problem, said so), or none an image that decodes."""
    tried, outside, broken = 0, None, None
    for name in members[:PREFLIGHT]:
        tried += 1
        try:
            decode_image(files.read(name), crop=crop, size=size)
            return
        except CropOutside as error:
            outside = outside or f"{name} is {error.width}x{error.height}"
        except Exception as error:  # corrupt or unreadable: the next one may do
            broken = broken or f"{name}: " + (
                "not an image Pillow can read" if "identify" in str(error) else str(error)
            )
    which = f"the first {tried:,}" if tried < len(members) else f"the {tried:,}"
    if outside:
        raise LatentkitError(
            f"--crop {_crop_text(crop)} does not fit in any of {which} images of {files.path} "
            f"(e.g. {outside}): choose a box inside the images, or --crop center"
        )
    raise LatentkitError(
        f"none of {which} images of {files.path} could be decoded (e.g. {broken}): "
        f"give a folder, zip or tar of JPEG/PNG/WebP images"
    )


def _crop_text(crop) -> str:
    return crop if isinstance(crop, str) else format_crop(crop)


def hash_split(names: list[str], split: tuple[float, float, float]) -> np.ndarray:
    """Partition per name from its SHA-1: stable whatever other files there are."""
    u = np.array([int.from_bytes(hashlib.sha1(n.encode("utf-8")).digest()[:8], "big") / 2**64 for n in names])
    return np.where(u < split[0], 0, np.where(u < split[0] + split[1], 1, 2)).astype(np.uint8)


def _prepare_files(
    files: FileSource,
    members: list[str],
    names: list[str],
    rows: dict[str, np.ndarray],
    *,
    out,
    arrays,
    attrs,
    identity,
    crop,
    size,
    chunk,
    task,
    tasks,
    workers,
    events,
) -> ChunkRunResult:
    """The one reader of image files: decode ``members`` on threads, chunk by chunk, with ``rows``' slices."""
    try:
        if not Path(out).exists():
            _check_decodable(files, members, crop=crop, size=size)
        group = store.create_or_open(out, n=len(members), chunk=chunk, arrays=arrays, attrs=attrs, identity=identity)

        def produce(start: int, stop: int) -> dict[str, np.ndarray]:
            images, ok = np.zeros((stop - start, size, size, 3), np.uint8), np.zeros(stop - start, bool)

            def fetch(rows: range) -> list[bytes | Exception]:  # on a reader thread: file bytes or the read's error
                found: list[bytes | Exception] = []
                for i in rows:
                    try:
                        found.append(files.read(members[start + i]))
                    except Exception as error:  # recorded as a skipped image below
                        found.append(error)
                return found

            def load(rows: range) -> None:  # straight into the chunk: no per-image arrays to stack
                batches = [rows[b : b + READ_AHEAD] for b in range(0, len(rows), READ_AHEAD)]
                if not batches:
                    return
                upcoming = readers.submit(fetch, batches[0])
                for b, batch in enumerate(batches):
                    datas = upcoming.result()
                    if b + 1 < len(batches):  # the next files are read while these decode
                        upcoming = readers.submit(fetch, batches[b + 1])
                    for i, data in zip(batch, datas):
                        if isinstance(data, Exception):  # unreadable: recorded like a corrupt image
                            continue
                        try:
                            images[i] = decode_image(data, crop=crop, size=size)
                            ok[i] = True
                        except CropOutside:  # smaller than the box: recorded, said apart from corrupt files
                            crop_misses.append(start + i)
                        except Exception:  # corrupt, truncated, unreadable, not an image: recorded, never fatal
                            pass

            # A few long tasks per thread, not one per image: each finished task wakes the waiting
            # thread, and a thousand wake-ups per chunk cost a GIL hand-over each.
            n, pieces = stop - start, threads * 4
            if threads == 1:  # no hand-over at all
                load(range(n))
            else:
                for _ in pool.map(load, [range(n * p // pieces, n * (p + 1) // pieces) for p in range(pieces)]):
                    pass
            return {
                "images": images,
                "ok": ok,
                "names": np.array(names[start:stop]),
                **{k: v[start:stop] for k, v in rows.items()},
            }

        threads = workers or usable_cpus()
        crop_misses: list[int] = []
        events.message(
            f"prepare: {count(threads, 'decoding thread')}" + ("" if workers else " (the CPUs this process may use)")
        )
        # Pillow decodes without the GIL; file reads (a slow mount's latency) overlap the decoding
        with ThreadPoolExecutor(max_workers=threads) as pool, ThreadPoolExecutor(max_workers=threads) as readers:
            result = run_chunks(group, produce, task=task, tasks=tasks, description="prepare", events=events)
        progress = chunk_progress(group)
        usable = store.read_all(group, "ok")
        skipped = int((progress.row_mask() & ~usable).sum())
        if progress.complete and not usable.any():
            raise LatentkitError(
                f"no image of {files.path} could be used ({skipped:,} skipped): {out} holds no "
                f"image; remove it and check the source and --crop"
            )
        if crop_misses:
            events.message(
                f"warning: {len(crop_misses):,} images are smaller than the crop box {_crop_text(crop)} and were "
                f"skipped, e.g. {members[crop_misses[0]]} (`latentkit info {out}` lists them)"
            )
        if skipped > len(crop_misses):
            events.message(
                f"warning: {skipped - len(crop_misses):,} images could not be decoded and were skipped "
                f"(`latentkit info {out}` lists them)"
            )
        if files.readable not in (None, files.path) and progress.complete:
            files.readable.unlink(missing_ok=True)  # the unpacked copy of a compressed tar
        return result
    finally:
        files.close()
