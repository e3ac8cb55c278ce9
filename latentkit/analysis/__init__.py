"""``analyze`` and its report, statistics, latent samplers and fits, neighbours, t-SNE and
k-means, figures, ``attributes``, ``compare``, and decoded grids (``generate``).
Imports core, store and model (to decode)."""

from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.analysis.attributes import AttributeOptions, attributes, ranked
from latentkit.analysis.compare import compare
from latentkit.analysis.generate import attribute_walk, generate, interpolate, reconstruct, reconstruction_rmse

__all__ = [
    "AnalyzeOptions",
    "AttributeOptions",
    "analyze",
    "attribute_walk",
    "attributes",
    "compare",
    "generate",
    "interpolate",
    "ranked",
    "reconstruct",
    "reconstruction_rmse",
]
