"""The fitted normal reweighted by the atlas's density ratio: draws of the normal q kept by
accept/reject with probability min(1, w(z) / M), w = 1 / r = p / q (p: the data), so that what
is kept follows q r^-1 ~ p where the ratio holds: the normal's draws in the data's holes (r high)
are dropped, those where the data outweighs the normal are kept. As NCP-VAE reweights a VAE's
prior by a classifier (Aneja et al. 2021) and LARS accepts its draws by a learned, truncated
acceptance (Bauer & Mnih 2019); M is a high quantile of w (``LatentFit.ratio.bound``: LARS's
truncation), so a few draws above it are kept with probability 1.

The ratio is the atlas's classifier (``measures.atlas``), fitted by ``analyze`` between its data
sample and the normal's draws (``LatentFit.ratio``) and kept in mvn.npz: ``generate --method
reweighted`` draws with it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator
from latentkit.analysis.generators.normal import FittedNormal
from latentkit.core import LatentkitError

BATCH = 50_000  # base draws at a time, at most
MOST_DRAWN = 20_000_000  # base draws before giving up


@dataclass(frozen=True)
class Reweighted(Generator):
    """The fitted normal's draws accepted with probability min(1, (1 / r(z)) / M)."""

    method = "reweighted"
    title = "fitted normal reweighted by the density ratio (accept/reject)"
    needs = "ratio"
    missing = "the atlas's density ratio: rerun `latentkit analyze` (atlas on, with the quality stage)"

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        kept: list[np.ndarray] = []
        have, tried = 0, 0
        # as many base draws as should give n at the acceptance seen when fitting, in one batch
        # (the base's matrix root is computed once a batch), at most BATCH rows at a time
        batch = min(int(1.2 * n / max(fit.ratio.acceptance_rate, 1e-3)) + 64, BATCH)
        while have < n:
            if tried >= MOST_DRAWN:
                raise LatentkitError(f"the reweighted normal accepted {have} of {tried:,} draws: too few for {n}")
            z = FittedNormal().draw(rng, batch, fit)
            accept = rng.random(batch) < fit.ratio.acceptance(z)
            kept.append(z[accept])
            have, tried = have + int(accept.sum()), tried + batch
        return np.concatenate(kept)[:n]
