"""A notebook's session with latentkit: where Drive and the local disk are, the dataset staged
from Drive, and ``lk("train ...")``, which runs one command the way a notebook can hold it.

A command runs in its own process with its output piped, so its progress comes as plain lines
(one every ``LATENTKIT_PROGRESS_S`` seconds, not a live bar redrawn a thousand times), and the
lines reach the cell in batches (a few output messages per cell, whatever the job's length).
A failing command stops the notebook with one line that says what to change: running the cell
again only where that helps (a stop signal, a full disk freed).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from latentkit.core.errors import (
    DISK_FULL_EXIT,
    DIVERGED_EXIT,
    GPU_OOM_EXIT,
    INTERRUPTED_EXIT,
    KEYBOARD_EXIT,
    RUN_BUSY_EXIT,
    USAGE_EXIT,
)

FLUSH_S = 5.0  # the cell receives the command's lines at most this often
ADVICE = {  # exit status -> what the user does next (README: "Signals and exit status")
    USAGE_EXIT: "change what the line above says (in the parameters cell, or the command), then run this cell again",
    DIVERGED_EXIT: 'training diverged: train into a new RUN_NAME with a lower learning rate (TRAIN_ARGS = "--lr 0.0001")',
    GPU_OOM_EXIT: 'out of GPU memory: use a smaller batch (TRAIN_ARGS = "--batch 64") in a new RUN_NAME',
    RUN_BUSY_EXIT: "another process is using this run (a cell still running, or a second notebook): wait for it, "
    "or Runtime -> Restart session, then run this cell again",
    DISK_FULL_EXIT: "the local disk is full: delete what you no longer need under /content, then run this cell again",
    INTERRUPTED_EXIT: "stopped by a signal after writing a checkpoint: run this cell again to resume",
    KEYBOARD_EXIT: "interrupted: run this cell again to resume (finished work is kept)",
}


class NotebookStop(Exception):
    """A command failed: shown by IPython as its lines alone, with no traceback."""

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


def stop(line: str) -> NotebookStop:
    return NotebookStop(f"latentkit: {line}")


@dataclass
class Session:
    drive: Path  # the folder on Drive: the wheel, the dataset, runs/
    local: Path  # the VM's fast local disk (/content on Colab)
    dataset: str  # as given: a name in ``drive``, or "synthetic:N"
    on_colab: bool = False
    chunk: int = 20_000  # encode --chunk and --batch that fit this machine (`latentkit env`)
    batch: int = 256

    @property
    def staged(self) -> Path | None:
        """The dataset's copy on local disk (None for synthetic faces)."""
        return None if self.dataset.startswith("synthetic:") else self.local / "staged" / self.dataset

    def lk(self, *commands: str) -> None:
        """Run ``latentkit COMMAND``, its output shown here in batches; stop the notebook if it
        fails. Several commands run one after the other in one process (one start-up and one
        TensorFlow import for all: about 6 s each on two CPU cores), up to the first that fails."""
        if not commands:
            raise stop('lk needs a command: lk("status --run RUN"), or several: lk("encode ...", "analyze ...")')
        env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}  # ipykernel sets it: plain text here
        env.update(LATENTKIT_PROGRESS="lines", NO_COLOR="1")
        if len(commands) == 1:
            print(f"$ latentkit {commands[0]}", flush=True)
            argv = ["-m", "latentkit", *shlex.split(commands[0])]
        else:  # each announces itself (``chain``)
            argv = ["-c", "import sys; from latentkit.cli.main import chain; sys.exit(chain(sys.argv[1:]))", *commands]
        process = subprocess.Popen(
            [sys.executable, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=env,
        )
        pending, last, failure, command = [], time.monotonic(), None, commands[0]
        assert process.stdout is not None  # stdout=PIPE
        for line in process.stdout:
            pending.append(line)
            if line.startswith("latentkit: error:"):
                failure = line.strip()
            if line.startswith("$ latentkit "):  # the command now running: its own error line is what counts
                command, failure = line.removeprefix("$ latentkit ").strip(), None
            if time.monotonic() - last >= FLUSH_S:
                print("".join(pending), end="", flush=True)
                pending, last = [], time.monotonic()
        status = process.wait()
        if pending:
            print("".join(pending), end="", flush=True)
        if status != 0:
            word = command.split()[0] if command.split() else "latentkit"
            advice = ADVICE.get(status, "see the lines above")
            raise stop(
                f"{word} exited with status {status}"
                + (f" ({failure.removeprefix('latentkit: ')})" if failure else "")
                + f": {advice}"
            )

    def stage_dataset(self) -> None:
        """Copy the dataset from Drive to local disk (resumed and verified; a rerun reads nothing
        it has), with the annotation files kept beside a zip."""
        if self.staged is None:
            print(f"dataset: {self.dataset} (made on the VM, nothing to stage)")
            return
        source = self.drive / self.dataset
        if not source.exists():
            raise stop(
                f"no {self.dataset} in {self.drive}: put your dataset there (CelebA's img_align_celeba.zip, "
                f'Kaggle\'s archive.zip, a zip or folder of images), or set DATASET = "synthetic:20000"'
            )
        self.lk(f"stage {_q(source)} {_q(self.staged)}")
        if source.is_file():
            for extra in sorted(p for p in source.parent.iterdir() if p.suffix in (".txt", ".csv")):
                self.lk(f"stage {_q(extra)} {_q(self.staged.parent / extra.name)}")


def start(*, drive: str | os.PathLike, local: str | os.PathLike, dataset: str, on_colab: bool = False) -> Session:
    """The bootstrap cell's second half: this runtime (GPU, RAM, disk) and the dataset staged."""
    session = Session(Path(drive), Path(local), dataset, on_colab)
    session.local.mkdir(parents=True, exist_ok=True)
    os.environ["LATENTKIT_PROGRESS"] = "lines"  # `!latentkit ...` in this notebook too: lines, not bars
    session.lk(f"env --dir {_q(session.local)}")
    report = subprocess.run(
        [sys.executable, "-m", "latentkit", "env", "--json", "--dir", str(session.local)],
        capture_output=True,
        text=True,
        check=True,
    )
    fits = json.loads(report.stdout)["encode"]
    session.chunk, session.batch = fits["chunk"], fits["batch"]
    session.stage_dataset()
    return session


def preset_size(job: str) -> int:
    """The image size a preset (or TOML spec) trains on."""
    from latentkit.core import LatentkitError
    from latentkit.model import load_spec

    try:
        return load_spec(job).model.image_size
    except LatentkitError as error:
        raise stop(f"JOB = {job!r}: {error}") from None


def _q(path: Path) -> str:
    return shlex.quote(str(path))
