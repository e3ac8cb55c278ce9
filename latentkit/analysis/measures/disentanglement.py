"""Disentanglement against known factors (the synthetic faces' factors, CelebA's attributes, or
numeric labels): MIG, DCI and SAP on a sample, with scikit-learn.

- MIG (Chen et al. 2018): per factor, the gap between the two latents with the most mutual
  information about it, over the factor's entropy; latents discretised into 20 equal-width bins
  (as disentanglement_lib does), factors with more than 20 values too.
- DCI (Eastwood & Williams 2018): an importance matrix from one Lasso regression per factor on
  standardised latents (|coefficients|); disentanglement is 1 - the entropy (base: the number of
  factors) of each latent's importances, weighted by the latent's share; completeness 1 - the
  entropy (base: the number of latents) of each factor's; informativeness the regressions' R^2
  on held-out rows.
- SAP (Kumar et al. 2018): per factor, the gap between the two latents that predict it best
  alone (R^2 of a one-variable linear fit), averaged over factors.

disentanglement_lib's numbers shift between versions and estimators; these are tested against
constructed cases instead: latents that are the factors plus noise score near 1, a random
rotation of them scores low.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from latentkit.analysis.report.peer_schema import Dci, Disentanglement, DisentanglementScores

BINS = 20


def _discrete(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Integer codes per column: the values themselves when a column has at most ``bins`` of them,
    else equal-width histogram bins."""
    codes = np.empty(values.shape, np.int64)
    for j in range(values.shape[1]):
        column = values[:, j]
        unique = np.unique(column)
        if len(unique) <= bins:
            codes[:, j] = np.searchsorted(unique, column)
        else:
            edges = np.histogram_bin_edges(column, bins=bins)
            codes[:, j] = np.clip(np.digitize(column, edges[1:-1]), 0, bins - 1)
    return codes


def mutual_information(codes: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """The mutual information (nats) of each column of integer ``codes`` with the integer
    ``factor``, from their contingency tables, all columns in one count: sklearn's
    ``mutual_info_score`` per column (equal to it within rounding; 2,000 calls of that took 5 s)."""
    n, columns = codes.shape
    rows, values = int(codes.max()) + 1, int(factor.max()) + 1
    cells = (np.arange(columns) * rows)[None, :] + codes  # each column's codes in a range of its own
    joint = np.bincount((cells * values + factor[:, None]).ravel(), minlength=columns * rows * values)
    joint = joint.reshape(columns, rows, values) / n
    p_code, p_factor = joint.sum(axis=2, keepdims=True), joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log(joint / (p_code * p_factor)), 0.0)
    return np.clip(terms.sum(axis=(1, 2)), 0.0, None)


def mig(latents: np.ndarray, factors: np.ndarray) -> tuple[float, list[float]]:
    """MIG and each factor's normalised gap."""
    z, v = _discrete(latents), _discrete(factors)
    gaps = []
    for k in range(v.shape[1]):
        entropy = float(mutual_information(v[:, k : k + 1], v[:, k])[0])
        if entropy <= 0:
            continue
        information = np.sort(mutual_information(z, v[:, k]))[::-1]
        gaps.append((information[0] - (information[1] if len(information) > 1 else 0.0)) / entropy)
    return (float(np.mean(gaps)) if gaps else 0.0), [float(g) for g in gaps]


def _entropy(shares: np.ndarray, base: int) -> np.ndarray:
    p = shares / np.clip(shares.sum(axis=-1, keepdims=True), 1e-12, None)
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=-1) / np.log(base)


def dci(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], *, alpha: float = 0.01) -> Dci:
    """Disentanglement, completeness and informativeness from Lasso regressions."""
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    (z_train, v_train), (z_test, v_test) = train, test
    scale_z, scale_v = StandardScaler().fit(z_train), StandardScaler().fit(v_train)
    zt, zs = scale_z.transform(z_train), scale_z.transform(z_test)
    vt, vs = scale_v.transform(v_train), scale_v.transform(v_test)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    importance, scores, unconverged = np.zeros((zt.shape[1], vt.shape[1])), [], 0
    for k in range(vt.shape[1]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = Lasso(alpha=alpha, max_iter=10_000).fit(zt, vt[:, k])
        unconverged += any(issubclass(w.category, ConvergenceWarning) for w in caught)
        importance[:, k] = np.abs(model.coef_)
        scores.append(model.score(zs, vs[:, k]))
    factors = max(vt.shape[1], 2)
    per_code = 1.0 - _entropy(importance, factors)
    weights = importance.sum(axis=1) / max(importance.sum(), 1e-12)
    per_factor = 1.0 - _entropy(importance.T, max(zt.shape[1], 2))
    return {
        "disentanglement": float((per_code * weights).sum()),
        "completeness": float(per_factor.mean()),
        "informativeness": float(np.mean(scores)),
        "unconverged": unconverged,
    }


def sap(latents: np.ndarray, factors: np.ndarray) -> float:
    """Mean over factors of the gap between the two best single-latent R^2."""
    z = (latents - latents.mean(0)) / np.clip(latents.std(0), 1e-12, None)
    v = (factors - factors.mean(0)) / np.clip(factors.std(0), 1e-12, None)
    r2 = ((z.T @ v) / len(z)) ** 2  # (latents, factors): squared correlations
    best = np.sort(r2, axis=0)[::-1]
    return float(np.mean(best[0] - (best[1] if len(best) > 1 else 0.0)))


def disentanglement(
    latents: np.ndarray, factors: np.ndarray, names: list[str], *, seed: int = 0
) -> DisentanglementScores:
    """MIG, DCI and SAP of ``latents`` against ``factors`` (rows: the same images); factors that do
    not vary are left out. 80 % of the rows fit DCI's regressions, 20 % score them."""
    keep = factors.std(axis=0) > 0
    factors, names = factors[:, keep], [n for n, k in zip(names, keep) if k]
    if factors.shape[1] == 0 or len(latents) < 20:
        return {"factors": names, "n": len(latents), "note": "no varying factor, or fewer than 20 rows"}
    order = np.random.default_rng(seed).permutation(len(latents))
    cut = int(0.8 * len(order))
    train, test = order[:cut], order[cut:]
    score, gaps = mig(latents, factors)
    return {
        "factors": names,
        "n": len(latents),
        "mig": score,
        "mig_per_factor": gaps,
        "dci": dci((latents[train], factors[train]), (latents[test], factors[test])),
        "sap": sap(latents, factors),
    }


def of_store(array, valid: np.ndarray, data, *, sample: int, seed: int = 0) -> Disentanglement | None:
    """Disentanglement of latents (``array``, rows = the images of the store at ``data``) against
    the store's known factors: ``factors`` (the synthetic faces') or ``attributes`` (CelebA's);
    None when the store has neither."""
    from latentkit import store

    group = store.open_store(data, holds="images")
    for kind in ("factors", "attributes"):
        if kind in group:
            break
    else:
        return None
    usable = np.flatnonzero(valid & store.read_all(group, "ok").astype(bool)[: len(valid)])
    rows = np.sort(np.random.default_rng(seed).choice(usable, size=min(sample, len(usable)), replace=False))
    values = np.asarray(store.get_array(group, kind).get_orthogonal_selection((rows,)), np.float64)
    names = store.list_attr(group, kind.removesuffix("s") + "_names") or [f"{kind}_{j}" for j in range(values.shape[1])]
    latents = np.asarray(array.get_orthogonal_selection((rows,)), np.float64)
    return {"source": kind, **disentanglement(latents, values, names, seed=seed)}


def of_labels(array, valid: np.ndarray, path, *, sample: int, seed: int = 0) -> Disentanglement | None:
    """Disentanglement against a labels file's numeric (and boolean) columns (``--labels``: parquet
    or CSV, a row per vector); None when it has none."""
    from latentkit.store.vectors import read_labels

    table = read_labels(path, array.shape[0])
    numeric = {
        name: np.asarray(values, np.float64)
        for name, values in table.columns.items()
        if np.asarray(values).dtype.kind in "iufb"
    }
    if not numeric:
        return None
    values = np.column_stack(list(numeric.values()))
    usable = np.flatnonzero(valid & np.isfinite(values).all(axis=1))
    rows = np.sort(np.random.default_rng(seed).choice(usable, size=min(sample, len(usable)), replace=False))
    latents = (
        np.asarray(array.get_orthogonal_selection((rows,)), np.float64)
        if hasattr(array, "get_orthogonal_selection")
        else np.asarray(array[rows], np.float64)
    )
    return {"source": "labels file", **disentanglement(latents, values[rows], list(numeric), seed=seed)}
