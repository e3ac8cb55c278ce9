"""Reading from a slow, flaky mount (Google Drive, cluster home): the retry every transfer uses,
the block size, and which files a transfer walks over (not another job's scratch files).

Reads that fail with EIO, ENOTCONN, ETIMEDOUT or ESTALE (a Drive file over its quota, a
dropped mount) are retried with backoff, then reported in one line.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from pathlib import Path

from latentkit.core import LatentkitError, disk_full

BLOCK = 8 * 2**20
TRANSIENT = {errno.EIO, errno.ENOTCONN, errno.ETIMEDOUT, errno.ESTALE}
RETRIES = 6  # backoff 0.5, 1, 2, 4, 8, 16 s: about half a minute of a dropped mount
MANIFEST = ".latentkit-stage.json"  # stage's record of a finished copy


def retrying(action: Callable, what: str, *, retries: int = RETRIES, backoff: float = 0.5):
    """Run ``action()``; on a transient OSError wait and try again, then raise one clear line."""
    for attempt in range(retries + 1):
        try:
            return action()
        except OSError as error:
            if disk_full(error):
                raise  # not transient, and the CLI's own line for it says what to do
            if error.errno not in TRANSIENT or attempt == retries:
                raise LatentkitError(f"{what} failed after {attempt + 1} tries: {error}") from None
            time.sleep(backoff * 2**attempt)


def walk(root: Path) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        rel = Path(folder).relative_to(root)
        found += [(rel / n).as_posix() for n in sorted(names) if not is_scratch(n)]
    return found


def is_scratch(name: str) -> bool:
    return name.endswith((".tmp", ".partial", ".partial.json", ".lock")) or name == MANIFEST
