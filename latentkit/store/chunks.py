"""The one chunk runner: every chunked job (prepare, encode, ...) plugs a producer into it.

The unit of work, resume and splitting is a zarr chunk of rows. The runner reads the done
markers once, takes the chunks this task owns (round-robin), skips the finished ones,
produces each missing chunk whole in memory, writes it, and only then marks it done, so a
killed run never keeps a half-written chunk. Chunk k is written on a second thread while
chunk k+1 is produced: two chunks in memory at most, and the producer never waits on disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import zarr

from latentkit.core import JobEvents
from latentkit.store import layout
from latentkit.store.tasks import task_units

Producer = Callable[[int, int], dict[str, np.ndarray]]  # (start, stop) -> every array's rows


@dataclass(frozen=True)
class ChunkProgress:
    """Which chunks of a store are done (the one place completeness is derived)."""

    done: np.ndarray  # bool per chunk
    chunk: int
    n: int

    @property
    def chunks_done(self) -> int:
        return int(self.done.sum())

    @property
    def chunks_total(self) -> int:
        return len(self.done)

    @property
    def missing(self) -> list[int]:
        return np.flatnonzero(~self.done).tolist()

    @property
    def complete(self) -> bool:
        return bool(self.done.all())

    def row_mask(self) -> np.ndarray:
        """Boolean mask over rows: True where the row's chunk is done."""
        return np.repeat(self.done, self.chunk)[: self.n]

    def rows(self, k: int) -> int:
        return min(self.n, (k + 1) * self.chunk) - k * self.chunk


def chunk_progress(group: zarr.Group) -> ChunkProgress:
    return ChunkProgress(layout.done_chunks(group), layout.int_attr(group, "chunk"), layout.int_attr(group, "n"))


@dataclass(frozen=True)
class ChunkPlan:
    """The chunks one task owns, and those of them still to do."""

    mine: list[int]
    todo: list[int]
    rows_total: int
    rows_done: int

    @property
    def skipped(self) -> int:
        return len(self.mine) - len(self.todo)


def plan_chunks(group: zarr.Group, task: int = 0, tasks: int = 1) -> ChunkPlan:
    progress = chunk_progress(group)
    mine = list(task_units(progress.chunks_total, task, tasks))
    todo = [k for k in mine if not progress.done[k]]
    total = sum(progress.rows(k) for k in mine)
    return ChunkPlan(mine, todo, total, total - sum(progress.rows(k) for k in todo))


@dataclass(frozen=True)
class ChunkWritten:
    """What the runner tells ``after_write`` about a chunk it has just marked done."""

    k: int
    start: int
    stop: int
    produce_s: float
    write_s: float
    seconds: float  # the chunk's share of wall time: from the previous chunk's production to the end of its own


@dataclass(frozen=True)
class ChunkRunResult:
    chunks_written: int
    chunks_skipped: int


def run_chunks(
    group: zarr.Group,
    produce: Producer,
    *,
    plan: ChunkPlan | None = None,
    task: int = 0,
    tasks: int = 1,
    description: str,
    events: JobEvents | None = None,
    after_write: Callable[[ChunkWritten], None] | None = None,
) -> ChunkRunResult:
    """Produce, write and mark every unfinished chunk this task owns; progress in rows."""
    events = events or JobEvents()
    plan = plan or plan_chunks(group, task, tasks)
    events.start(description, total=plan.rows_total, done=plan.rows_done)
    last = time.perf_counter()

    def write(k: int, values: dict[str, np.ndarray]) -> float:
        began = time.perf_counter()
        layout.write_chunk(group, k, values)
        return time.perf_counter() - began

    def finish(k: int, produce_s: float, produced_at: float, pending, final: bool) -> None:
        # A chunk's share of wall time runs from the previous chunk's production to the end of its
        # own (its write overlaps the next chunk's production); the last chunk's also holds the
        # wait for its write. The shares add up to the job's wall time, none counted twice.
        nonlocal last
        write_s = pending.result()
        now = time.perf_counter()
        start, stop = layout.chunk_bounds(group, k)
        events.advance(stop - start)
        end = now if final else produced_at
        if after_write is not None:
            after_write(ChunkWritten(k, start, stop, produce_s, write_s, end - last))
        last = end

    with ThreadPoolExecutor(max_workers=1) as writer:
        in_flight = None
        for k in plan.todo:
            began = time.perf_counter()
            values = produce(*layout.chunk_bounds(group, k))
            produced_at = time.perf_counter()
            if in_flight is not None:
                finish(*in_flight, final=False)
            in_flight = (k, produced_at - began, produced_at, writer.submit(write, k, values))
        if in_flight is not None:
            finish(*in_flight, final=True)
    events.finish()
    return ChunkRunResult(len(plan.todo), plan.skipped)
