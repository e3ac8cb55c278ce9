"""The training curve of a run: loss per epoch, train and valid, from its history."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from latentkit.core import atomic_write  # noqa: E402

TERMS = ("loss", "reconstruction", "kl")


def draw_training(history: list[dict], path: Path) -> Path:
    """RUN/samples/training.png: each loss term per epoch (train, and valid where measured);
    the KL panel only for a VAE. Written atomically; redrawn after every epoch."""
    epochs = [int(row["epoch"]) for row in history]
    terms = [t for t in TERMS if t != "kl" or any(float(row.get("kl") or 0) for row in history)]
    fig, axes = plt.subplots(1, len(terms), figsize=(4.2 * len(terms), 3.2), squeeze=False)
    try:
        for ax, term in zip(axes[0], terms):
            ax.plot(epochs, [float(row[term]) for row in history], marker="o", color="black", label="train")
            valid = [(e, float(row[f"val_{term}"])) for e, row in zip(epochs, history) if row.get(f"val_{term}") not in
                     (None, "")]  # fmt: skip
            if valid:
                ax.plot(*zip(*valid), marker="s", color="tab:orange", label="valid")
            ax.set(xlabel="epoch", title=term)
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[0][0].legend(frameon=False, fontsize=8)
        fig.tight_layout()
        with atomic_write(path) as handle:
            fig.savefig(handle, format="png", dpi=100)
    finally:
        plt.close(fig)
    return path
