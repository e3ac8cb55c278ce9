"""The one exception type a user can cause; the CLI prints it as a single line."""


class LatentkitError(Exception):
    """A problem with the user's input or files, explained in one line."""
