"""analyze's stages: the cloud opened and streamed once (``cloud.open_cloud``: the passes and
the generators' fits), then each stage a function of that one context (``context.Cloud``)
that returns its own section of report.json and its figures (``context.Section``). ``STAGES``
is their order: a later stage may read what the earlier ones reported (the figures read all)."""

from latentkit.analysis.stages.atlas import atlas
from latentkit.analysis.stages.peers import peer_numbers
from latentkit.analysis.stages.quality import quality
from latentkit.analysis.stages.sections import (
    cloud_figures,
    disentanglement,
    fitted,
    kmeans,
    neighbours,
    statistics,
    tsne,
)

STAGES = (statistics, fitted, neighbours, quality, disentanglement, tsne, kmeans, atlas, peer_numbers, cloud_figures)

__all__ = ["STAGES"]
