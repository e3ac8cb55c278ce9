"""Moving files between a slow, flaky mount (Google Drive, cluster home) and local disk.

``stage``: copy a file or folder to local disk, resumably and verified. Bytes are copied in
8 MiB blocks into ``DST.partial`` (in the kernel, as ``cp`` does, where it can); a sidecar
records each block's SHA-256 as it stands in the local file (every 64 MiB), so a killed copy
resumes after the last recorded block whose local bytes still hash right. The finished file
is renamed into place beside a manifest (size, mtime, and the SHA-256 of the blocks'
SHA-256s, computed in the copying pass): a valid local copy is recognised at once, a
truncated or corrupted one is copied again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from latentkit.core import JobEvents, LatentkitError, check_folder, own_folder, write_json
from latentkit.store import throttle
from latentkit.transfer.mount import BLOCK, MANIFEST, RETRIES, retrying, walk

HASHERS = 2  # threads hashing copied blocks
SIDECAR_EVERY = 8  # blocks between two records of a partial copy's progress (64 MiB)


@dataclass(frozen=True)
class StageResult:
    files: int
    copied_bytes: int  # bytes read from the source this time
    total_bytes: int
    skipped: int  # files whose local copy was already valid


def stage(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    events: JobEvents | None = None,
    opener: Callable = open,
    retries: int = RETRIES,
    backoff: float = 0.5,
    force: bool = False,
) -> StageResult:
    """Copy file or folder ``src`` to ``dst`` (for a folder: every file below it), verified.

    A destination file that stage did not write (no manifest of it) is never replaced unless
    ``force``: the whole copy is refused before anything is written."""
    events = events or JobEvents()
    src, dst = Path(src), Path(dst)
    if not retrying(src.exists, f"looking at {src}", retries=retries, backoff=backoff):
        raise LatentkitError(f"{src} does not exist")
    if src.is_dir():
        if not force:  # a folder's copy goes into a new folder, or one stage made
            check_folder(dst, "DEST")
        pairs = [(src / rel, dst / rel) for rel in walk(src)]
    else:
        pairs = [(src, dst)]
    _refuse_foreign_targets([target for _, target in pairs], force=force)
    stats = [retrying(s.stat, f"reading {s}", retries=retries, backoff=backoff) for s, _ in pairs]  # one stat per file
    total = sum(st.st_size for st in stats)
    if src.is_dir():
        own_folder(dst)
    events.start(f"stage {src.name}", total=total, unit="bytes")
    copied = skipped = 0
    for (source, target), stat in zip(pairs, stats):
        read = _stage_file(source, target, stat.st_size, stat.st_mtime_ns, events, opener, retries, backoff)
        copied += read
        skipped += read == 0 and stat.st_size > 0
    events.finish()
    return StageResult(len(pairs), copied, total, skipped)


def _refuse_foreign_targets(targets: list[Path], *, force: bool) -> None:
    folders = [t for t in targets if t.is_dir()]
    if folders:
        raise LatentkitError(f"{folders[0]} is a folder where stage would write a file: choose another destination")
    foreign = [t for t in targets if t.exists() and not _manifest_path(t).exists()]
    if foreign and not force:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise LatentkitError(
            f"{foreign[0]}{more} exists and is not a copy stage made: nothing was overwritten; "
            f"choose another destination, or pass --force to replace it"
        )


def _manifest_path(target: Path) -> Path:
    return target.with_name(f".{target.name}{MANIFEST}")


def _stage_file(source: Path, target: Path, size: int, mtime: int, events, opener, retries, backoff) -> int:
    """Stage one file; return the bytes read from the source (0: the local copy was valid)."""
    manifest = _manifest_path(target)
    if target.exists() and manifest.exists():
        recorded = json.loads(manifest.read_text())
        if (
            (recorded.get("size"), recorded.get("mtime_ns")) == (size, mtime)
            and target.stat().st_size == size
            and _block_digest(target) == recorded.get("sha256_blocks")
        ):
            events.advance(size)
            return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    partial, sidecar = target.with_name(target.name + ".partial"), target.with_name(target.name + ".partial.json")
    blocks, offset = [], 0
    if partial.exists() and sidecar.exists():  # resume: keep the blocks whose local bytes still hash right
        state = json.loads(sidecar.read_text())
        if (state.get("size"), state.get("mtime_ns")) == (size, mtime):
            with open(partial, "rb") as handle:
                for expected in state["blocks"]:
                    data = handle.read(BLOCK)
                    if hashlib.sha256(data).hexdigest() != expected:
                        break
                    blocks.append(expected)
                    offset += len(data)
    events.advance(offset)
    read_bytes = 0
    reader = _BlockReader(opener, source)
    copy_buffer = memoryview(bytearray(BLOCK))
    free = [memoryview(bytearray(BLOCK)) for _ in range(HASHERS)]  # hash buffers, reused: fresh ones page-fault

    def copy(at: int, fd: int) -> int:
        return retrying(
            lambda: reader.copy_block(at, min(BLOCK, size - at), fd, copy_buffer),
            f"reading {source} at byte {at:,}",
            retries=retries,
            backoff=backoff,
        )

    # The kernel copies block k (sendfile: no trip through Python) while other threads hash
    # the blocks before it as they now stand in the local file (their pages are still cached):
    # SHA-256 runs slower than a page-cache copy, so it gets two cores' worth of threads.
    fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        with ThreadPoolExecutor(max_workers=HASHERS) as pool:
            os.ftruncate(fd, offset)
            hashing: deque = deque()  # (future digest, its buffer), oldest first
            while offset < size:
                n = copy(offset, fd)
                if not n:
                    raise LatentkitError(f"{source} ended at byte {offset:,} of {size:,}: is it still being written?")
                if not free:  # both threads busy: take the oldest digest, reuse its buffer
                    done, buffer = hashing.popleft()
                    _record(blocks, done.result(), sidecar, size, mtime)
                    free.append(buffer)
                buffer = free.pop()
                hashing.append((pool.submit(_hash_block, fd, offset, n, buffer), buffer))
                offset += n
                read_bytes += n
                events.advance(n)
                throttle()
            for done, _ in hashing:
                _record(blocks, done.result(), sidecar, size, mtime)
        os.fsync(fd)
    finally:
        os.close(fd)
        reader.close()
    # The manifest first: a target with no manifest beside it is never one of stage's copies.
    write_json(manifest, {"source": str(source), "size": size, "mtime_ns": mtime, "sha256_blocks": _combine(blocks)})
    os.replace(partial, target)
    sidecar.unlink(missing_ok=True)
    return read_bytes


def _record(blocks: list[str], digest: str, sidecar: Path, size: int, mtime: int) -> None:
    """Add a copied block's digest; every SIDECAR_EVERY blocks, save the progress for a resume
    (bytes past the last record are copied again)."""
    blocks.append(digest)
    if len(blocks) % SIDECAR_EVERY == 0:
        write_json(sidecar, {"size": size, "mtime_ns": mtime, "blocks": blocks})


def _hash_block(fd: int, offset: int, n: int, buffer: memoryview) -> str:
    """SHA-256 of bytes ``offset .. offset + n`` of the local file (read back from the page cache)."""
    got = 0
    while got < n:
        read = os.preadv(fd, [buffer[got:n]], offset + got)
        if not read:
            raise LatentkitError(f"the local copy ended at byte {offset + got:,} while it was being written")
        got += read
    digest = hashlib.sha256(buffer[:n]).hexdigest()
    if hasattr(os, "posix_fadvise"):  # start writing these pages to disk now rather than all at the end
        os.posix_fadvise(fd, offset, n, os.POSIX_FADV_DONTNEED)
    return digest


# sendfile cannot copy between these two files (an old kernel, a FUSE mount without splice, a
# stand-in handle without a descriptor): copy through a buffer instead
NO_KERNEL_COPY = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EBADF}


def _read_ahead(handle) -> None:
    """Tell the kernel the file is read front to back (a larger read-ahead window), as ``cp`` does."""
    # no fadvise here, or a stand-in handle without a descriptor
    with contextlib.suppress(AttributeError, OSError):
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)


class _BlockReader:
    """Copies blocks of one source file through one handle, opened again after an error (a
    dropped mount's old handle stays broken). In the kernel (``os.sendfile``) where it can, as
    ``cp`` does; through a reused buffer where it cannot."""

    def __init__(self, opener: Callable, source: Path) -> None:
        self.opener, self.source = opener, source
        self.handle: io.RawIOBase | None = None  # the source opened unbuffered; None until a block is copied
        self.kernel = hasattr(os, "sendfile")

    def copy_block(self, offset: int, count: int, out_fd: int, buffer: memoryview) -> int:
        """Copy up to ``count`` source bytes at ``offset`` to ``out_fd`` at the same offset;
        return how many (fewer only at the source's end)."""
        try:
            handle = self.handle
            if handle is None:
                handle = self.handle = self.opener(self.source, "rb", buffering=0)
                _read_ahead(handle)
            if self.kernel:
                try:
                    return self._send(handle.fileno(), out_fd, offset, count)
                except io.UnsupportedOperation:
                    self.kernel = False
                except OSError as error:
                    if error.errno not in NO_KERNEL_COPY:
                        raise
                    self.kernel = False
            return self._through(handle, buffer[:count], out_fd, offset)
        except OSError:
            self.close()
            raise

    @staticmethod
    def _send(in_fd: int, out_fd: int, offset: int, count: int) -> int:
        os.lseek(out_fd, offset, os.SEEK_SET)  # sendfile writes at the destination's position
        done = 0
        while done < count:
            n = os.sendfile(out_fd, in_fd, offset + done, count - done)
            if not n:
                break
            done += n
        return done

    @staticmethod
    def _through(handle: io.RawIOBase, buffer: memoryview, out_fd: int, offset: int) -> int:
        handle.seek(offset)
        got = 0
        while got < len(buffer):  # a raw read may return less than asked before the end
            n = handle.readinto(buffer[got:])
            if not n:
                break
            got += n
        written = 0
        while written < got:
            written += os.pwrite(out_fd, buffer[written:got], offset + written)
        return got

    def close(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):
                self.handle.close()
            self.handle = None


def _combine(blocks: list[str]) -> str:
    """The file's checksum: SHA-256 of its 8 MiB blocks' SHA-256s (one hashing pass while copying)."""
    return hashlib.sha256("".join(blocks).encode()).hexdigest()


def _block_digest(path: Path) -> str:
    blocks = []
    with open(path, "rb") as handle:
        while data := handle.read(BLOCK):
            blocks.append(hashlib.sha256(data).hexdigest())
    return _combine(blocks)
