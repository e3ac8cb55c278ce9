"""The names of a run directory's files, in one place (see README: "A run directory")."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from latentkit.core.errors import LatentkitError


def check_folder(path: str | os.PathLike, option: str) -> Path:
    """Refuse up front, before any work, a folder to write that cannot be one: the path or a
    folder above it is a file."""
    path = Path(path)
    for at in (path, *path.parents):
        if at.exists() or at.is_symlink():
            if not at.is_dir():
                raise LatentkitError(f"{option} {path}: {at} is a file, not a folder: choose another path")
            break
    return path


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
