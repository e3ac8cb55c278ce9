"""The run's normalising flow (RealNVP, trained by ``latentkit flow`` and kept in RUN/flow; the
network itself lives in the model room, ``latentkit.model.flow``) as a generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from latentkit.analysis.generators.base import Generator

if TYPE_CHECKING:
    from latentkit.analysis.generators.fit import LatentFit


@dataclass(frozen=True)
class TrainedFlow(Generator):
    """Draws from the run's trained flow (``LatentFit.flow``)."""

    method = "flow"
    title = "normalising flow (RealNVP)"
    needs = "flow"
    missing = "the run's trained flow: run `latentkit flow --run RUN` first"

    def draw(self, rng: np.random.Generator, n: int, fit: LatentFit) -> np.ndarray:
        return fit.flow.sample(rng, n)
