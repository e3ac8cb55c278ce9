"""The one way latentkit writes a file: to a temporary name beside it, fsynced, then renamed.

A reader (another task, a resumed job, Drive's sync) sees the old file or the new one,
never half of one; a job killed mid-write leaves at most a ``.NAME.PID.tmp`` file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "wb", *, keep_previous: str | os.PathLike | None = None
) -> Iterator[IO]:
    """Open a temporary file for writing; on success fsync it and rename it to ``path``.

    Parameters
    ----------
    path : the file to (re)place; its folder is created.
    mode : ``"wb"`` or ``"w"`` (text, UTF-8).
    keep_previous : if given and ``path`` exists, it is renamed to this name first, so the
        last good version survives a crash between the two renames.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if keep_previous is not None and path.exists():
            os.replace(path, keep_previous)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sweep_dead_writers(root: str | os.PathLike) -> list[Path]:
    """Remove the ``.NAME.PID.tmp`` files below ``root`` that ``atomic_write`` left when process
    PID was killed mid-write (that process is gone): a rerun then leaves nothing behind. Files
    of a writer still alive, and every other file, are left alone. Returns what was removed."""
    removed = []
    for tmp in Path(root).rglob(".*.tmp"):
        pid = tmp.name[: -len(".tmp")].rpartition(".")[2]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    with atomic_write(path, "w") as handle:
        handle.write(text)
    return Path(path)


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Atomically write ``data`` as indented JSON (numpy scalars become floats)."""
    return write_text(path, json.dumps(data, indent=1, default=float))
