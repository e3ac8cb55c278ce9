"""A VAE's importance-weighted log-likelihood (Burda et al. 2016, "Importance Weighted
Autoencoders"; pythae's ``get_nll``): for each image, k draws z_i of its posterior q(z|x) and

    log p(x) ~ logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log k,

a lower bound that rises with k towards log p(x) (k = 1: the ELBO). Numpy only: the encoder's
(mean, log-variance) and the decoder come in as functions (a run's ``Codec``), so the same code
is tested on a linear-Gaussian model whose log p(x) is known in closed form.

The decoder's likelihood is the one the VAE was trained with. Its loss per image is
R(x, x_hat) + beta KL (``networks.reconstruction_loss``: R sums over the pixels the mean over
the 3 channels; beta the spec's ``kl_factor``), which is beta times the negative ELBO of the
model with log p(x|z) = -R(x, x_hat) / beta - c:

- ``mse``: a Gaussian per value (3 per pixel) with mean x_hat and variance 3 beta / 2, c its
  normaliser (3 H W / 2) log(2 pi sigma^2): a density, so log p(x) is in nats per image;
- ``bce``: a Bernoulli per value tempered by 1 / (3 beta), c = 0, not normalised over [0, 1]
  (pythae's Bernoulli likelihood leaves the continuous Bernoulli's normaliser out too):
  comparable between runs of the same loss and beta, not with other models' densities.

The prior p(z) is N(0, I) and q(z|x) = N(mu, exp(logvar)), as the loss's KL term has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

LOG_2PI = float(np.log(2 * np.pi))
BCE_EPSILON = 1e-7  # Keras' binary cross-entropy clips predictions to [eps, 1 - eps]

LogLikelihood = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x, x_hat) -> log p(x|z) per image


def gaussian_log_likelihood(variance: float) -> LogLikelihood:
    """log N(x; x_hat, variance I), summed over each image's values (every axis after the first)."""

    def log_px(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
        squares = np.square(np.asarray(x, np.float64) - np.asarray(x_hat, np.float64))
        axes = tuple(range(1, squares.ndim)) if squares.ndim > 1 else ()
        values = int(np.prod(squares.shape[1:]))
        return -0.5 * squares.sum(axis=axes) / variance - 0.5 * values * (LOG_2PI + np.log(variance))

    return log_px


def trained_likelihood(loss: str, kl_factor: float, channels: int = 3) -> tuple[LogLikelihood, str]:
    """log p(x|z) of the likelihood a latentkit VAE was trained with (the module's docstring), and
    that likelihood in words. ``kl_factor`` must be positive (beta 0 trains an autoencoder)."""
    if not kl_factor > 0:
        raise ValueError(f"kl_factor {kl_factor}: the loss has no KL term, so it is no ELBO")
    if loss == "mse":
        variance = channels * kl_factor / 2
        return (
            gaussian_log_likelihood(variance),
            f"Gaussian per value, variance {variance:g} (3 x kl_factor / 2: the mse loss / kl_factor)",
        )
    if loss != "bce":
        raise ValueError(f"loss must be bce or mse, not {loss!r}")
    weight = 1.0 / (channels * kl_factor)

    def log_px(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
        x, p = np.asarray(x, np.float64), np.clip(np.asarray(x_hat, np.float64), BCE_EPSILON, 1 - BCE_EPSILON)
        values = x * np.log(p) + (1 - x) * np.log1p(-p)
        return weight * values.sum(axis=tuple(range(1, values.ndim)))

    return log_px, f"Bernoulli per value tempered by 1 / (3 x kl_factor) = {weight:.4g}, unnormalised (the bce loss)"


def log_weights(
    x: np.ndarray,
    mu: np.ndarray,
    logvar: np.ndarray,
    decode: Callable[[np.ndarray], np.ndarray],
    log_px: LogLikelihood,
    k: int,
    rng: np.random.Generator,
    batch: int = 256,
) -> np.ndarray:
    """(images, k): log p(x|z_i) + log p(z_i) - log q(z_i|x) for k draws z_i of q(z|x) per image,
    decoded ``batch`` z-points at a time (memory: one batch of images)."""
    n, d = mu.shape
    out = np.empty((n, k))
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    per = max(1, batch // k)  # images per decoded batch
    for start in range(0, n, per):
        stop = min(n, start + per)
        for first in range(0, k, batch):  # k above the batch: the draws of one image in parts
            draws = min(k, first + batch) - first
            eps = rng.standard_normal((stop - start, draws, d))
            m, lv = mu[start:stop, None, :], logvar[start:stop, None, :]
            z = m + np.exp(0.5 * lv) * eps
            log_q = -0.5 * np.sum(np.square(eps) + lv + LOG_2PI, axis=2)
            log_prior = -0.5 * np.sum(np.square(z) + LOG_2PI, axis=2)
            decoded = np.asarray(decode(z.reshape(-1, d).astype(np.float32)))
            images = np.repeat(np.asarray(x[start:stop]), draws, axis=0)  # image-major, as the draws
            log_x = log_px(images, decoded)
            out[start:stop, first : first + draws] = log_x.reshape(stop - start, draws) + log_prior - log_q
    return out


def estimates(weights: np.ndarray, k: int) -> np.ndarray:
    """Each image's estimate from its first ``k`` log weights: logsumexp - log k."""
    from scipy.special import logsumexp

    return logsumexp(weights[:, :k], axis=1) - np.log(k)


def ks_shown(k: int) -> list[int]:
    """The k the estimate is reported at: 1, 2, 4, ... up to k, and k."""
    shown = [1]
    while shown[-1] * 2 < k:
        shown.append(shown[-1] * 2)
    return shown + [k] if shown[-1] != k else shown


def importance_weighted(
    x: np.ndarray,
    mu: np.ndarray,
    logvar: np.ndarray,
    decode: Callable[[np.ndarray], np.ndarray],
    log_px: LogLikelihood,
    *,
    k: int,
    seed: int = 0,
    batch: int = 256,
) -> dict[str, Any]:
    """The importance-weighted log p(x) of images ``x`` (their posteriors' ``mu``, ``logvar``):
    the mean over the images, its standard error (their std / sqrt(images)), and the mean at
    each k of ``ks_shown`` (``per_k``, k as text: rises with k; k = 1 is the ELBO)."""
    if k < 1 or len(x) < 2:
        raise ValueError(f"k must be at least 1 and images at least 2, got k {k} and {len(x)} images")
    weights = log_weights(x, mu, logvar, decode, log_px, k, np.random.default_rng(seed), batch)
    final = estimates(weights, k)
    return {
        "k": k,
        "images": len(x),
        "mean": float(final.mean()),
        "standard_error": float(final.std(ddof=1) / np.sqrt(len(final))),
        "per_k": {str(j): float(estimates(weights, j).mean()) for j in ks_shown(k)},
    }
