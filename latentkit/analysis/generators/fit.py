"""What generation needs from an analysis, in one object saved as the analysis' mvn.npz: the
component fits, the multivariate normal, the data's shell, and the fitted mixture, kernel
density, aggregate posterior and the atlas's density ratio where analyze fitted them (the flow
lives in RUN/flow)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from latentkit.analysis.generators.kde import Kde
from latentkit.analysis.generators.mixture import Mixture, matrix_root
from latentkit.analysis.generators.posterior import Posterior


@dataclass(frozen=True)
class LatentFit:
    """What generation needs from an analysis: component fits and the multivariate normal."""

    mean: np.ndarray
    cov: np.ndarray
    centre: np.ndarray  # Gaussian-fit centre per component
    sigma: np.ndarray  # Gaussian-fit sigma per component
    fwhm: np.ndarray  # full width at half maximum per component (the studies' "half-width")
    mixture: Mixture | None = None
    kde: Kde | None = None  # a kernel density, bandwidth by cross-validation
    posterior: Posterior | None = None  # a VAE's aggregate posterior
    flow: Any = None  # the run's RealNVP flow (latentkit.model.flow.LoadedFlow; in RUN/flow, not in mvn.npz)
    shell: np.ndarray | None = None  # the data's own Mahalanobis distances and radii (``measures.hits.shell_of``)
    # the atlas's density ratio against the fitted normal (``generators.reweighted.Reweighting``): what the
    # reweighted generator draws with
    ratio: Any = None

    @property
    def cov_root(self) -> np.ndarray:
        return matrix_root(self.cov)

    @cached_property
    def whitening(self) -> np.ndarray:
        """(d, r): rows times this give coordinates of unit variance along the covariance's r
        directions that have variance (a singular covariance's others are left out, not divided by 0)."""
        values, vectors = np.linalg.eigh(self.cov)
        kept = values > max(float(values.max()), 0.0) * 1e-10
        return vectors[:, kept] / np.sqrt(values[kept])

    def save(self, path) -> None:
        from latentkit.core import atomic_write

        arrays = dict(mean=self.mean, cov=self.cov, centre=self.centre, sigma=self.sigma, fwhm=self.fwhm)
        if self.shell is not None:
            arrays.update(shell=self.shell)
        if self.mixture is not None:
            m = self.mixture
            arrays.update(
                gmm_weights=m.weights,
                gmm_means=m.means,
                gmm_covariances=m.covariances,
                gmm_bic_k=np.array([int(k) for k in m.bic]),
                gmm_bic=np.array(list(m.bic.values())),
            )
        if self.kde is not None:
            arrays.update(
                kde_points=self.kde.points,
                kde_bandwidth=np.array(self.kde.bandwidth),
                kde_mean=self.kde.mean,
                kde_scale=self.kde.scale,
            )
        if self.posterior is not None:
            arrays.update(posterior_mu=self.posterior.mu, posterior_logvar=self.posterior.logvar)
        if self.ratio is not None:
            r = self.ratio
            arrays.update(
                ratio_mean=r.ratio.features.mean,
                ratio_whitening=r.ratio.features.whitening,
                ratio_landmarks=r.ratio.features.landmarks,
                ratio_bandwidth=np.array(r.ratio.features.bandwidth),
                ratio_weights=r.ratio.weights,
                ratio_terms=np.array([r.ratio.intercept, r.ratio.prior]),
                ratio_acceptance=np.array([r.log_bound, r.acceptance_rate, r.c2st_accuracy]),
            )
        with atomic_write(path) as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub: mypy matches **arrays to allow_pickle: bool too

    @classmethod
    def load(cls, path) -> LatentFit:
        with np.load(path) as data:
            mixture = None
            if "gmm_weights" in data:
                bic = {str(k): float(v) for k, v in zip(data["gmm_bic_k"], data["gmm_bic"])}
                mixture = Mixture(data["gmm_weights"], data["gmm_means"], data["gmm_covariances"], bic)
            kde = (
                Kde(data["kde_points"], float(data["kde_bandwidth"]), data["kde_mean"], data["kde_scale"])
                if "kde_points" in data
                else None
            )
            posterior = Posterior(data["posterior_mu"], data["posterior_logvar"]) if "posterior_mu" in data else None
            return cls(
                **{k: data[k] for k in ("mean", "cov", "centre", "sigma", "fwhm")},
                mixture=mixture,
                kde=kde,
                posterior=posterior,
                shell=data.get("shell"),
                ratio=_load_ratio(data) if "ratio_weights" in data else None,
            )


def _load_ratio(data):
    """The reweighted generator's density ratio, as ``LatentFit.save`` wrote it."""
    from latentkit.analysis.generators.reweighted import DensityRatio, Features, Reweighting

    features = Features(
        data["ratio_mean"], data["ratio_whitening"], data["ratio_landmarks"], float(data["ratio_bandwidth"])
    )
    intercept, prior = (float(v) for v in data["ratio_terms"])
    log_bound, rate, accuracy = (float(v) for v in data["ratio_acceptance"])
    return Reweighting(DensityRatio(features, data["ratio_weights"], intercept, prior), log_bound, rate, accuracy)
