"""Moving files between a slow mount and local disk: ``stage`` (verified, resumable copies)
and ``sync`` (mirroring a run, also in the background during a job)."""

from latentkit.transfer.stage import stage
from latentkit.transfer.sync import open_mirror, sync

__all__ = ["open_mirror", "stage", "sync"]
