"""Moving files between a slow mount and local disk: ``stage`` (verified, resumable copies)
and ``sync`` (mirroring a run, also in the background during a job: ``Mirror``), over one
retry for flaky reads (``mount``). The jobs are imported from their modules
(``from latentkit.transfer.stage import stage``)."""

from latentkit.transfer.mount import BLOCK, retrying
from latentkit.transfer.sync import Mirror, open_mirror

__all__ = ["BLOCK", "Mirror", "open_mirror", "retrying"]
