"""The exceptions a user can cause; the CLI prints each as a single line and exits with its status."""


class LatentkitError(Exception):
    """A problem with the user's input or files, explained in one line."""

    exit_code = 2


class GpuOutOfMemory(LatentkitError):
    """The GPU could not hold a step or a batch: what was saved stays, lower --batch and rerun."""

    exit_code = 71  # EX_OSERR: a resource ran out; distinct from bad input (2) and a stop signal (75)
