"""report.json's schema, defined once: the contract between ``analyze`` (which writes it) and
``compare``, ``findings``, the report page, the console, the notebook and the CLI (which read
it). Also the reports of ``attributes`` (attributes.json) and ``compare`` (OUT/report.json).

Each file is a TypedDict with a format version; ``write_report`` stamps the version and
``read_report`` checks a file against its TypedDict before anyone reads a key: a key renamed
on one side fails here, in one line naming the key, not as a KeyError deep in a reader.
A TypedDict is closed: a key it does not list is refused too, so an optional key renamed is
caught as well. A section typed ``dict[str, Any]`` is open (options, per-generator maps).

No ``from __future__ import annotations`` here: TypedDict reads ``NotRequired`` from evaluated
annotations only.
"""

from typing import Any, NotRequired, TypedDict

REPORT_FORMAT = 3  # 1: before the format was recorded (the same keys); 2: "format" written; 3: pca.pc_fits[].pc
# counts from 0 as every index does (PC0 the largest; format 2 wrote PC0 as 1)
FORMAT_KEY = "format"


# -- report.json (analyze) --------------------------------------------------------------------


class Component(TypedDict):
    index: int
    mean: float
    std: float
    fwhm: float  # half-width: the full width at half maximum
    fwhm_from: NotRequired[str]  # "histogram", or "std" (2.3548 std) where the peak bin held under 100 points
    gauss: dict[str, Any]


class ComponentCounts(TypedDict):
    """Post II's counts: components with a fitted |centre| >= 0.25, >= 1 and a half-width >= 1, 1.5, 3."""

    dims: int
    centre: dict[str, int]  # "0.25", "1"
    half_width: dict[str, int]  # "1", "1.5", "3"
    post_ii_at_most: dict[str, dict[str, int]]  # the post's own bounds for its case II (256 dims)


class Histogram(TypedDict):
    edges: list[float]
    counts: list[int]


class Radius(TypedDict):
    mean: float
    std: float
    peak: float
    histogram: Histogram


class GeneratorRow(TypedDict):
    """One generator (``generators.Generator``) drawn ``samples`` times: its radii and hit fractions."""

    name: str
    method: str
    params: dict[str, Any]
    samples: int
    radius_mean: float
    radius_std: float
    expected_radius_mean: float | None  # None where no formula gives it (mixture, fitted normal)
    expected_radius_std: float | None
    hit_fraction: dict[str, float]  # k (as text) -> share of z-points inside the data's region
    hit_interval: NotRequired[dict[str, list[float]]]  # k -> Wilson's 95 % interval of that share
    hit_draws: NotRequired[int]  # z-points the hit test drew (--hit-draws)
    pc_hit_fraction: NotRequired[dict[str, float]]  # the hit test in PC coordinates, on the first `samples` points
    shell_fraction: NotRequired[float]  # share of the hit_draws z-points inside the data's shell (Region)
    shell_interval: NotRequired[list[float]]  # its Wilson 95 % interval
    radii: list[int]
    radii_range: list[float]


class Shell(TypedDict):
    low: float  # the data's Mahalanobis distances from the fitted normal at shares[0] and shares[1]
    high: float
    radius_low: float  # the data's radii (distances from the origin) at shares[0] and shares[1]
    radius_high: float
    shares: list[float]  # 0.01, 0.99
    points: int  # the sampled rows the percentiles come from


class Region(TypedDict):
    """The data's region beyond the posts' box: whether the box holds the origin (then any uniform
    box around 0 lands in it), and the shell the data fill, with the data's own share of it."""

    box_holds_origin: dict[str, bool]  # k (as text) -> the hit test's region at k holds z = 0
    shell: Shell
    data_shell_fraction: float  # about 0.96-0.98 by construction (two ranges of 98 %); counted over every row
    data_shell_interval: list[float]


class Pair(TypedDict):
    i: int
    j: int
    r: float


class Correlations(TypedDict):
    top_pairs: list[Pair]
    pairs_shown: list[list[int]]


class EllipseShares(TypedDict):
    """A pair's fitted-normal ellipses against the data: the share of all points inside the
    1, 2 and 3 sigma ellipses, beside a 2-D Gaussian's 1 - exp(-k^2 / 2)."""

    pair: list[int]  # two components (ellipses[]) or two principal components, 0-based (pca.ellipses[])
    r: float
    fraction_inside: dict[str, float]  # "1", "2", "3"
    gaussian: dict[str, float]  # 0.3935, 0.8647, 0.9889
    n: int


class Trimmed(TypedDict):
    fact: float  # points beyond fact x half-width in any component were dropped
    kept: int
    kept_fraction: float
    explained_variance_ratio: list[float]  # of this trimmed cloud's own PCA
    pca_points: NotRequired[int]  # the points that PCA was done on: all kept, or --trim-pca-sample of them
    ellipses: NotRequired[list[EllipseShares]]  # --pc-pairs in this PCA's coordinates, over every kept point
    pc_fits: NotRequired[list["PcFit"]]  # the PCs of those pairs: histogram's Gaussian fit (this PCA's units)


class PcFit(TypedDict):
    pc: int  # 0-based: PC0 has the largest variance
    centre: float
    sigma: float
    fwhm: float


class Pca(TypedDict):
    eigenvalues: list[float]
    explained_variance_ratio: list[float]
    cumulative: list[float]
    trimmed: list[Trimmed]
    pc_fits: list[PcFit]
    fwhm_per_sigma: float
    ellipses: NotRequired[list[EllipseShares]]
    data_hit_fraction: NotRequired[
        dict[str, float]
    ]  # the hit test in PC coordinates (half-width 2.3548 sqrt(eigenvalue))
    max_offdiagonal_correlation: NotRequired[
        float
    ]  # of the PC coordinates, |r| largest off the diagonal (post IX: < 2e-7)


class MixtureSection(TypedDict):
    """The fitted Gaussian mixture (``generators.Mixture``) as report.json's ``mixture`` section."""

    components: int
    weights: list[float]
    bic: dict[str, float]  # components (as text) -> BIC of each candidate tried
    points: int  # the rows of the sample it was fitted on


class KdeSection(TypedDict):
    """The fitted kernel density (``generators.Kde``) as report.json's ``kde`` section."""

    bandwidth: float  # chosen by cross-validation, in the standardised cloud's units
    points: int  # the sample it keeps
    units: str  # "standardised"


class NeighbourSet(TypedDict):
    """One set's nearest-neighbour distances: the data's, or a generator's beside the data's."""

    mean: float
    quantiles: dict[str, float]  # "0.1", "0.25", "0.5", "0.75", "0.9"
    counts: list[int]  # on Neighbours.edges
    median_ratio: NotRequired[float]  # a generator's: the data's median / its median (the data's set lacks it)
    ks_statistic: NotRequired[float]  # a generator's: two-sample Kolmogorov-Smirnov against the data
    ks_pvalue: NotRequired[float]


class Neighbours(TypedDict):
    points: int
    edges: list[float]
    sets: dict[str, NeighbourSet]  # "data", "multivariate normal", "gaussian mixture"


class Skipped(TypedDict):
    what: str
    why: str


class Prdc(TypedDict):
    """Precision, recall, density and coverage of generated points against the data's (``holes.prdc``)."""

    precision: float
    recall: float
    density: float
    coverage: float


class Coverage(Prdc):
    k: int
    n: int


class IntrinsicDimension(TypedDict):
    data: float
    generators: dict[str, float]
    n: int


class Fragments(TypedDict):
    knn_components: int
    largest_component_fraction: float
    hdbscan_noise_fraction: float
    hdbscan_clusters: int
    hdbscan_min_cluster_size: int
    k: int
    n: int


class VaeHealth(TypedDict):
    active_units: int
    dims: int
    kl_per_dim: list[float]
    kl_total: float
    mean_variance: list[float]
    active: list[int]
    threshold: float
    collapsed: bool
    n: int
    logvar: NotRequired[dict[str, list[float]]]  # per dimension: min, max, mean over the data
    z_minus_mu: NotRequired[dict[str, float]]  # |z - mu| over every value: mean_abs, rms, max_abs, above_0.05, values
    radius: NotRequired[dict[str, dict[str, float]]]  # "mu", "z": mean, std, min, max of the rows' radii;
    # "difference": |r_z - r_mu| mean_abs, max_abs and relative to r_mu mean_relative, max_relative (post XIII)
    logvar_values: NotRequired[dict[str, float]]  # over every value: min, max, mean, at_least_minus_3, values
    eps_clip: NotRequired[dict[str, float]]  # the noise's clip: bound, eps_factor, clipped values, values


class Mmd(TypedDict):
    mmd2: float  # unbiased MMD^2, Gaussian kernel
    p_value: float  # by permutation: small says the generator's points are not the data's distribution
    bandwidth: float  # the kernel's: the median pairwise distance of the pooled sample
    n: int
    permutations: int


class Mismatch(TypedDict):
    """Prior mismatch in numbers (``analysis.mismatch``)."""

    mmd: dict[str, Mmd]  # per generator key (normal: N(0, I)), against the data
    n: int
    vae: NotRequired[dict[str, float]]  # mutual_information, aggregate_kl, kl_term (nats), log_m, n


class Reencoding(TypedDict):
    data: dict[str, float]  # median, p90, mean of ||E(D(E(x))) - E(x)||
    generators: dict[str, dict[str, float]]
    n: int


class Reconstruction(TypedDict):
    mse: float
    psnr: float
    ssim: float
    n: int


class TsneSummary(TypedDict):
    """What ``embedding.run_tsne`` measured; ``Tsne`` adds where the embedding was saved."""

    points: int
    input_dims: int
    kl_divergence: float | None
    perplexity: NotRequired[float]
    early_exaggeration: NotRequired[float]
    iterations: NotRequired[
        int
    ]  # all of them, as sklearn's n_iter counts (the posts' 1000), the exaggerated ones included
    early_exaggeration_iterations: NotRequired[int]  # the first 250
    input: NotRequired[str]  # "the raw components" (--tsne-pca 0) or "PC0 ... PC49"


class Tsne(TsneSummary):
    embedding: str  # the 2-D points (tsne.npy)
    rows: str  # their rows of the latents (tsne_rows.npy)


class Kmeans(TypedDict):
    points: int
    k: list[int]
    inertia: list[float]
    elbow: NotRequired[int | None]  # the k at the curve's elbow (farthest below its chord)


class Dci(TypedDict):
    disentanglement: float
    completeness: float
    informativeness: float  # the Lasso regressions' mean R^2 on held-out rows
    unconverged: NotRequired[int]  # regressions that did not converge (older reports lack it)


class DisentanglementScores(TypedDict):
    """MIG, DCI and SAP against known factors (``disentanglement.disentanglement``); ``Disentanglement``
    adds where the factors came from."""

    factors: list[str]  # the factors that vary (the others are left out)
    n: int
    note: NotRequired[str]  # why nothing was measured (no varying factor, or fewer than 20 rows)
    mig: NotRequired[float]
    mig_per_factor: NotRequired[list[float]]
    dci: NotRequired[Dci]
    sap: NotRequired[float]


class Disentanglement(DisentanglementScores):
    source: str  # "factors", "attributes" (the run's store) or "labels file"


class Report(TypedDict):
    """RUN/analysis/report.json: what ``analyze`` measured of a latent cloud."""

    format: NotRequired[int]  # REPORT_FORMAT; absent in format 1
    latents: str
    n: int
    dim: int
    options: dict[str, Any]  # AnalyzeOptions as given
    components: list[Component]
    dominant: list[int]
    component_counts: NotRequired[ComponentCounts]  # post II's counts (reports before issue 45 lack it)
    radius: Radius
    data_hit_fraction: dict[str, float]
    region: NotRequired[Region]  # reports before issue 46 lack it
    generators: list[GeneratorRow]
    radius_by_dimension: NotRequired[dict[str, Any]]  # uniform and normal radius against N = 3 ... 2048
    correlations: Correlations
    ellipses: NotRequired[list[EllipseShares]]
    pca: Pca
    mvn: dict[str, str]
    mixture: NotRequired[MixtureSection]
    kde: NotRequired[KdeSection]
    nearest_neighbours: NotRequired[Neighbours]
    quality_skipped: NotRequired[list[Skipped]]
    coverage: NotRequired[dict[str, Coverage]]
    intrinsic_dimension: NotRequired[IntrinsicDimension]
    fragments: NotRequired[Fragments]
    vae: NotRequired[VaeHealth]
    mismatch: NotRequired[Mismatch]
    disentanglement: NotRequired[Disentanglement]
    reencoding: NotRequired[Reencoding]
    reconstruction: NotRequired[dict[str, Reconstruction]]
    tsne: NotRequired[Tsne]
    kmeans: NotRequired[Kmeans]
    figures: NotRequired[list[str]]


# -- attributes.json and compare's report.json --------------------------------------------------


class AttributesReport(TypedDict):
    """RUN/analysis/attributes.json: each attribute's direction, probe and figure."""

    format: NotRequired[int]
    latents: str
    data: str
    labels: str
    held_out: str
    options: dict[str, Any]
    train_rows: int
    probe_train_rows: int
    attributes: list[dict[str, Any]]  # one row per attribute (``attributes.ranked`` orders them)
    directions: str
    figures: list[str]


class ComparedRun(TypedDict):
    label: str
    run: str
    summary: dict[str, Any]
    differences: dict[str, float]
    grids: dict[str, str | None]
    alignment: NotRequired[dict[str, Any]]  # onto the first run: disparity, knn_kept, k, n, dims, moved_most, figure


class CompareReport(TypedDict):
    """OUT/report.json of ``compare``: each run's summary and its differences from the first."""

    format: NotRequired[int]
    runs: list[ComparedRun]
    figures: list[str]


class PlaneZoom(TypedDict):
    zoom: float
    half_side: float  # the window reaches this far from the centre, in the plane's units (not a FWHM half-width)
    points: int  # data points kept in the window (at most --max-points)
    normal_points: int
    groups: int  # separate groups of data points in the window (DBSCAN, eps a 60th of its width)


class PlaneReport(TypedDict):
    """OUT/plane_<pcs|axes>_I-J.json of ``latentkit plane``."""

    format: NotRequired[int]
    latents: str
    n: int
    dim: int
    plane: str  # "pcs" | "axes"
    pair: list[int]
    centre: list[float]
    mean: list[float]  # the data's mean in the plane
    cov: list[list[float]]  # and its covariance there (the fitted normal's 2-D marginal)
    zooms: list[PlaneZoom]
    nearest_neighbours: dict[str, Any]
    figure: str


# -- one way in and out -------------------------------------------------------------------------
