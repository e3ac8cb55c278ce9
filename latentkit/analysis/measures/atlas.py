"""The hole atlas: where a generator's z-points and the data's differ, point by point.

- ``fit_ratio``: a classifier between the data's latents (class 0) and a generator's draws
  (class 1), cross-fitted over K stratified folds so that no point is scored by a model that saw
  it. Its log-odds, corrected for the classes' sizes, estimate the log density ratio
  log r(z) = log q(z) / p(z) (q: the generator, p: the data): r > 1 where the generator puts mass
  the data lacks (the data's holes, over-covered by the generator), r < 1 where the data has
  mass the generator misses. The fold models' mean log-odds is ``DensityRatio``, the ratio at any
  new point (what ``generators.reweighted`` samples with).
- The classifier two-sample test (C2ST, Lopez-Paz & Oquab 2017): the classifier fitted on one
  half, its accuracy on the other half against chance, a one-sided binomial p-value.
- ``witness``: the MMD's witness function f(z) = mean_i k(z, x_i) - mean_j k(z, y_j), with the
  kernel and bandwidth of ``mismatch.mmd`` (its ``gaussian_kernel``): positive where the data
  outweighs the generator, negative where the generator's points sit without the data's.

The classifier is a logistic regression on a fixed feature map, not a tree ensemble: in 100+
dimensions a tree splits one coordinate at a time and needs many splits to draw a radius or a
hole, and scikit-learn's gradient boosting took 0.4 s a fit on 34 of 256 features (1.5 s on all)
where this takes a few tens of milliseconds (12 generators x 5 folds on every analyze). Being
linear in its features, the K fold models average into one weight vector: the ratio at a new
point (the reweighted generator's hundred thousand hit-test draws) costs one feature map. The
features see the whole space: the 16 leading principal coordinates (whitened by both sets) and
their squares (a shift, a wrong scale), the log radii, in those coordinates and in the raw
space about the mean (a shell of the wrong size), and the Gaussian kernel to landmarks drawn
from both sets with the MMD's bandwidth (bumps and holes anywhere: a kernel logistic regression
on a Nystroem-like basis). Against a fitted normal, which matches the data's mean and covariance
by construction, mostly the kernel terms tell them apart; that is where the data's own shape
(filaments, holes) shows.

Arrays in, numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentkit.analysis.generators.kernel import gaussian_kernel
from latentkit.analysis.generators.reweighted import DensityRatio, Features
from latentkit.analysis.measures.mismatch import median_bandwidth

FOLDS = 5
LANDMARKS = 64  # kernel centres, half from each set
REGIONS = 16  # the most over- and most under-covered points reported
C = 0.1  # the logistic regression's inverse regularisation (features standardised): strong, so that a
# 98-feature model on a thousand points does not chase noise (r stays near 1 between equal distributions)
CLIP = 1e-6  # probabilities clipped to [CLIP, 1 - CLIP] before their log-odds


@dataclass(frozen=True)
class RatioFit:
    """A cross-fitted ratio between ``data`` and ``drawn``: every point's out-of-fold log r, the
    C2ST's accuracy and p-value, and the ratio as a function (the fold models)."""

    log_ratio_data: np.ndarray
    log_ratio_drawn: np.ndarray
    accuracy: float  # the C2ST's: on the held-out half
    p_value: float
    cross_fitted_accuracy: float  # every point scored out of fold (the folds' models share points: no exact test)
    n: int  # points per set
    folds: int
    ratio: DensityRatio


def fit_ratio(
    data: np.ndarray,
    drawn: np.ndarray,
    *,
    bandwidth: float | None = None,
    folds: int = FOLDS,
    seed: int = 0,
) -> RatioFit:
    """The cross-fitted density ratio q/p between equal samples of ``data`` (p) and ``drawn`` (q)
    (the longer is cut to the shorter's length), and the C2ST as Lopez-Paz & Oquab run it: the
    classifier fitted on one stratified half, the share of the other half's n points on their
    own side of log r = 0 against a binomial(n, 1/2), one-sided. Not the cross-fitted accuracy:
    the K folds' models are fitted on each other's test points, their accuracies correlate, and
    a binomial over all 2n points came out below 0.05 in 15 % of 60 nulls (measured; exact on a
    held-out half). ``bandwidth``: the kernel's (the MMD test's); None: the median heuristic."""
    from scipy.stats import binom
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    n = min(len(data), len(drawn))
    data, drawn = np.asarray(data[:n], np.float64), np.asarray(drawn[:n], np.float64)
    rng = np.random.default_rng([seed, 50])
    bandwidth = bandwidth or median_bandwidth(np.concatenate([data, drawn]), rng)
    aside = min(LANDMARKS // 2, n // 4)  # each set's landmarks, set aside: never scored
    landmarks = np.concatenate([data[n - aside :], drawn[n - aside :]])
    n -= aside
    data, drawn = data[:n], drawn[:n]
    features = Features.of(np.concatenate([data, drawn]), landmarks, bandwidth)
    raw = features(np.concatenate([data, drawn]))
    # standardised once over both sets (no labels read: nothing of a held-out point's class leaks)
    centre, scale = raw.mean(axis=0), raw.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    x, y = (raw - centre) / scale, np.repeat([0, 1], n)
    folds = max(2, min(folds, n))
    # each fold starts from the previous fold's solution (warm start): the same optimum, fewer steps
    regression = LogisticRegression(C=C, max_iter=300, warm_start=True)
    logits, weights, intercepts = np.empty(2 * n), [], []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        regression.fit(x[train], y[train])
        logits[test] = regression.decision_function(x[test])
        weights.append(regression.coef_[0] / scale)
        intercepts.append(float(regression.intercept_[0]) - float(centre @ weights[-1]))
    logits = np.clip(logits, np.log(CLIP / (1 - CLIP)), np.log((1 - CLIP) / CLIP))
    cross_fitted = float(np.mean((logits > 0) == (y == 1)))
    train, test = next(StratifiedKFold(2, shuffle=True, random_state=seed + 1).split(x, y))
    regression.fit(x[train], y[train])
    correct = int(np.sum((regression.decision_function(x[test]) > 0) == (y[test] == 1)))
    p_value = float(binom.sf(correct - 1, len(test), 0.5))
    # the odds q/p times the classes' sizes n_drawn/n_data is the classifier's odds: log r is the
    # log-odds less log(n_drawn/n_data), 0 here (equal sets; stratified folds keep the shares)
    prior = float(np.log(len(drawn) / len(data)))
    ratio = DensityRatio(features, np.mean(weights, axis=0), float(np.mean(intercepts)), prior)
    accuracy = correct / len(test)
    return RatioFit(logits[:n] - prior, logits[n:] - prior, accuracy, p_value, cross_fitted, n, folds, ratio)


def witness(
    points: np.ndarray, data: np.ndarray, drawn: np.ndarray, bandwidth: float, *, leave_out: str = "", block: int = 1000
) -> np.ndarray:
    """The MMD witness f(z) = mean_i k(z, data_i) - mean_j k(z, drawn_j) at ``points``, the
    Gaussian kernel of ``mismatch.mmd`` with ``bandwidth``. ``leave_out`` "data" or "drawn": the
    points are that set itself, and each leaves its own term out (k(z, z) = 1 is no evidence)."""
    out = np.empty(len(points))
    for start in range(0, len(points), block):
        rows = points[start : start + block]
        on_data = gaussian_kernel(rows, data, bandwidth).sum(axis=1)
        on_drawn = gaussian_kernel(rows, drawn, bandwidth).sum(axis=1)
        n_data, n_drawn = len(data), len(drawn)
        if leave_out == "data":
            on_data, n_data = on_data - 1.0, n_data - 1
        elif leave_out == "drawn":
            on_drawn, n_drawn = on_drawn - 1.0, n_drawn - 1
        out[start : start + block] = on_data / max(n_data, 1) - on_drawn / max(n_drawn, 1)
    return out


def extremes(values: np.ndarray, count: int = REGIONS, *, highest: bool) -> np.ndarray:
    """The indices of the ``count`` highest (or lowest) values, most extreme first."""
    order = np.argsort(values, kind="stable")
    return (order[::-1] if highest else order)[:count]


def quantiles(values: np.ndarray) -> dict[str, float]:
    """p5, p50 (the median), p95 and the mean."""
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    return {"p5": float(p5), "p50": float(p50), "p95": float(p95), "mean": float(np.mean(values))}
