"""The names of a run directory's files, in one place (see README: "A run directory")."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunPaths:
    """Everything one experiment writes lives under ``root``; copy it anywhere and resume."""

    root: Path

    @classmethod
    def of(cls, run: str | os.PathLike) -> RunPaths:
        return cls(Path(run))

    @property
    def job_spec(self) -> Path:
        """The resolved spec the run was started with."""
        return self.root / "job.toml"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def monitor(self) -> Path:
        return self.root / "monitor.jsonl"

    @property
    def latents(self) -> Path:
        return self.root / "latents.zarr"

    @property
    def analysis(self) -> Path:
        return self.root / "analysis"

    @property
    def samples(self) -> Path:
        return self.root / "samples"
