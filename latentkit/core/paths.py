"""The names of a run directory's files, in one place (see README: "A run directory")."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from latentkit.core.atomic import write_text
from latentkit.core.errors import LatentkitError

MARK = ".latentkit"  # in every folder latentkit makes: it may write there again (resume), and nowhere else
OLDER_SIGNS = ("job.toml", "report.json")  # folders of latentkit versions before the mark: runs, analyses


def check_folder(path: str | os.PathLike, option: str) -> Path:
    """Refuse up front, before any work and writing nothing, a folder latentkit may not write:
    the path or a folder above it is a file, or it is a folder that holds what latentkit did
    not make (a new or empty folder, or one with latentkit's mark, is fine)."""
    path = Path(path)
    _no_file_in_the_way(path, option)
    if path.is_dir() and not _ours(path):
        raise LatentkitError(
            f"{option} {path} holds files latentkit did not write: choose a new or empty folder "
            f"(latentkit never writes into a folder it did not make)"
        )
    return path


def own_folder(path: str | os.PathLike) -> Path:
    """Create ``path`` (checked by ``check_folder``) if needed and mark it as latentkit's."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if not (path / MARK).exists():
        write_text(path / MARK, "latentkit made this folder: it writes here again when a job resumes.\n")
    return path


def check_file(
    path: str | os.PathLike, option: str, *, force: bool = False, ours: Callable[[Path], bool] = lambda path: False
) -> Path:
    """Refuse up front a file latentkit may not write: a folder (or a file above it) in the way,
    or an existing file that ``ours`` does not recognise as latentkit's, unless ``force``."""
    path = Path(path)
    _no_file_in_the_way(path.parent, option)
    if path.is_dir():
        raise LatentkitError(f"{option} {path} is a folder: give a file name")
    if path.exists() and not force and not ours(path):
        raise LatentkitError(
            f"{option} {path} exists and latentkit did not write it: choose another name, or pass --force to replace it"
        )
    return path


def _no_file_in_the_way(path: Path, option: str) -> None:
    """The nearest existing folder at or above ``path`` is a folder this user may write in."""
    for at in (path, *path.parents):
        if at.exists() or at.is_symlink():
            if not at.is_dir():
                raise LatentkitError(f"{option} {path}: {at} is a file, not a folder: choose another path")
            if not os.access(at, os.W_OK | os.X_OK):
                raise LatentkitError(f"permission denied: cannot write in {at}: choose a folder you can write")
            return


def _ours(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        names = {entry.name for entry in entries}
    # the mark, stage's manifests (.NAME.latentkit-stage.json), or what older versions left
    return not names or any(MARK in name for name in names) or any(sign in names for sign in OLDER_SIGNS)


# The checkpoints folder's files: the newest, the one before it (kept while the newest is
# replaced), the epoch with the lowest validation loss, and each kept epoch.
LATEST_CHECKPOINT, PREVIOUS_CHECKPOINT, BEST_CHECKPOINT = "latest.npz", "previous.npz", "best.npz"


FLOW_RECORD = "flow.json"  # in a flow's folder (RUN/flow): its spec and history


def kept_checkpoint(checkpoints: Path, epoch: int) -> Path:
    """checkpoints/epoch_NNNN.npz: epoch ``epoch``'s checkpoint, kept for good."""
    return Path(checkpoints) / f"epoch_{epoch:04d}.npz"


@dataclass(frozen=True)
class AnalysisPaths:
    """Every file of an analysis folder (RUN/analysis, or ``analyze --out DIR``) by name."""

    folder: Path

    @property
    def report(self) -> Path:
        """report.json: every number of the analysis (its schema: ``analysis.report.schema``)."""
        return self.folder / "report.json"

    @property
    def markdown(self) -> Path:
        return self.folder / "report.md"

    @property
    def page(self) -> Path:
        """The interactive report page (``latentkit report``)."""
        return self.folder / "report.html"

    @property
    def fit(self) -> Path:
        """Every generator's fit (``LatentFit``): what ``generate`` draws from."""
        return self.folder / "mvn.npz"

    @property
    def tsne(self) -> Path:
        return self.folder / "tsne.npy"

    @property
    def tsne_rows(self) -> Path:
        """The latents' rows of the t-SNE map's points."""
        return self.folder / "tsne_rows.npy"

    @property
    def attributes(self) -> Path:
        return self.folder / "attributes.json"

    @property
    def attributes_markdown(self) -> Path:
        return self.folder / "attributes.md"

    @property
    def directions(self) -> Path:
        """The attributes' centroid directions (``generate --attribute``, ``lattice --plane``)."""
        return self.folder / "attributes.npz"

    @property
    def lattice(self) -> Path:
        return self.folder / "lattice.json"

    @property
    def lattice_picture(self) -> Path:
        return self.folder / "lattice.png"

    def figure(self, name: str) -> Path:
        """A figure the analysis drew, by its name: ``figure("coverage")`` is coverage.png."""
        return self.folder / f"{name}.png"


@dataclass(frozen=True)
class RunPaths:
    """Everything one experiment writes lives under ``root``; copy it anywhere and resume. Every
    file name of a run directory is written here and nowhere else (tests/test_code_layout.py)."""

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
    def latest_checkpoint(self) -> Path:
        return self.checkpoints / LATEST_CHECKPOINT

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / BEST_CHECKPOINT

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def training_figure(self) -> Path:
        """The losses against the epoch, redrawn after each epoch."""
        return self.samples / "training.png"

    @property
    def findings(self) -> Path:
        """The studies' findings against this run (``latentkit findings``), with every figure's path."""
        return self.root / "findings.json"

    @property
    def findings_markdown(self) -> Path:
        return self.root / "findings.md"

    @property
    def tensorboard(self) -> Path:
        """TensorBoard's event files (``tensorboard --logdir RUN/tensorboard``)."""
        return self.root / "tensorboard"

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
    def analysis_files(self) -> AnalysisPaths:
        """The files of the run's own analysis folder."""
        return AnalysisPaths(self.analysis)

    @property
    def model_folder(self) -> Path:
        """An imported model's files (``import-model`` copies them here)."""
        return self.root / "model"

    @property
    def imported(self) -> Path:
        """What ``import-model`` recorded of an outside model (its files lie beside it, in RUN/model)."""
        return self.model_folder / "import.json"

    @property
    def flow(self) -> Path:
        """The normalising flow ``latentkit flow`` trained on the run's latents."""
        return self.root / "flow"

    @property
    def flow_record(self) -> Path:
        return self.flow / FLOW_RECORD

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    def sample(self, name: str) -> Path:
        """A grid the demo decoded, by its name: ``sample("reconstructions")``."""
        return self.samples / f"{name}.png"

    @property
    def slurm_record(self) -> Path:
        """The SLURM job ids of ``slurm submit``, for ``status``."""
        return self.root / "slurm.json"

    @property
    def logs(self) -> Path:
        """The SLURM jobs' output files."""
        return self.root / "logs"
