"""Random z-point generators of the studies, their analytic radii, and the region hit test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from math import exp, lgamma, sqrt
from typing import Any

import numpy as np

from latentkit.analysis.data_samplers import Kde, Posterior
from latentkit.core import LatentkitError

METHODS = ("uniform", "normal", "component", "mvn", "gmm", "kde", "posterior", "flow")


@dataclass(frozen=True)
class Sampler:
    """One way of drawing z-points (uniform, normal, per-component, fitted normal, mixture): a
    "generator" in report.json and the figures; draws (n, dim) z-points; ``params`` say which."""

    name: str
    method: str
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A short name for scripts and report.json keys: uniform_b1.5, normal, component, mvn, gmm."""
        return generator_key(self.method, self.params)

    def sample(self, rng: np.random.Generator, n: int, fit: LatentFit) -> np.ndarray:
        dim = len(fit.mean)
        if self.method == "uniform":
            b = self.params["b"]
            return rng.uniform(-b, b, (n, dim))
        if self.method == "normal":
            return rng.standard_normal((n, dim))
        if self.method == "component":
            return fit.centre + fit.sigma * rng.standard_normal((n, dim))
        if self.method == "mvn":
            return fit.mean + rng.standard_normal((n, dim)) @ fit.cov_root.T
        if self.method == "gmm":
            if fit.mixture is None:
                raise LatentkitError("--method gmm needs the fitted mixture: rerun `latentkit analyze` (mixture on)")
            return fit.mixture.sample(rng, n)
        if self.method == "kde":
            if fit.kde is None:
                raise LatentkitError("--method kde needs the fitted kernel density: rerun `latentkit analyze` (kde on)")
            return fit.kde.sample(rng, n)
        if self.method == "flow":
            if fit.flow is None:
                raise LatentkitError("--method flow needs the run's trained flow: run `latentkit flow --run RUN` first")
            return fit.flow.sample(rng, n)
        if self.method == "posterior":
            if fit.posterior is None:
                raise LatentkitError(
                    "--method posterior needs a VAE's latents (mu, logvar): it draws from the "
                    "aggregate posterior; rerun `latentkit analyze` on a VAE run"
                )
            return fit.posterior.sample(rng, n)
        raise LatentkitError(f"unknown method {self.method!r}: use {', '.join(METHODS)}")

    def expected_radius(self, fit: LatentFit) -> tuple[float | None, float | None]:
        """Analytic (mean, sd) of the radius where one exists."""
        n = len(fit.mean)
        if self.method == "uniform":
            b = self.params["b"]
            mean = b * sqrt(n / 3) * sqrt(1 / (1 + 1 / (4 * n)))
            return mean, mean * sqrt(1 / (5 * n)) / (1 + 1 / (4 * n))
        if self.method == "normal":  # chi distribution with n degrees of freedom: ~ sqrt(n), sd ~ 1/sqrt(2)
            mean = sqrt(2) * exp(lgamma((n + 1) / 2) - lgamma(n / 2))
            return mean, sqrt(max(n - mean**2, 0.0))
        if self.method == "component":  # sqrt(E R^2): exact to O(1/n)
            return sqrt(float(np.sum(fit.centre**2 + fit.sigma**2))), None
        if self.method == "gmm":
            m = fit.mixture
            second = (m.weights * ((m.means**2).sum(axis=1) + np.trace(m.covariances, axis1=1, axis2=2))).sum()
            return sqrt(float(second)), None
        return sqrt(float(fit.mean @ fit.mean + np.trace(fit.cov))), None


def _root(cov: np.ndarray) -> np.ndarray:
    """A matrix A with A A^T = cov (eigen-based, so a singular covariance still works)."""
    values, vectors = np.linalg.eigh(cov)
    return vectors * np.sqrt(np.clip(values, 0, None))


@dataclass(frozen=True)
class Mixture:
    """A Gaussian mixture fitted to the cloud: weights (K,), means (K, d), covariances (K, d, d)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    bic: dict = field(default_factory=dict)  # components -> BIC of each candidate tried

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        component = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        z = np.empty((n, self.means.shape[1]))
        for k in range(len(self.weights)):
            rows = np.flatnonzero(component == k)
            z[rows] = self.means[k] + rng.standard_normal((len(rows), z.shape[1])) @ _root(self.covariances[k]).T
        return z


def fit_mixture(
    points: np.ndarray, candidates=(1, 2, 3, 4, 6, 8), *, seed: int = 0, progress: Callable[[], None] = lambda: None
) -> Mixture:
    """Full-covariance Gaussian mixtures with more and more components; the one with the lowest BIC.

    Candidates are tried in increasing order and the search stops once BIC has risen twice in a
    row past its best (in hundreds of dimensions every extra component costs tens of thousands
    of parameters, so BIC turns early and the large fits would be wasted time).
    """
    from sklearn.mixture import GaussianMixture

    points = np.asarray(points, np.float64)
    best, bic, worse = None, {}, 0
    for k in sorted({int(c) for c in candidates if 1 <= c <= len(points) // 2}) or [1]:
        # reg_covar relative to the cloud's scale: the default 1e-6 is absolute.
        model = GaussianMixture(
            k,
            covariance_type="full",
            random_state=seed,
            n_init=2 if k > 1 else 1,
            reg_covar=1e-6 * float(points.var(axis=0).mean() or 1.0),
        ).fit(points)
        bic[str(k)] = float(model.bic(points))
        progress()
        if best is None or bic[str(k)] < bic[str(best.n_components)]:
            best, worse = model, 0
        else:
            worse += 1
            if worse == 2:
                break
    return Mixture(best.weights_, best.means_, best.covariances_, bic)


@dataclass(frozen=True)
class LatentFit:
    """What generation needs from an analysis: component fits and the multivariate normal."""

    mean: np.ndarray
    cov: np.ndarray
    centre: np.ndarray  # Gaussian-fit centre per component
    sigma: np.ndarray  # Gaussian-fit sigma per component
    fwhm: np.ndarray  # full width at half maximum per component (the studies' "half-width")
    mixture: Mixture | None = None
    kde: Kde | None = None  # a kernel density, bandwidth by cross-validation (data_samplers)
    posterior: Posterior | None = None  # a VAE's aggregate posterior (data_samplers)
    flow: Any = None  # the run's RealNVP flow (latentkit.model.flow.FlowSampler; in RUN/flow, not in mvn.npz)
    shell: np.ndarray | None = None  # the data's own Mahalanobis distances and radii at SHELL_SHARES (``shell_of``)

    @property
    def cov_root(self) -> np.ndarray:
        return _root(self.cov)

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
        with atomic_write(path) as handle:
            np.savez(handle, **arrays)

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
            )


def generator_key(method: str, params: dict) -> str:
    b = params.get("b")
    return method + ("" if b is None else f"_b{b:g}")


def listed_key(generator: dict) -> str:
    """``generator_key`` of a generator as report.json lists it (its ``method`` and ``params``)."""
    return generator_key(generator["method"], generator["params"])


def default_generators(
    bs=(0.5, 1.0, 1.5, 2.0, 3.0, 5.0),
    *,
    mixture: bool = False,
    kde: bool = False,
    posterior: bool = False,
    flow: bool = False,
) -> list[Sampler]:
    return (
        [Sampler(f"uniform b={b:g}", "uniform", {"b": float(b)}) for b in bs]
        + [
            Sampler("standard normal", "normal"),
            Sampler("per-component normal (fitted centres, sigmas)", "component"),
            Sampler("multivariate normal (fitted mean, covariance)", "mvn"),
        ]
        + ([Sampler("gaussian mixture (BIC-chosen components)", "gmm")] if mixture else [])
        + ([Sampler("kernel density (bandwidth by cross-validation)", "kde")] if kde else [])
        + ([Sampler("aggregate posterior (q(z|x) of data points)", "posterior")] if posterior else [])
        + ([Sampler("normalising flow (RealNVP)", "flow")] if flow else [])
    )


def generators_of(fit: LatentFit, bs) -> list[Sampler]:
    """Every generator a fit can draw from: the uniforms for ``bs``, the normals, and those fitted."""
    return default_generators(
        bs,
        mixture=fit.mixture is not None,
        kde=fit.kde is not None,
        posterior=fit.posterior is not None,
        flow=fit.flow is not None,
    )


def region_distance(z: np.ndarray, fit: LatentFit) -> np.ndarray:
    """Each row's distance from the data's region, in half-widths: the largest |z_j - centre_j| /
    half-width_j over its components. A row is inside the region at k when this is <= k (the hit test)."""
    return (np.abs(z - fit.centre) / fit.fwhm).max(axis=1)


SHELL_SHARES = (0.01, 0.99)  # the data's shell: its own distances from the 1st to the 99th percentile


def mahalanobis(z: np.ndarray, fit: LatentFit) -> np.ndarray:
    """Each row's Mahalanobis distance from the fitted normal (mean, covariance): sqrt(N) on
    average for the normal's own points in N dimensions, 0 at its mean."""
    w = (np.asarray(z, np.float64) - fit.mean) @ fit.whitening
    return np.sqrt((w * w).sum(axis=1))


def shell_of(points: np.ndarray, fit: LatentFit) -> np.ndarray:
    """The data's shell, from a sample of its ``points``: their Mahalanobis distances and their
    radii (distances from the origin) at SHELL_SHARES, [mahalanobis low, high, radius low, high].
    Unlike the box of the hit test it holds no point near an empty centre: a shell of radius 32
    in 16 dimensions, a VAE's sphere, digits whose codes lie 25 to 41 from the origin."""
    radii = np.sqrt((np.asarray(points, np.float64) ** 2).sum(axis=1))
    return np.concatenate([np.quantile(mahalanobis(points, fit), SHELL_SHARES), np.quantile(radii, SHELL_SHARES)])


def shell_hits(z: np.ndarray, fit: LatentFit) -> int:
    """Rows inside the data's shell (``fit.shell``): their Mahalanobis distance and their radius
    each between the data's own bounds."""
    distance = mahalanobis(z, fit)
    radius = np.sqrt((np.asarray(z, np.float64) ** 2).sum(axis=1))
    low, high, r_low, r_high = fit.shell
    return int(((distance >= low) & (distance <= high) & (radius >= r_low) & (radius <= r_high)).sum())


def box_holds_origin(fit: LatentFit, k: float) -> bool:
    """Whether the hit test's region at ``k`` holds the origin: no component's centre lies more
    than k half-widths from 0, so every uniform box around 0 lands in it by construction."""
    return bool(region_distance(np.zeros((1, len(fit.centre))), fit)[0] <= k)


def hit_fractions(z: np.ndarray, fit: LatentFit, ks=(1.5, 2.0, 3.0, 12.0)) -> dict[str, float]:
    """Fraction of rows whose every component lies within k x half-width of the data's centre."""
    worst = region_distance(z, fit)
    return {f"{k:g}": float(np.mean(worst <= k)) for k in ks}


def hit_counts(z: np.ndarray, fit: LatentFit, ks) -> np.ndarray:
    """Rows within k x half-width, per k (summed over chunks for a streamed fraction)."""
    worst = region_distance(z, fit)
    return np.array([(worst <= k).sum() for k in ks])


def region_test(fit_path, k: float):
    """``z -> inside?`` by the hit test at ``k`` with the fit saved at ``fit_path`` (an analysis'
    mvn.npz), or None when there is none: what an export marks as the data's region."""
    from pathlib import Path

    if not Path(fit_path).exists():
        return None
    fit = LatentFit.load(fit_path)
    return lambda z: region_distance(z, fit) <= k


RADIUS_DIMS = (3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


def radius_by_dimension(bs, *, dims=RADIUS_DIMS, check_draws: int = 500, seed: int = 0) -> dict:
    """The radius of uniform [-b, b]^N and standard normal z-points against the dimension N
    (the studies' 3 <= N <= 2048 figure): each formula's mean and sd (``Sampler.expected_radius``),
    and a Monte-Carlo mean of ``check_draws`` points at each N beside it."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    samplers = [Sampler(f"uniform b={b:g}", "uniform", {"b": float(b)}) for b in bs] + [
        Sampler("standard normal", "normal")
    ]
    found: dict = {"dims": list(dims), "generators": []}
    for sampler in samplers:
        rows = {"name": sampler.name, "mean": [], "std": [], "drawn_mean": []}
        for n in dims:
            fit = SimpleNamespace(mean=np.zeros(n))
            mean, sd = sampler.expected_radius(fit)
            rows["mean"].append(float(mean))
            rows["std"].append(float(sd))
            z = sampler.sample(rng, check_draws, fit)
            rows["drawn_mean"].append(float(np.sqrt((z * z).sum(axis=1)).mean()))
        found["generators"].append(rows)
    return found
