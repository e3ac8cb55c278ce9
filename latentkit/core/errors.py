"""The exceptions a user can cause; the CLI prints each as a single line and exits with its status."""

import errno

# Every exit status latentkit gives (sysexits.h names where one fits); README "Signals and exit status".
USAGE_EXIT = 2  # bad input: the one line says what to change
DIVERGED_EXIT = 65  # EX_DATAERR: the run's numbers went bad; rerunning the same command would not help
GPU_OOM_EXIT = 71  # EX_OSERR: a resource ran out; distinct from bad input (2) and a stop signal (75)
RUN_BUSY_EXIT = 73  # EX_CANTCREAT: another process holds the run's lock
DISK_FULL_EXIT = 74  # EX_IOERR: no space left; free some and rerun the same command
INTERRUPTED_EXIT = 75  # EX_TEMPFAIL: checkpointed on a stop signal; run the same command again to resume
KEYBOARD_EXIT = 130  # Ctrl-C: finished work is kept, run the same command again to resume


class LatentkitError(Exception):
    """A problem with the user's input or files, explained in one line."""

    exit_code = USAGE_EXIT


class GpuOutOfMemory(LatentkitError):
    """The GPU could not hold a step or a batch: what was saved stays, lower --batch and rerun."""

    exit_code = GPU_OOM_EXIT


class TrainingDiverged(LatentkitError):
    """The loss or the weights became NaN or infinite: nothing is saved from that point."""

    exit_code = DIVERGED_EXIT


def disk_full(error: BaseException) -> OSError | None:
    """The "no space left" (or quota) error behind ``error``, following its causes; None if there is none."""
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return current
        current = current.__cause__ or current.__context__
    return None
