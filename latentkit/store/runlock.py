"""One job per run: a lock on the run directory that a killed holder cannot leave stuck.

A notebook cell run twice or a misconfigured array would otherwise put two ``train`` (or two
whole-store ``encode``) processes on one run, each overwriting the other's checkpoints. The
lock is ``flock`` on RUN/locks/<job>.lock: the kernel drops it when its holder exits, however
it exits (SIGKILL, out of memory, a node reboot clears it too), so there is no stale lock to
clean up. The file also says who holds it (host, pid, since when) for the refusal's line.

Task-split encodes (``--task I --tasks N``) hold the encode lock *shared* and their own task's
lock exclusively: they run side by side, while a whole-store encode, or a second copy of the
same task, is refused.

Where ``flock`` is not supported (some FUSE and Lustre mounts without ``-o flock``), the job
says so and runs unguarded. Where it is node-local (Lustre ``-o localflock``, old NFS), two
jobs on different nodes are not stopped: the holder file still names the other host.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from latentkit.core import RUN_BUSY_EXIT, LatentkitError

UNSUPPORTED = {errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL}


class RunBusy(LatentkitError):
    """Another process holds the run: one line naming it."""

    exit_code = RUN_BUSY_EXIT


def holder(path: Path) -> str:
    """Who holds (or last held) the lock at ``path``, in words."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(info.get("since", 0)))
    return f"{info.get('job', 'a job')} (pid {info.get('pid')} on {info.get('host')}, since {since})"


@contextmanager
def _flock(path: Path, *, shared: bool, job: str, warn: Callable[[str], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunBusy(
                f"{path.parent.parent} is in use by {holder(path)}: wait for it to finish or stop it "
                f"(a killed holder leaves no lock behind)"
            ) from None
        except OSError as error:
            if error.errno not in UNSUPPORTED:
                raise
            warn(
                f"warning: file locks are not supported on {path.parent} ({error.strerror}): nothing stops a "
                f"second {job} on this run"
            )
            yield
            return
        if not shared:
            handle.seek(0)
            handle.truncate()
            handle.write(
                json.dumps({"job": job, "pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
            )
            handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def refuse_while_held(root: str | os.PathLike, job: str, *, reader: str) -> None:
    """Raise ``RunBusy`` while ``job`` holds the run: ``reader`` would read what it is still writing
    (``encode`` during ``train`` would encode a checkpoint that is about to be replaced)."""
    path = Path(root) / "locks" / f"{job}.lock"
    if path.exists() and _held(path):
        raise RunBusy(
            f"{root} is in use by {holder(path)}: {reader} would read a checkpoint that is still "
            f"changing: run it when the {job} has finished (a killed {job} leaves no lock behind)"
        )


def _held(path: Path) -> bool:
    """Whether some process holds the lock at ``path`` now (probed without waiting)."""
    with open(path, encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@contextmanager
def run_lock(
    root: str | os.PathLike, job: str, *, task: int = 0, tasks: int = 1, warn: Callable[[str], None] = lambda line: None
) -> Iterator[None]:
    """Hold RUN/locks/<job>.lock while a job writes the run, or raise ``RunBusy`` naming the holder.

    ``tasks`` > 1: the job lock shared, and <job>-task-I-of-N.lock exclusive.
    """
    locks = Path(root) / "locks"
    with ExitStack() as stack:
        if tasks > 1:
            task_lock = locks / f"{job}-task-{task}-of-{tasks}.lock"
            try:
                stack.enter_context(_flock(locks / f"{job}.lock", shared=True, job=job, warn=warn))
            except RunBusy:
                raise RunBusy(
                    f"{root} is in use by a whole-store {holder(locks / f'{job}.lock')}: task-split {job}s wait for it"
                ) from None
            stack.enter_context(_flock(task_lock, shared=False, job=f"{job} task {task} of {tasks}", warn=warn))
        else:
            try:
                stack.enter_context(_flock(locks / f"{job}.lock", shared=False, job=job, warn=warn))
            except RunBusy:
                split = [path for path in sorted(locks.glob(f"{job}-task-*.lock")) if _held(path)]
                if not split:
                    raise
                raise RunBusy(
                    f"{root} is in use by task-split {job}s: {'; '.join(holder(p) for p in split)}; "
                    f"wait for them to finish"
                ) from None
        yield
