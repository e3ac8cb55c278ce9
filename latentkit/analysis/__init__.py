"""The analysis room, in four parts. At its top, one module per command: ``analyze`` (its
stages in ``stages/``), ``plane``, ``lattice``, ``generate``, ``attributes``, ``compare``. Below
them: ``measures/`` (arrays in, numbers out), ``generators/`` (ways of drawing z-points, one
class per kind), ``report/`` (report.json's schema, report.md, report.html and the figures).
No command imports another; generators import no other part, measures only the generators,
the report the measures and generators. Imports core, store, machine and model (to decode).

The jobs are imported from their modules (``from latentkit.analysis.analyze import analyze``):
a room never re-exports a name that is also one of its modules."""

from latentkit.analysis.analyze import AnalyzeOptions
from latentkit.analysis.attributes import AttributeOptions, ranked
from latentkit.analysis.generate import attribute_walk, interpolate, reconstruction_rmse
from latentkit.analysis.generators import METHODS, Generator, LatentFit
from latentkit.analysis.report.decoded import reconstruct

__all__ = [
    "METHODS",
    "AnalyzeOptions",
    "AttributeOptions",
    "Generator",
    "LatentFit",
    "attribute_walk",
    "interpolate",
    "ranked",
    "reconstruct",
    "reconstruction_rmse",
]
