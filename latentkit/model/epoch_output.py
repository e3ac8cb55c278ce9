"""What ``train`` writes after each epoch besides its checkpoint and history: the training
figure (RUN/samples/training.png, ``draw_training``) and TensorBoard event files
(RUN/tensorboard, ``log_epochs``).

The event files are what `tensorboard --logdir RUN` (and Colab's `%tensorboard`) read: per epoch
the loss terms of training (RUN/tensorboard/train) and of validation (RUN/tensorboard/valid: the
same tags, so TensorBoard draws the two on one chart), the images per second, and the epoch's
reconstruction grid.
Written with tensorboardX's protobufs and record framing, no TensorFlow. One file per epoch and
folder, named by the epoch (TensorBoard reads a folder's files in name order) and written whole
(``atomic_write``) after the epoch's checkpoint: a run killed and rerun never holds an epoch
twice or out of order, and an epoch whose file a kill prevented is written by the next epoch's
pass over the history (``log_epochs``).
"""

from __future__ import annotations

import struct
import time
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from latentkit.core import RunPaths, atomic_write
from latentkit.model.images import SOFTWARE

TERMS = ("loss", "reconstruction", "kl")


def draw_training(history: list[dict], path: Path) -> Path:
    """RUN/samples/training.png: each loss term per epoch (train, and valid where measured);
    the KL panel only for a VAE; under the loss, the probe images' latent radius (mean and
    spread), where the studies saw a jump. Written atomically; redrawn after every epoch."""
    epochs = [int(row["epoch"]) for row in history]
    terms = [t for t in TERMS if t != "kl" or any(float(row.get("kl") or 0) for row in history)]
    probe = [
        (e, float(row["probe_radius_mean"]), float(row["probe_radius_std"]))
        for e, row in zip(epochs, history)
        if row.get("probe_radius_mean") not in (None, "")
    ]
    rows = 2 if probe else 1
    fig, axes = plt.subplots(rows, len(terms), figsize=(4.2 * len(terms), 3.2 * rows), squeeze=False)
    try:
        if probe:
            x, mean, spread = (np.array(v) for v in zip(*probe))
            ax = axes[1][0]
            ax.fill_between(x, mean - spread, mean + spread, color="tab:blue", alpha=0.2, label="+- std")
            ax.plot(x, mean, marker="o", color="tab:blue", label="mean")
            ax.set(xlabel="epoch", title="latent radius of the probe images")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.legend(frameon=False, fontsize=8)
            for extra in axes[1][1:]:
                extra.axis("off")
        for ax, term in zip(axes[0], terms):
            ax.plot(epochs, [float(row[term]) for row in history], marker="o", color="black", label="train")
            valid = [
                (e, float(row[f"val_{term}"]))
                for e, row in zip(epochs, history)
                if row.get(f"val_{term}") not in (None, "")
            ]
            if valid:
                ax.plot(*zip(*valid), marker="s", color="tab:orange", label="valid")
            ax.set(xlabel="epoch", title=term)
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[0][0].legend(frameon=False, fontsize=8)
        fig.tight_layout()
        with atomic_write(path) as handle:
            fig.savefig(handle, format="png", dpi=100, metadata={"Software": f"{SOFTWARE} (matplotlib)"})
    finally:
        plt.close(fig)
    return path


# -- TensorBoard event files ----------------------------------------------------------------


SCALARS = {
    "loss": "loss",
    "reconstruction": "loss/reconstruction",
    "kl": "loss/kl",
    "images_per_s": "speed/images_per_s",
}


def event_file(paths: RunPaths, side: str, epoch: int) -> Path:
    """RUN/tensorboard/{train,valid}/events.out.tfevents.EPOCH.latentkit"""
    return paths.tensorboard / side / f"events.out.tfevents.{epoch:06d}.latentkit"


def log_epochs(paths: RunPaths, history: list[dict[str, Any]]) -> int:
    """Write the event files of every epoch in ``history`` that has none yet; how many were written."""
    written = 0
    for row in history:
        epoch = int(row["epoch"])
        sides = {
            "train": {SCALARS[k]: row[k] for k in SCALARS if row.get(k) is not None},
            "valid": {
                SCALARS[k]: row[f"val_{k}"] for k in ("loss", "reconstruction", "kl") if row.get(f"val_{k}") is not None
            },
        }
        for side, scalars in sides.items():
            target = event_file(paths, side, epoch)
            if not scalars or target.exists():
                continue
            grid = paths.samples / f"reconstructions_epoch{epoch:03d}.png"
            _write(target, epoch, scalars, grid if side == "train" and grid.exists() else None)
            written += 1
    return written


def _write(path: Path, step: int, scalars: dict[str, float], grid: Path | None) -> None:
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.proto.summary_pb2 import Summary

    now = time.time()
    values = [Summary.Value(tag=tag, simple_value=float(value)) for tag, value in scalars.items()]
    if grid is not None:  # the PNG as it is on disk: no decode, no re-encode
        from PIL import Image

        with Image.open(grid) as picture:
            width, height = picture.size
        encoded = Summary.Image(height=height, width=width, colorspace=3, encoded_image_string=grid.read_bytes())
        values.append(Summary.Value(tag="reconstructions (top: originals)", image=encoded))
    events = [
        Event(wall_time=now, step=0, file_version="brain.Event:2"),
        Event(wall_time=now, step=step, summary=Summary(value=values)),
    ]
    with atomic_write(path) as handle:
        for event in events:
            _record(handle, event.SerializeToString())


def _record(handle, data: bytes) -> None:
    """One TFRecord: length, its masked CRC-32C, the data, its masked CRC-32C."""
    from tensorboardX.record_writer import masked_crc32c

    header = struct.pack("<Q", len(data))
    handle.write(header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data)))
