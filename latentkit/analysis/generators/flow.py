"""The run's normalising flow (RealNVP, trained by ``latentkit flow`` and kept in RUN/flow; the
network itself lives in the model room, ``latentkit.model.flow``) as a generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator


@dataclass(frozen=True)
class TrainedFlow(Generator):
    """Draws from the run's trained flow (``LatentFit.flow``)."""

    method = "flow"
    title = "normalising flow (RealNVP)"
    needs = "flow"
    missing = "the run's trained flow: run `latentkit flow --run RUN` first"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        return fit.flow.sample(rng, n)
