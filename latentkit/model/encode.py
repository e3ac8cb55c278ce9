"""The encode job: every image's z-point into RUN/latents.zarr, chunk by chunk, flat in memory.

Rows are encoded in batches on a grid fixed in absolute row numbers (batch b holds rows
[bB, (b+1)B), zero-padded where a chunk cuts it), so every row sits at the same position of
a same-shaped batch however the work is chunked or split: the output is bitwise the same,
and the traced predict function never retraces. Images are read through a two-chunk cache
on a prefetch thread while the encoder runs. A VAE's z is drawn here, from noise seeded by
(seed, row block), for the same reason; ``use="mu"`` makes z equal mu.
"""

from __future__ import annotations

import gc
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentkit import store
from latentkit.core import GpuOutOfMemory, JobEvents, LatentkitError, RunPaths, check_folder, parse_size
from latentkit.machine import MonitorLog, is_out_of_memory, release_memory
from latentkit.model.memory import DATA_CACHE_CHUNKS, check_budget, estimate_encode_mb, estimate_ram_mb
from latentkit.model.sampling import reparameterize
from latentkit.model.spec import spec_from_dict
from latentkit.store import (
    ArraySpec,
    ChunkCache,
    ChunkWritten,
    plan_chunks,
    refuse_while_held,
    run_chunks,
    run_lock,
    to_unit_float,
)
from latentkit.transfer import open_mirror

NOISE_BLOCK = 1024  # rows per block of VAE noise: z never depends on --chunk


@dataclass
class EncodeResult:
    chunks_written: int
    chunks_skipped: int
    out: Path


def encode(
    *,
    run: str | os.PathLike,
    chunk: int,
    data: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    batch: int = 256,
    task: int = 0,
    tasks: int = 1,
    use: str = "z",
    max_ram: str | None = None,
    events: JobEvents | None = None,
    mirror: str | os.PathLike | None = None,
    restart_stale: bool = False,
    max_vram: str | None = None,
) -> EncodeResult:
    """Encode every image of the store into ``out`` (default RUN/latents.zarr), resumably.

    Every check a user can fail runs before Keras is imported: errors come fast and alone.
    ``mirror``: a folder that gets a copy of the run after every chunk, in the background.
    ``restart_stale``: latents started from another checkpoint, store or ``--chunk`` are
    deleted and encoded again (one task only) instead of refused.
    ``max_vram``: refuse up front when an encoder call's estimated device memory is larger;
    out of GPU memory raises ``GpuOutOfMemory`` (exit 71), finished chunks kept.
    """
    events = events or JobEvents()
    paths = RunPaths.of(run)
    if not paths.root.is_dir():
        raise LatentkitError(f"no run at {run}: give a run directory that `latentkit train` or `import-model` wrote")
    if mirror is not None:
        check_folder(mirror, "--mirror")
    refuse_while_held(paths.root, "train", reader="encode")
    # One whole-store encode per run; task-split encodes side by side (latentkit.store.runlock).
    with run_lock(paths.root, "encode", task=task, tasks=tasks, warn=events.message):
        return _encode(
            paths,
            chunk=chunk,
            data=data,
            out=out,
            batch=batch,
            task=task,
            tasks=tasks,
            use=use,
            max_ram=max_ram,
            events=events,
            mirror=mirror,
            restart_stale=restart_stale,
            max_vram=max_vram,
        )


def _encode(
    paths: RunPaths, *, chunk, data, out, batch, task, tasks, use, max_ram, events, mirror, restart_stale, max_vram
) -> EncodeResult:
    if chunk < 1:
        raise LatentkitError(f"--chunk must be a positive number of images, got {chunk}")
    if batch < 1:
        raise LatentkitError(f"--batch must be positive, got {batch}")
    if use not in ("z", "mu"):
        raise LatentkitError(f"--use must be z or mu, got {use!r}")
    from latentkit.model.codec import load_model
    from latentkit.model.runs import read_run

    model_of = read_run(paths.root)
    if model_of.warning:
        events.message(f"warning: {model_of.warning}")
    vae = model_of.kind == "vae"
    if use == "mu" and not vae:
        raise LatentkitError("--use mu needs a VAE run (an AE's z is already deterministic)")
    if not data and not model_of.data:
        raise LatentkitError(f"{paths.root} names no store of images: give --data STORE")
    data = Path(data or model_of.data)
    source = store.open_store(data, holds="images")
    images = store.get_array(source, "images")
    size = model_of.image_size
    if tuple(images.shape[1:]) != (size, size, 3):
        raise LatentkitError(
            f"{data} holds {images.shape[1]}x{images.shape[2]} images, the model expects "
            f"{size}x{size}: encode a store of that size (--data)"
        )
    outputs = ("z", "mu", "logvar") if vae else ("z",)
    if max_ram is not None:
        need, parts = estimate_ram_mb(
            image_shape=images.shape[1:],
            batch=batch,
            chunk=chunk,
            data_chunk=images.chunks[0],
            n_params=model_of.n_params,
            outputs=len(outputs),
            z_dim=model_of.z_dim,
        )
        if need * 2**20 > parse_size(max_ram, option="--max-ram"):
            detail = ", ".join(f"{k} {v:,.0f} MB" for k, v in parts.items())
            raise LatentkitError(
                f"needs about {need:,.0f} MB, over --max-ram {max_ram} ({detail}): lower --chunk or --batch"
            )
    if max_vram is not None:
        if model_of.saved is None:
            events.message(
                "note: --max-vram estimates latentkit's own networks only: not checked for an imported model"
            )
        else:
            spec = spec_from_dict(model_of.saved.meta["spec"])
            check_budget(
                *estimate_encode_mb(spec.model, batch), max_vram=max_vram, what=f"an encoder call of batch {batch}"
            )

    out = Path(out or paths.latents)
    n, z_dim = images.shape[0], model_of.z_dim
    arrays = {name: ArraySpec((z_dim,), "float32") for name in outputs} | {"ok": ArraySpec((), "bool", False)}
    identity = {"source": str(data.resolve()), "z_dim": z_dim, "use": use, "checkpoint": model_of.version}

    def replace(stale: list[str]) -> None:
        if tasks > 1:
            raise LatentkitError(
                f"--restart-stale cannot replace {out} while other tasks may write it: "
                f"run it with one task, or delete the store first"
            )
        events.message(f"{out} was encoded with another {', '.join(stale)}: encoding again from scratch")

    group = store.create_or_open(
        out,
        n=n,
        chunk=chunk,
        arrays=arrays,
        identity=tuple(identity),
        on_stale=replace if restart_stale else None,
        fix="rerun with --restart-stale to encode it again, or give another --out",
        attrs={**identity, "kind": model_of.kind, "seed": model_of.seed, "eps_factor": model_of.eps_factor},
    )
    if chunk % batch and chunk > batch:
        events.message(
            f"note: --chunk {chunk} is not a multiple of --batch {batch}: batches cut by chunk edges "
            f"are padded (about {100 * batch / chunk:.0f}% extra encoder work)"
        )

    encoder = uint8_encoder(load_model(paths.root, model_of).encoder)
    ok_rows = store.get_array(source, "ok")
    cache = ChunkCache(images, DATA_CACHE_CHUNKS)
    monitor = MonitorLog(paths.monitor, "encode")
    plan = plan_chunks(group, task, tasks)
    if plan.todo:  # trace the predict function once, outside any chunk's timing
        encoder.predict_on_batch(np.zeros((batch, *images.shape[1:]), np.uint8))
    # The model, TensorFlow and the traced function live as long as the job: freezing them
    # out of the collector makes each chunk's gc.collect() take ~5 ms instead of ~200 ms.
    gc.freeze()
    timings: dict[int, dict[str, float]] = {}
    prefetch = ThreadPoolExecutor(max_workers=1)

    def produce(start: int, stop: int) -> dict[str, np.ndarray]:
        values, timings[start] = _encode_rows(
            encoder, cache, prefetch, start, stop, batch, vae, use, model_of.seed, model_of.eps_factor
        )
        values["ok"] = np.asarray(ok_rows[start:stop])
        return values

    def written(chunk: ChunkWritten) -> None:
        release_memory()  # between chunks: Keras session, gc, malloc_trim
        timing = {**timings.pop(chunk.start), "write_s": chunk.write_s}
        rows = chunk.stop - chunk.start
        events.record(
            monitor.write(
                unit=f"chunk {chunk.k}",
                rows=rows,
                items_per_s=rows / chunk.seconds if chunk.seconds else 0.0,
                **{key: round(v, 3) for key, v in timing.items()},
            )
        )
        copies.request()

    copies = open_mirror(paths.root, mirror, events)
    with prefetch, closing(copies):
        try:
            result = run_chunks(group, produce, plan=plan, description="encode", events=events, after_write=written)
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            events.finish()
            raise GpuOutOfMemory(
                f"out of GPU memory encoding batches of {batch}: the chunks finished so far are "
                f"kept; lower --batch (e.g. --batch {max(1, batch // 2)}) and run the same command "
                f"again"
            ) from None
    return EncodeResult(result.chunks_written, result.chunks_skipped, out)


def uint8_encoder(encoder):
    """The encoder behind an in-graph uint8 -> [0, 1] float32 step (``to_unit_float``, the generator's scaling).

    The prefetch thread then copies uint8 rows (a quarter of the bytes) and the scaling runs
    vectorised inside the traced function instead of competing with it for the cores.
    """
    from latentkit.model.backend import keras

    images = keras.Input(encoder.input_shape[1:], dtype="uint8", name="image_uint8")
    return keras.Model(images, encoder(to_unit_float(images, ops=keras.ops)), name="encoder_uint8")


def _encode_rows(
    encoder, cache, prefetch, start, stop, batch, vae, use, seed, eps_factor
) -> tuple[dict, dict[str, float]]:
    """Encode rows start..stop on the absolute batch grid; the next batch is read meanwhile."""
    grid = list(range(start - start % batch, stop, batch))
    timing = {"read_s": 0.0, "work_s": 0.0}

    # Two batch buffers, reused: the prefetch thread fills one while the encoder reads the
    # other (predict_on_batch returns only when done with its input). Fresh 28 MB arrays per
    # batch cost page faults and fragment the heap.
    buffers = [np.zeros((batch, *cache.images.shape[1:]), np.uint8) for _ in range(2)]

    def read(i: int, base: int) -> tuple[np.ndarray, int, int, float]:
        began = time.perf_counter()
        lo, hi = max(base, start), min(base + batch, stop)
        x = buffers[i % 2]
        x[: lo - base] = 0  # padding of a batch cut by the chunk's edges
        x[hi - base :] = 0
        cache.range_into(lo, hi, x[lo - base : hi - base])  # uint8: scaled inside the encoder
        return x, lo, hi, time.perf_counter() - began

    names = ("z", "mu", "logvar") if vae else ("z",)
    z_dim = encoder.output_shape[0][-1] if vae else encoder.output_shape[-1]
    result = {name: np.empty((stop - start, z_dim), np.float32) for name in names}
    pending = prefetch.submit(read, 0, grid[0])
    for i, base in enumerate(grid):
        x, lo, hi, read_s = pending.result()
        if i + 1 < len(grid):
            pending = prefetch.submit(read, i + 1, grid[i + 1])
        began = time.perf_counter()
        outputs = encoder.predict_on_batch(x)
        timing["read_s"] += read_s
        timing["work_s"] += time.perf_counter() - began
        rows, keep = slice(lo - start, hi - start), slice(lo - base, hi - base)
        if vae:
            result["mu"][rows], result["logvar"][rows] = outputs[0][keep], outputs[1][keep]
        else:
            result["z"][rows] = outputs[keep]
    if vae:
        if use == "mu":
            result["z"][:] = result["mu"]
        else:
            eps = vae_noise(seed, start, stop, result["mu"].shape[1])
            result["z"][:] = reparameterize(result["mu"], result["logvar"], eps, eps_factor)
    return result, timing


def vae_noise(seed: int, start: int, stop: int, dim: int) -> np.ndarray:
    """N(0, 1) noise for rows start..stop, drawn per fixed block of rows (clipped by the formula)."""
    blocks = range(start // NOISE_BLOCK, (stop - 1) // NOISE_BLOCK + 1)
    noise = np.concatenate(
        [
            np.random.default_rng([seed, 0xE5C0DE, b]).standard_normal((NOISE_BLOCK, dim), dtype=np.float32)
            for b in blocks
        ]
    )
    offset = blocks[0] * NOISE_BLOCK
    return noise[start - offset : stop - offset]
