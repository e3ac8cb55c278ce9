"""A VAE's aggregate posterior, q(z) = mean over x of q(z|x): drawing picks a kept data point's
(mu, log-variance) and draws from that Gaussian. It keeps a bounded sample of the cloud's
(mu, log-variance) rows, saved in mvn.npz with the other fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentkit.analysis.generators.base import Fit, Generator


@dataclass(frozen=True)
class Posterior:
    mu: np.ndarray  # (n, d) of a sample of data points
    logvar: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        picked = rng.integers(0, len(self.mu), n)
        mu, logvar = self.mu[picked].astype(np.float64), self.logvar[picked].astype(np.float64)
        return mu + np.exp(logvar / 2) * rng.standard_normal(mu.shape)


def read_posterior(latents, valid: np.ndarray, count: int, seed: int) -> Posterior | None:
    """``count`` rows of a VAE's (mu, log-variance) from its latents, or None for latents without them."""
    from pathlib import Path

    import zarr

    from latentkit.store import get_array

    if not (Path(latents) / "zarr.json").exists():
        return None
    group = zarr.open(latents, mode="r")
    if not isinstance(group, zarr.Group) or "mu" not in group or "logvar" not in group:
        return None
    rows = np.flatnonzero(valid)
    rows = np.sort(np.random.default_rng(seed).choice(rows, size=min(count, len(rows)), replace=False))
    return Posterior(
        np.asarray(get_array(group, "mu").get_orthogonal_selection((rows,)), np.float32),
        np.asarray(get_array(group, "logvar").get_orthogonal_selection((rows,)), np.float32),
    )


@dataclass(frozen=True)
class AggregatePosterior(Generator):
    """Draws from a VAE's aggregate posterior (``LatentFit.posterior``)."""

    method = "posterior"
    title = "aggregate posterior (q(z|x) of data points)"
    needs = "posterior"
    missing = (
        "a VAE's latents (mu, logvar): it draws from the aggregate posterior; rerun `latentkit analyze` on a VAE run"
    )

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        assert fit.posterior is not None
        return fit.posterior.sample(rng, n)
