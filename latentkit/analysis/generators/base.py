"""The one base every generator stands on: a way of drawing z-points, with a name for people, a
method and parameters for report.json (its ``generators[]``: ``method``, ``params``), a short
key for scripts, and the radius its draws have where a formula gives one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import sqrt
from typing import Any, ClassVar, Protocol

import numpy as np

from latentkit.core import LatentkitError


class Fit(Protocol):
    """What a generator reads of the fits it is handed (``fit.LatentFit`` is the one there is):
    named here, so no generator imports the module that holds the fits (it imports them)."""

    @property
    def mean(self) -> np.ndarray: ...
    @property
    def cov(self) -> np.ndarray: ...
    @property
    def cov_root(self) -> np.ndarray: ...
    @property
    def centre(self) -> np.ndarray: ...
    @property
    def sigma(self) -> np.ndarray: ...
    @property
    def mixture(self) -> Any: ...
    @property
    def kde(self) -> Any: ...
    @property
    def posterior(self) -> Any: ...
    @property
    def flow(self) -> Any: ...
    @property
    def ratio(self) -> Any: ...


@dataclass(frozen=True)
class Generator:
    """One way of drawing (n, dim) z-points. Subclasses set ``method`` and ``name`` and draw in
    ``sample``; those fitted to the data read their fit from the ``LatentFit`` handed in."""

    method: ClassVar[str]
    title: ClassVar[str] = ""
    needs: ClassVar[str] = ""  # the LatentFit attribute a fitted generator draws from
    missing: ClassVar[str] = ""  # what to do when the fit lacks it

    @property
    def name(self) -> str:
        """What figures and report.json call it: "standard normal", "uniform b=1.5"."""
        return self.title

    @property
    def params(self) -> dict[str, Any]:
        return {}

    @property
    def key(self) -> str:
        """A short name for scripts and report.json keys: uniform_b1.5, normal, component, mvn, gmm."""
        return generator_key(self.method, self.params)

    def sample(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        if self.needs and getattr(fit, self.needs) is None:
            raise LatentkitError(f"--method {self.method} needs {self.missing}")
        return self.draw(rng, n, fit)

    def draw(self, rng: np.random.Generator, n: int, fit: Fit) -> np.ndarray:
        raise NotImplementedError

    def expected_radius(self, fit: Fit) -> tuple[float | None, float | None]:
        """Analytic (mean, sd) of the radius where one exists; else the root of E R² (a normal of
        the fit's mean and covariance) and no sd."""
        return sqrt(float(fit.mean @ fit.mean + np.trace(fit.cov))), None


def generator_key(method: str, params: dict) -> str:
    b = params.get("b")
    return method + ("" if b is None else f"_b{b:g}")


def listed_key(generator: Mapping[str, Any]) -> str:
    """``generator_key`` of a generator as report.json lists it (its ``method`` and ``params``)."""
    return generator_key(generator["method"], generator["params"])
