"""``sync``: mirror a run directory either way (local -> Drive to save, Drive -> local to
restore): whole finished files only, each under a temporary name then renamed, unchanged
files skipped, ``previous.npz`` before ``latest.npz``, and a zarr chunk only once its
chunk is marked done (done markers last).

``Mirror`` runs that sync in the background after every checkpoint or chunk of a job
(``--mirror``).
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from latentkit.core import JobEvents, LatentkitError, atomic_write, check_folder, own_folder, sweep_dead_writers
from latentkit.core.paths import LATEST_CHECKPOINT
from latentkit.store import COORDINATES, DONE, read_all, throttle
from latentkit.transfer.mount import BLOCK, RETRIES, retrying, walk


@dataclass(frozen=True)
class SyncResult:
    copied: int
    unchanged: int
    held_back: int  # zarr chunk files whose chunk is not marked done yet
    bytes: int


def sync(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    events: JobEvents | None = None,
    retries: int = RETRIES,
    backoff: float = 0.5,
    sweep: bool = True,
) -> SyncResult:
    """Mirror the run directory ``src`` into ``dst``: finished files only, atomically, never deleting
    (but the temporary files of an earlier sync that was killed: ``sweep``, once per process is enough)."""
    events = events or JobEvents()
    src, dst = Path(src), Path(dst)
    if not retrying(src.is_dir, f"looking at {src}", retries=retries, backoff=backoff):
        raise LatentkitError(f"{src} is not a directory")
    own_folder(check_folder(dst, "DEST"))  # a mirror, never a folder of someone else's files
    if sweep and dst.is_dir():
        sweep_dead_writers(dst)  # an earlier sync killed mid-copy left its temporary file
    files, held_back = _finished_files(src)
    copied = unchanged = nbytes = 0
    events.start(f"sync {src.name}", total=len(files))
    for rel in files:
        source, target = src / rel, dst / rel
        stat = retrying(source.stat, f"reading {source}", retries=retries, backoff=backoff)
        if target.exists():
            have = target.stat()
            if have.st_size == stat.st_size and have.st_mtime_ns == stat.st_mtime_ns:
                unchanged += 1
                events.advance()
                continue

        def copy(source: Path = source, target: Path = target) -> None:
            with open(source, "rb") as reader, atomic_write(target) as writer:
                shutil.copyfileobj(reader, writer, BLOCK)

        retrying(copy, f"copying {source} to {target}", retries=retries, backoff=backoff)
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # "unchanged" next time
        copied, nbytes = copied + 1, nbytes + stat.st_size
        events.advance()
        throttle()
    events.finish()
    return SyncResult(copied, unchanged, held_back, nbytes)


def _finished_files(root: Path) -> tuple[list[str], int]:
    """Files to mirror, in a safe order, and how many zarr chunk files are held back."""
    import numpy as np

    first, done_markers, held_back = [], [], 0
    done_cache: dict[Path, np.ndarray | None] = {}
    for rel in walk(root):
        parts = rel.split("/")
        store_at = next((i for i, p in enumerate(parts) if p.endswith(".zarr")), None)
        if store_at is not None and "c" in parts[store_at + 1 :]:  # a chunk file: STORE/ARRAY/c/k/...
            store = root.joinpath(*parts[: store_at + 1])
            c = parts.index("c", store_at + 1)
            array, k = parts[c - 1], int(parts[c + 1])
            if store not in done_cache:
                done_cache[store] = _done_markers(store)
            done = done_cache[store]
            if array == DONE:
                done_markers.append(rel)
                continue
            if done is not None and array not in COORDINATES and not (k < len(done) and done[k]):  # labels: not rows
                held_back += 1
                continue
        first.append(rel)
    # previous.npz before latest.npz: the destination always holds a readable checkpoint
    first.sort(key=lambda r: (r.endswith(LATEST_CHECKPOINT), r))
    return first + done_markers, held_back


def _done_markers(store: Path):
    try:
        import zarr

        group = zarr.open_group(store, mode="r")
        return read_all(group, DONE).astype(bool) if DONE in group else None
    except Exception:  # not a latentkit store: mirror it as plain files
        return None


class Mirror:
    """``sync(run, dest)`` on a background thread whenever a job asks (after a checkpoint or a
    chunk), so the job never waits on a slow mount; requests made during a sync coalesce.
    ``close()`` runs a last sync in the caller's thread: the mirror is whole when the job ends.
    """

    def __init__(self, run: str | os.PathLike, dest: str | os.PathLike, events: JobEvents | None = None) -> None:
        self.run, self.dest, self.events = Path(run), check_folder(dest, "--mirror"), events or JobEvents()
        self._wanted, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._loop, name="latentkit-mirror", daemon=True)
        self._thread.start()
        self.syncs = 0

    def request(self) -> None:
        self._wanted.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._wanted.wait(timeout=0.5):
                self._wanted.clear()
                self._sync()

    def _sync(self) -> bool:
        try:
            sync(self.run, self.dest, sweep=self.syncs == 0)  # one walk of a slow mount, not one per sync
            self.syncs += 1
            return True
        except (LatentkitError, OSError) as error:  # the mount is flaky: the next request tries again
            self.events.message(f"warning: mirror to {self.dest} failed, will retry: {error}" + _remount_hint(error))
            return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        if not self._sync():
            self.events.message(
                f"warning: the mirror {self.dest} is behind {self.run}: run `latentkit sync {self.run} {self.dest}`"
            )


DROPPED = {errno.ENOTCONN, errno.EIO, errno.ENOENT}  # what a dropped Drive mount answers, for files that exist


def _remount_hint(error: Exception) -> str:
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if cause is None or cause.errno not in DROPPED:
        return ""
    return (
        "; if Drive's mount dropped, remount it in the notebook (drive.mount('/content/drive', "
        "force_remount=True)): the mirror catches up at the next checkpoint"
    )


def open_mirror(run: str | os.PathLike, dest: str | os.PathLike | None, events: JobEvents | None = None):
    """A Mirror, or a stand-in that does nothing when ``dest`` is None."""
    return Mirror(run, dest, events) if dest is not None else _NoMirror()


class _NoMirror:
    def request(self) -> None:
        pass

    def close(self) -> None:
        pass
