"""Files as users have them: a folder (recursive), a zip or a tar, listed and read in place.

A source lists its files by path relative to its root (``/``-separated) and reads one
file's bytes by that path, from any thread. Zips are read in place (one handle per
thread: ZipFile seeks a shared file). A plain tar is read in place by member offset; a
compressed tar (.tar.gz, .tgz, .tar.bz2, .tar.xz) cannot be read at random, so it is
decompressed once, streamed, to a plain tar beside the output (and the caller removes it).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from latentkit.core import LatentkitError, atomic_write

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
COMPRESSED_TAR = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def is_image_name(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith("._")  # macOS resource forks


@dataclass
class FileSource:
    """A folder, zip or tar: ``files`` relative to its root, and ``read(path)``."""

    path: Path
    kind: str  # "folder", "zip" or "tar"
    files: list[str]
    _tar_members: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)  # path -> (offset, size)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _handles: list = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    readable: Path | None = None  # the file actually read (a decompressed copy of a compressed tar)

    @cached_property
    def by_name(self) -> dict[str, str]:
        """Each file name (lower case) to the first path holding it: one pass, then lookups."""
        index: dict[str, str] = {}
        for path in self.files:
            index.setdefault(path.rsplit("/", 1)[-1].lower(), path)
        return index

    def read(self, relative: str) -> bytes:
        if self.kind == "folder":
            with open(self.path / relative, "rb") as file:
                return file.read()
        handle: Any = getattr(self._local, "handle", None)  # this thread's ZipFile, or binary file of a tar
        if handle is None:
            handle = zipfile.ZipFile(self.path) if self.kind == "zip" else open(self.readable or self.path, "rb")  # noqa: SIM115 (one handle per thread, kept)
            self._local.handle = handle
            with self._lock:
                self._handles.append(handle)
        if self.kind == "zip":
            return handle.read(relative)
        offset, size = self._tar_members[relative]
        handle.seek(offset)
        return handle.read(size)

    def close(self) -> None:
        with self._lock:
            for handle in self._handles:
                handle.close()
            self._handles.clear()
        self._local = threading.local()


def open_source(src: str | os.PathLike, *, scratch: Path | None = None) -> FileSource:
    """List a folder (recursively), a zip or a tar. ``scratch``: where a compressed tar is unpacked."""
    path = Path(src)
    if not path.exists():
        raise LatentkitError(f"{path} does not exist")
    if path.is_dir():
        files = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel = Path(root).relative_to(path).as_posix()
            files += [n if rel == "." else f"{rel}/{n}" for n in names if not n.startswith(".")]
        return FileSource(path, "folder", sorted(files))
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                files = sorted(i.filename for i in archive.infolist() if not i.is_dir())
        except (zipfile.BadZipFile, OSError) as error:
            raise LatentkitError(f"{path} is a damaged zip ({error}): copy it again") from None
        return FileSource(path, "zip", files)
    if tarfile.is_tarfile(path):
        return _open_tar(path, scratch)
    raise LatentkitError(f"{path} is neither a folder, a zip nor a tar file")


def _open_tar(path: Path, scratch: Path | None) -> FileSource:
    readable = path
    if path.name.lower().endswith(COMPRESSED_TAR):
        readable = (scratch or path.parent) / (path.name.split(".")[0] + ".latentkit-unpacked.tar")
        if not readable.exists():  # written whole or not at all: a kill leaves no half copy
            opener = {"gz": "gzip", "tgz": "gzip", "bz2": "bz2", "tbz2": "bz2", "xz": "lzma", "txz": "lzma"}
            module = __import__(opener[path.name.lower().rsplit(".", 1)[-1]])
            with module.open(path, "rb") as packed, atomic_write(readable) as plain:
                shutil.copyfileobj(packed, plain, 1 << 20)
    try:
        with tarfile.open(readable, "r:") as archive:
            members = {m.name.removeprefix("./"): (m.offset_data, m.size) for m in archive.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError) as error:
        raise LatentkitError(f"{path} is a damaged tar ({error}): copy it again") from None
    return FileSource(path, "tar", sorted(members), _tar_members=members, readable=readable)
