"""What every stage of analyze reads: its options (``AnalyzeOptions``), the cloud opened and
streamed once (``Cloud``), and what every stage returns: its own section of report.json and the figures it drew (``Section``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentkit.analysis.generators import LatentFit
from latentkit.analysis.measures.regions import Ellipse, PcRegion
from latentkit.analysis.measures.stats import Moments
from latentkit.analysis.measures.trimmed import TrimmedPca
from latentkit.analysis.report.cloud_schema import Component
from latentkit.core import JobEvents

if TYPE_CHECKING:
    from latentkit.analysis.stages.passes import PassHistograms
    from latentkit.model.opened import OpenedRun


@dataclass(frozen=True)
class AnalyzeOptions:
    """What ``analyze`` measures and how: most fields are ``latentkit analyze``'s flags of the same
    name (``hit_draws`` is ``--hit-draws``); report.json keeps them as its ``options``."""

    bins: int = 0  # histogram bins per component; 0: by the data's size (``stats.bins_for``: 100 from 11,300 points)
    radius_bin: float = 0.0  # the radius histogram's bin width (posts: 0.5, 0.05); 0: ``bins`` bins over its range
    ks: tuple[float, ...] = (1.5, 2.0, 3.0, 12.0)
    uniform_bs: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
    generator_samples: int = 10_000  # z-points per generator for its radii (and the first batch of its hit test)
    hit_draws: int = 100_000  # z-points per generator for the hit test, streamed: one hit in 10,000 shows
    pairs: tuple[tuple[int, int], ...] = ()  # empty: the three most correlated pairs
    pc_pairs: tuple[tuple[int, int], ...] | None = None  # None: PC0:PC1, PC0:PC2, PC2:PC5 (regions.DEFAULT_PC_PAIRS)
    trim_facts: tuple[float, ...] = (1.25, 1.5, 1.8)
    trim_pca_sample: int = 0  # 0: each trimmed cloud's PCA from all its points; N: from a random N (post IX: 80,000)
    pc_fits: tuple[int, ...] = tuple(
        range(8)
    )  # principal components (PC0 the largest) with a histogram and a Gaussian fit
    sample: int = 20_000  # rows kept for scatter plots, t-SNE and KMeans
    tsne: bool = True
    tsne_sample: int = 20_000
    tsne_pca: int = 50  # 0: t-SNE on the raw components
    tsne_perplexity: float = 30.0
    tsne_exaggeration: float | None = None  # early exaggeration; None: openTSNE's 12
    tsne_iterations: int = 750  # all of them, as sklearn's n_iter (the posts: 1000): 250 exaggerated + openTSNE's 500
    kmeans: bool = True
    kmeans_sample: int = 20_000
    kmeans_max: int = 80
    kmeans_ks: tuple[int, ...] = ()  # the k to try; empty: 2 ... 80 (embedding.KMEANS_KS) up to kmeans_max
    pca_show: int = 40  # components whose explained variance pca.png shows as bars (post IX: 40); its curves show all
    mixture: bool = True  # a Gaussian mixture generator, components chosen by BIC
    mixture_sample: int = 5_000  # rows of the sample the mixture is fitted on
    mixture_components: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
    kde: bool = True  # a kernel density generator, its bandwidth chosen by cross-validation
    kde_sample: int = 2_000  # rows of the sample the kernel density keeps (and is cross-validated on)
    posterior_sample: int = 5_000  # a VAE's data points whose q(z|x) the aggregate posterior draws from
    nn_sample: int = 4_000  # rows per set for the nearest-neighbour distances (0: off)
    figures: bool = True
    seed: int = 0
    read_rows: int = 20_000  # rows per read when the array's chunks are smaller
    quality: bool = (
        True  # coverage, fragments, intrinsic dimension, VAE health; with a model: re-encoding, reconstruction
    )
    quality_sample: int = 4_000  # points per set for coverage, fragments and intrinsic dimension
    k: int = 5  # neighbours for coverage and the k-NN graph
    mmd_sample: int = 1_000  # points per set for the MMD two-sample tests and a VAE's I(x; z)
    atlas: bool = True  # with quality: the hole atlas (density ratio, C2ST, witness) and the reweighted normal
    atlas_sample: int = 1_000  # points per set for the atlas's classifiers and witness
    disentanglement_sample: int = 5_000  # images for MIG, DCI and SAP (with a run whose store has factors)
    reencode_sample: int = 256  # z-points per generator decoded and encoded again (with a run's model)
    reconstruction_images: int = 2_000  # images per partition for MSE/PSNR/SSIM (0: all)
    generated: tuple[str, ...] = ()  # a user's own generated z-points (.npy, shards, parquet, zarr)
    likelihood_k: int = 64  # a VAE's importance-weighted log-likelihood: posterior draws per image (0: off)
    likelihood_images: int = 128  # test images it is measured on
    memorization_images: int = 1_000  # training images each generated image is compared with (pixels)


@dataclass
class Section:
    """One stage's keys of report.json and the figures it drew (file names in the analysis folder)."""

    keys: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)


@dataclass
class Cloud:
    """The latents as the passes left them: the context every stage is a function of."""

    latents: str  # where they were read from
    out: Path  # the analysis folder (made, and holding mvn.npz)
    options: AnalyzeOptions
    events: JobEvents
    run: OpenedRun | None  # the run they belong to, opened once (its model, lazily)
    labels: str | None  # a labels file for disentanglement
    array: Any  # the (N, D) latents
    valid: np.ndarray  # the rows used
    sample: np.ndarray  # a random sample of usable rows (options.sample)
    sample_rows: np.ndarray  # their row numbers
    rng: np.random.Generator  # the one seeded generator the stages draw from, in stage order
    moments: Moments
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    histograms: PassHistograms
    fit: LatentFit  # every generator's fit (saved as mvn.npz)
    per_component: list[Component]
    widths: np.ndarray
    pairs: list[tuple[int, int]]  # the component pairs shown
    ellipses: list[Ellipse]
    pc_ellipses: list[Ellipse]
    pc_region: PcRegion
    trimmed: list[TrimmedPca]
    data_hits: np.ndarray
    pc_hits: np.ndarray
    shell_hit: int
    generated: dict[str, Any]  # a user's own generated z-points by name
    report: dict[str, Any] = field(default_factory=dict)  # the sections so far (read by later stages)

    @property
    def n(self) -> int:
        return int(self.valid.sum())

    @property
    def dim(self) -> int:
        return int(self.array.shape[1])

    @property
    def projected(self) -> np.ndarray:
        """The sample on the principal axes."""
        return (self.sample - self.moments.mean_) @ self.eigenvectors
