"""report.json's schema, defined once: the contract between ``analyze`` (which writes it) and
``compare``, ``findings``, the report page, the console, the notebook and the CLI (which read
it). Also the reports of ``attributes`` (attributes.json), ``compare`` (OUT/report.json) and
``plane`` (OUT/plane_*.json). The files' TypedDicts are here; report.json's sections are in
``cloud_schema`` (the cloud's shape), ``quality_schema`` (where the holes are: the quality stage
and the atlas) and ``peer_schema`` (the numbers other latent-space tools report).

Each file is a TypedDict with a format version; ``write_report`` stamps the version and
``read_report`` checks a file against its TypedDict before anyone reads a key: a key renamed
on one side fails here, in one line naming the key, not as a KeyError deep in a reader.
A TypedDict is closed: a key it does not list is refused too, so an optional key renamed is
caught as well. A section typed ``dict[str, Any]`` is open (options, per-generator maps).

No ``from __future__ import annotations`` here: TypedDict reads ``NotRequired`` from evaluated
annotations only.
"""

from typing import Any, NotRequired, TypedDict

from latentkit.analysis.report.cloud_schema import (
    Component,
    ComponentCounts,
    Correlations,
    EllipseShares,
    GeneratorRow,
    KdeSection,
    MixtureSection,
    Neighbours,
    Pca,
    Radius,
    Region,
)
from latentkit.analysis.report.peer_schema import (
    Disentanglement,
    Kmeans,
    LocalDimension,
    LogLikelihood,
    Memorization,
    TotalCorrelation,
    Traversal,
    Tsne,
)
from latentkit.analysis.report.quality_schema import (
    Atlas,
    Coverage,
    Fragments,
    IntrinsicDimension,
    Mismatch,
    Reconstruction,
    Reencoding,
    Skipped,
    VaeHealth,
)

REPORT_FORMAT = 3  # 1: before the format was recorded (the same keys); 2: "format" written; 3: pca.pc_fits[].pc
# counts from 0 as every index does (PC0 the largest; format 2 wrote PC0 as 1)
FORMAT_KEY = "format"


# -- report.json (analyze) --------------------------------------------------------------------
#
# Each key's description is its comment (here and in the section modules), as the report.json
# page shows it (docs/hooks.py): at the end of the key's line, or, when longer than the line has
# room for, in the comment lines directly over the key. Lengths, radii and distances are in the
# latent space's own units unless the description says otherwise; indices count from 0; a key
# "k (as text)" is a number written as text ("1.5", "12").


class Report(TypedDict):
    """RUN/analysis/report.json: what ``analyze`` measured of a latent cloud."""

    format: NotRequired[int]  # REPORT_FORMAT; absent in format 1
    latents: str  # the latents read: RUN/latents.zarr, or --latents
    n: int  # the usable rows: the rows the statistics are over
    dim: int  # the latent dimensions (components)
    options: dict[str, Any]  # AnalyzeOptions as given
    components: list[Component]  # one per component, in index order
    # the components whose fitted centre or half-width stands out: a robust z-score (median, MAD)
    # above 3.5, and more than 3.5 standard errors (what chance alone moves it by) from the median
    dominant: list[int]
    component_counts: NotRequired[ComponentCounts]  # post II's counts (reports before issue 45 lack it)
    radius: Radius  # the data's radii: distances of the rows from the origin
    # k (as text) -> the share of the usable rows inside the hit test's region at k: every
    # component within k half-widths of its fitted centre (what the generators' hit_fraction is)
    data_hit_fraction: dict[str, float]
    region: NotRequired[Region]  # reports before issue 46 lack it
    generators: list[GeneratorRow]  # one per generator: uniform boxes (--uniform-b), the normals, the fitted ones
    # uniform and normal radius against N = 3 ... 2048: "dims" and "generators" (each: name, and
    # per N the formula's mean and std and drawn_mean, the mean of 500 drawn points)
    radius_by_dimension: NotRequired[dict[str, Any]]
    correlations: Correlations  # the components' correlations
    ellipses: NotRequired[list[EllipseShares]]  # the pairs_shown ellipses, over every usable row
    pca: Pca  # the principal components
    mvn: dict[str, str]  # "path": mvn.npz, every generator's fit (what ``generate`` samples)
    mixture: NotRequired[MixtureSection]  # the Gaussian mixture, where it was fitted (--mixture)
    kde: NotRequired[KdeSection]  # the kernel density, where it was fitted
    nearest_neighbours: NotRequired[Neighbours]  # where --nn-sample is above 0
    quality_skipped: NotRequired[list[Skipped]]  # what the quality stage did not measure, and why
    coverage: NotRequired[dict[str, Coverage]]  # generator key -> its precision, recall, density, coverage
    intrinsic_dimension: NotRequired[IntrinsicDimension]  # the TwoNN intrinsic dimensions (--quality)
    fragments: NotRequired[Fragments]  # the data cloud's fragments (--quality)
    vae: NotRequired[VaeHealth]  # a VAE's latents only: their KL and active units
    mismatch: NotRequired[Mismatch]  # prior mismatch: the generators' MMD against the data (--quality)
    atlas: NotRequired[Atlas]  # the hole atlas: where each generator's draws and the data differ (--atlas)
    disentanglement: NotRequired[Disentanglement]  # with known factors (the run's store, or --labels)
    reencoding: NotRequired[Reencoding]  # with a run's model that decodes: re-encoding distances
    reconstruction: NotRequired[dict[str, Reconstruction]]  # partition (train, valid, test) -> its reconstructions
    tsne: NotRequired[Tsne]  # the t-SNE map (--tsne)
    kmeans: NotRequired[Kmeans]  # the k-means curve (--kmeans)
    total_correlation: NotRequired[TotalCorrelation]  # the latents' Gaussian total correlation (every cloud)
    local_dimension: NotRequired[LocalDimension]  # the local intrinsic dimension per point (--quality)
    traversal: NotRequired[Traversal]  # with a run's decoder: traversal.png's dimensions
    memorization: NotRequired[Memorization]  # with a run's decoder: generated images against training images
    log_likelihood: NotRequired[LogLikelihood]  # latentkit's own VAE: the importance-weighted log-likelihood
    peers_skipped: NotRequired[list[Skipped]]  # what the peers' numbers did not measure, and why
    figures: NotRequired[list[str]]  # the figures drawn, file names in the analysis folder


# -- attributes.json and compare's report.json --------------------------------------------------


class AttributesReport(TypedDict):
    """RUN/analysis/attributes.json: each attribute's direction, probe and figure."""

    format: NotRequired[int]  # REPORT_FORMAT; absent in format 1
    latents: str  # the latents read
    data: str  # the store its labels came from ("" with a labels file)
    labels: str  # where the labels came from: "celeba attributes", "synthetic factors (present: > 0)", a labels file
    held_out: str  # the rows the probes are scored on: "valid", or a random 20 % of train where the store has none
    options: dict[str, Any]  # AttributeOptions as given
    train_rows: int  # the usable train rows the class centroids are over
    probe_train_rows: int  # the train rows the probes learnt on (``options.probe_sample`` at most)
    # one row per attribute (``attributes.ranked`` orders them): name, train_counts (absent,
    # present), then probe_accuracy, direction_accuracy, majority_rate, centroid_distance,
    # probe_direction_cosine and valid_rows, or "skipped" saying why not
    attributes: list[dict[str, Any]]
    directions: str  # attributes.npz: every attribute's class centroids and direction
    figures: list[str]  # the figures drawn (the four best separated attributes by default)


class ComparedRun(TypedDict):
    """One run of a comparison: its numbers, and how they differ from the first run's."""

    label: str  # the run folder's name (NAME#2 for a run given twice)
    run: str  # the run directory as given
    # its numbers set side by side: the model (kind, z_dim, kl_factor), the final losses, the
    # radius, the half-widths, the PCs for 50/80/95 % of the variance, the hit fractions at
    # k = 1.5 and the quality measures its analysis took
    summary: dict[str, Any]
    # each number of ``summary`` minus the first run's, and radius_histogram_l1 (the L1 distance
    # between the two radius densities: 0 for the same, at most 2)
    differences: dict[str, float]
    # "generated_mvn", "generated_normal", "reconstructions" -> its grid (a PNG; the same
    # z-points and images for every run), None where it has no decoder
    grids: dict[str, str | None]
    # onto the first run, over the same images: disparity (Procrustes: 0 a rotation, up to scale;
    # at most 2), knn_kept, k, n, dims, moved_most (store rows), moved_median, figure
    alignment: NotRequired[dict[str, Any]]


class CompareReport(TypedDict):
    """OUT/report.json of ``compare``: each run's summary and its differences from the first."""

    format: NotRequired[int]  # REPORT_FORMAT; absent in format 1
    runs: list[ComparedRun]  # the runs in the order given: differences are against the first
    figures: list[str]  # the figures drawn (compare_*.png)


class PlaneZoom(TypedDict):
    """One zoom's window of the plane: a square around the centre."""

    zoom: float  # the zoom factor: 1 is a window over the data's +-4 sigma along the plane's wider axis
    half_side: float  # the window reaches this far from the centre, in the plane's units (not a FWHM half-width)
    points: int  # data points kept in the window (at most --max-points)
    normal_points: int  # the fitted normal's points in it (as many drawn as the data has rows; --max-points at most)
    # separate groups of data points in the window, each at least 5 % of them (DBSCAN, eps the
    # larger of a 60th of its width and 3 median nearest-neighbour distances)
    groups: int


class PlaneMagnification(TypedDict):
    """``plane --magnification``: the decoder's log sqrt(det JᵀJ), J = dx/dz, over the plane."""

    grid: int  # the grid's side: grid x grid z-points, the data's mean plus their plane coordinates
    half_side: float  # the grid reaches this far from the centre (the first zoom's window)
    # log magnification per grid point, rows from the plane's lowest second coordinate up;
    # null where the decoder is flat along some direction (det JᵀJ = 0)
    values: list[list[float | None]]
    grid_median: float  # the median over the grid
    grid_min: float  # the smallest over the grid
    grid_max: float  # the largest over the grid
    data_points: int  # the data's own z-points measured (a seeded sample)
    data_median: float  # their median log magnification: a grid point far above it stretches more than the data's
    seconds: float  # the time the Jacobians took
    figure: str  # the PNG (magnification_<pcs|axes>_I-J.png)


class PlaneReport(TypedDict):
    """OUT/plane_<pcs|axes>_I-J.json of ``latentkit plane``."""

    format: NotRequired[int]  # REPORT_FORMAT; absent in format 1
    latents: str  # the latents read
    n: int  # the usable rows
    dim: int  # the latent dimensions
    plane: str  # "pcs" | "axes"
    pair: list[int]  # the plane's two axes: principal components (PC0 the largest) or components
    centre: list[float]  # the windows' centre, in the plane's coordinates (PCs: 0,0 is the data's mean)
    mean: list[float]  # the data's mean in the plane
    cov: list[list[float]]  # and its covariance there (the fitted normal's 2-D marginal)
    zooms: list[PlaneZoom]  # one per zoom, in the order given
    # nearest-neighbour distances in the zoom-1 window, data against the fitted normal's points:
    # points, data_median, normal_median, median_ratio, data and normal (10th, 50th, 90th percentiles)
    nearest_neighbours: dict[str, Any]
    figure: str  # the PNG (plane_<pcs|axes>_I-J.png)
    magnification: NotRequired[PlaneMagnification]  # --magnification: the decoder's stretching over the plane
