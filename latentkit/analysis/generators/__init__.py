"""The generators: ways of drawing z-points, one class per kind on one base (``base.Generator``),
as pythae's samplers are. The studies' priors (``priors``: uniform boxes, the standard normal),
the normals fitted to the data (``normal``), the mixture (``mixture``), the kernel density
(``kde``), a VAE's aggregate posterior (``posterior``), the run's flow (``flow``) and the fitted
normal reweighted by the atlas's density ratio (``reweighted``); what they are fitted from is
one ``LatentFit`` (``fit``: an analysis' mvn.npz). Imports no other part of the analysis room."""

from __future__ import annotations

from latentkit.analysis.generators.base import Generator, generator_key, listed_key
from latentkit.analysis.generators.fit import LatentFit
from latentkit.analysis.generators.flow import TrainedFlow
from latentkit.analysis.generators.kde import FittedKde, Kde
from latentkit.analysis.generators.mixture import FittedMixture, Mixture, fit_mixture
from latentkit.analysis.generators.normal import FittedNormal, PerComponentNormal
from latentkit.analysis.generators.posterior import AggregatePosterior, Posterior, read_posterior
from latentkit.analysis.generators.priors import RADIUS_DIMS, StandardNormal, UniformBox, radius_by_dimension
from latentkit.analysis.generators.reweighted import Reweighted
from latentkit.core import LatentkitError

KINDS: tuple[type[Generator], ...] = (
    UniformBox,
    StandardNormal,
    PerComponentNormal,
    FittedNormal,
    FittedMixture,
    FittedKde,
    AggregatePosterior,
    TrainedFlow,
    Reweighted,
)
METHODS = tuple(kind.method for kind in KINDS)  # uniform, normal, component, mvn, gmm, kde, posterior, flow, reweighted
BY_METHOD = {kind.method: kind for kind in KINDS}


def make_generator(method: str, params: dict | None = None) -> Generator:
    """The generator of report.json's ``method`` and ``params`` (``b`` for a uniform box)."""
    if method not in BY_METHOD:
        raise LatentkitError(f"unknown method {method!r}: use {', '.join(METHODS)}")
    if method == "uniform":
        return UniformBox(float((params or {})["b"]))
    return BY_METHOD[method]()


def default_generators(
    bs=(0.5, 1.0, 1.5, 2.0, 3.0, 5.0),
    *,
    mixture: bool = False,
    kde: bool = False,
    posterior: bool = False,
    flow: bool = False,
    reweighted: bool = False,
) -> list[Generator]:
    """The uniform boxes for ``bs``, the three normals, and the fitted kinds asked for."""
    fitted = {
        FittedMixture: mixture,
        FittedKde: kde,
        AggregatePosterior: posterior,
        TrainedFlow: flow,
        Reweighted: reweighted,
    }
    return [
        *(UniformBox(float(b)) for b in bs),
        StandardNormal(),
        PerComponentNormal(),
        FittedNormal(),
        *(kind() for kind, wanted in fitted.items() if wanted),
    ]


def generators_of(fit: LatentFit, bs) -> list[Generator]:
    """Every generator a fit can draw from: the uniforms for ``bs``, the normals, and those fitted."""
    return default_generators(
        bs,
        mixture=fit.mixture is not None,
        kde=fit.kde is not None,
        posterior=fit.posterior is not None,
        flow=fit.flow is not None,
        reweighted=fit.ratio is not None,
    )


__all__ = [
    "BY_METHOD",
    "KINDS",
    "METHODS",
    "RADIUS_DIMS",
    "AggregatePosterior",
    "FittedKde",
    "FittedMixture",
    "FittedNormal",
    "Generator",
    "Kde",
    "LatentFit",
    "Mixture",
    "PerComponentNormal",
    "Posterior",
    "Reweighted",
    "StandardNormal",
    "TrainedFlow",
    "UniformBox",
    "default_generators",
    "fit_mixture",
    "generator_key",
    "generators_of",
    "listed_key",
    "make_generator",
    "radius_by_dimension",
    "read_posterior",
]
