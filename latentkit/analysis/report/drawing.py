"""What every figure shares: matplotlib's Agg backend, one colour per generator (the same in
every figure and in compare), a legend outside the axes, and ``save_figure`` (atomic, PNG
with latentkit's software tag)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from latentkit.core import atomic_write
from latentkit.model.images import SOFTWARE

DATA_COLOUR = "black"
_UNIFORM_SHADES = {0.5: "#fdd0a2", 1.0: "#fdae6b", 1.5: "#fd8d3c", 2.0: "#f16913", 3.0: "#d94801", 5.0: "#8c2d04"}
_METHOD_COLOURS = {"normal": "tab:purple", "component": "tab:gray", "mvn": "tab:blue", "gmm": "tab:green"}
_SET_COLOURS = {"multivariate normal": _METHOD_COLOURS["mvn"], "gaussian mixture": _METHOD_COLOURS["gmm"]}


def generator_colour(method: str, b: float | None = None) -> str:
    """One colour per generator, the same in every figure (and in compare): uniform in oranges by b."""
    if method == "uniform":
        assert b is not None, "a uniform generator has its b"
        return _UNIFORM_SHADES.get(float(b), "#e6550d")
    return _METHOD_COLOURS.get(method, "tab:olive")


def legend_outside(ax, **kwargs) -> None:
    """A legend to the right of the axes, where it covers no data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, **kwargs)


def save_figure(fig, path: Path) -> str:
    """Write ``fig`` as a PNG atomically and close it; the file's name."""
    try:
        with atomic_write(path) as handle:
            # tagged as latentkit's (as save_png tags grids): a later run may replace it, nothing else
            fig.savefig(
                handle, format="png", dpi=110, bbox_inches="tight", metadata={"Software": f"{SOFTWARE} (matplotlib)"}
            )
    finally:
        plt.close(fig)
    return path.name
