"""``analyze`` and its report, statistics, latent samplers and fits, neighbours, t-SNE and
k-means, figures, ``attributes``, ``compare``, and decoded grids (``generate``).
Imports core, store and model (to decode).

The jobs are imported from their modules (``from latentkit.analysis.analyze import analyze``):
a room never re-exports a name that is also one of its modules."""

from latentkit.analysis.analyze import AnalyzeOptions, open_latents
from latentkit.analysis.attributes import AttributeOptions, ranked
from latentkit.analysis.generate import attribute_walk, interpolate, reconstruct, reconstruction_rmse
from latentkit.analysis.samplers import METHODS, LatentFit, Sampler

__all__ = [
    "METHODS",
    "AnalyzeOptions",
    "AttributeOptions",
    "LatentFit",
    "Sampler",
    "attribute_walk",
    "interpolate",
    "open_latents",
    "ranked",
    "reconstruct",
    "reconstruction_rmse",
]
