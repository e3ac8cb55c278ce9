"""The ground floor: errors and exit statuses, job events, atomic writes, run paths, option
parsers. Imports nothing of latentkit."""

from latentkit.core.atomic import atomic_write, sweep_dead_writers, write_json, write_text
from latentkit.core.cpus import usable_cpus
from latentkit.core.errors import (
    DISK_FULL_EXIT,
    DIVERGED_EXIT,
    GPU_OOM_EXIT,
    INTERRUPTED_EXIT,
    KEYBOARD_EXIT,
    RUN_BUSY_EXIT,
    USAGE_EXIT,
    GpuOutOfMemory,
    LatentkitError,
    TrainingDiverged,
    disk_full,
)
from latentkit.core.events import JobEvents
from latentkit.core.options import (
    MB,
    count,
    format_crop,
    parse_crop,
    parse_image_crop,
    parse_numbers,
    parse_pairs,
    parse_ranges,
    parse_size,
    parse_split,
)
from latentkit.core.paths import MARK, AnalysisPaths, RunPaths, check_file, check_folder, own_folder

__all__ = [
    "DISK_FULL_EXIT",
    "DIVERGED_EXIT",
    "GPU_OOM_EXIT",
    "KEYBOARD_EXIT",
    "RUN_BUSY_EXIT",
    "USAGE_EXIT",
    "GpuOutOfMemory",
    "INTERRUPTED_EXIT",
    "JobEvents",
    "LatentkitError",
    "MARK",
    "MB",
    "AnalysisPaths",
    "RunPaths",
    "TrainingDiverged",
    "atomic_write",
    "check_file",
    "check_folder",
    "count",
    "disk_full",
    "sweep_dead_writers",
    "format_crop",
    "parse_crop",
    "parse_image_crop",
    "parse_numbers",
    "parse_pairs",
    "parse_ranges",
    "parse_size",
    "own_folder",
    "parse_split",
    "usable_cpus",
    "write_json",
    "write_text",
]
