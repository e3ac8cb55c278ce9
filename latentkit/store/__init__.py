"""Zarr stores: layout and format version, the one chunk runner and its task split, reading
rows, the run lock, ``info`` and ``export``. Imports core."""

from latentkit.store.chunks import ChunkRunResult, ChunkWritten, chunk_progress, plan_chunks, run_chunks
from latentkit.store.export import export_latents
from latentkit.store.info import noun, store_summary, summary_lines
from latentkit.store.layout import (
    COORDINATES,
    DONE,
    FORMAT_VERSION,
    PARTITIONS,
    ArraySpec,
    create_or_open,
    get_array,
    int_attr,
    list_attr,
    open_store,
    read_all,
    str_attr,
    throttle,
    upgrade,
)
from latentkit.store.reading import ChunkCache, finished_latents, sample_rows, select_rows, to_unit_float
from latentkit.store.runlock import refuse_while_held, run_lock
from latentkit.store.tasks import resolve_task

__all__ = [
    "ArraySpec",
    "COORDINATES",
    "ChunkCache",
    "ChunkRunResult",
    "ChunkWritten",
    "DONE",
    "FORMAT_VERSION",
    "PARTITIONS",
    "chunk_progress",
    "create_or_open",
    "export_latents",
    "noun",
    "open_store",
    "plan_chunks",
    "resolve_task",
    "run_chunks",
    "refuse_while_held",
    "run_lock",
    "finished_latents",
    "get_array",
    "int_attr",
    "list_attr",
    "read_all",
    "str_attr",
    "sample_rows",
    "select_rows",
    "store_summary",
    "summary_lines",
    "throttle",
    "to_unit_float",
    "upgrade",
]
