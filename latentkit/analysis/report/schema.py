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
#
# Each key's description is its comment, as the report.json page shows it (docs/hooks.py): at the
# end of the key's line, or, when longer than the line has room for, in the comment lines
# directly over the key. Lengths, radii and distances are in the latent space's own units unless
# the description says otherwise; indices count from 0; a key "k (as text)" is a number
# written as text ("1.5", "12").


class Component(TypedDict):
    """One component (dimension) of the latents: its moments over every usable row, and the
    half-width and Gaussian fit read off its histogram (over its mean +- 6 standard deviations)."""

    index: int  # the component's index, 0 to dim - 1
    mean: float  # its mean over every usable row
    std: float  # its standard deviation over every usable row
    # the half-width, as the posts call it: the full width at half maximum of its histogram, or
    # 2.3548 std where the histogram's peak bin holds under 100 points (``fwhm_from``)
    fwhm: float
    fwhm_from: NotRequired[str]  # "histogram", or "std" (2.3548 std) where the peak bin held under 100 points
    # the least-squares Gaussian through its histogram: centre, sigma, amplitude (points per bin),
    # their standard errors centre_err, sigma_err, amplitude_err (NaN where the fit did not
    # converge and the moments stand in) and rms_residual (relative to the peak bin's count)
    gauss: dict[str, Any]


class ComponentCounts(TypedDict):
    """Post II's counts: components with a fitted |centre| >= 0.25, >= 1 and a half-width >= 1, 1.5, 3."""

    dims: int  # the components counted: all of them (dim)
    centre: dict[str, int]  # "0.25", "1" -> the components whose fitted |centre| is at least that
    half_width: dict[str, int]  # "1", "1.5", "3" -> the components whose half-width (fwhm) is at least that
    # the post's own upper bounds for its case II (256 dims), as "centre" and "half_width" hold
    # this run's counts: {"centre": {"0.25": 25, "1": 10}, "half_width": {"1": 40, "1.5": 20, "3": 5}}
    post_ii_at_most: dict[str, dict[str, int]]


class Histogram(TypedDict):
    """A histogram: its bin edges and the points in each bin."""

    edges: list[float]  # the bins' edges, ascending: one more than the bins
    counts: list[int]  # the points in each bin


class Radius(TypedDict):
    """The radius of the data's z-points: each usable row's distance from the origin, ||z||."""

    mean: float  # the radii's mean, from the histogram (each radius at its bin's centre)
    std: float  # their standard deviation, from the histogram likewise
    peak: float  # the centre of the histogram's fullest bin: the most common radius
    # every usable row's radius: bins of ``options.radius_bin`` from 0 past the largest radius, or
    # ``options.bins`` bins over [0, largest radius]
    histogram: Histogram


class GeneratorRow(TypedDict):
    """One generator (``generators.Generator``) drawn ``samples`` times: its radii and hit fractions."""

    name: str  # what figures call it: "uniform b=1.5", "standard normal", "multivariate normal (fitted ...)"
    # its kind: uniform, normal, component, mvn, gmm, kde, posterior, flow or reweighted; ``method`` and
    # ``params`` make its key in other sections (uniform_b1.5, normal, mvn)
    method: str
    params: dict[str, Any]  # its parameters: {"b": 1.5} for a uniform box [-b, b]^dim, {} for the others
    samples: int  # the z-points drawn for its radii (``options.generator_samples``); the hit test's first batch
    radius_mean: float  # the mean radius ||z|| of those ``samples`` z-points
    radius_std: float  # their radii's standard deviation
    # the mean radius a formula gives: exact for uniform and normal; sqrt(E ||z||^2) for the others
    # (of the fitted normal's mean and covariance for mvn, kde, posterior, flow and reweighted)
    expected_radius_mean: float | None
    expected_radius_std: float | None  # the radius' standard deviation by formula: uniform and normal only, else None
    # k (as text) -> the share of its ``hit_draws`` z-points inside the data's region at k: every
    # component within k half-widths (fwhm) of its fitted centre (the studies' hit test)
    hit_fraction: dict[str, float]
    hit_interval: NotRequired[dict[str, list[float]]]  # k -> Wilson's 95 % interval of that share: [low, high]
    hit_draws: NotRequired[int]  # z-points the hit test drew (--hit-draws; at least ``samples``), streamed
    # k (as text) -> the hit test in principal-component coordinates (``pca.data_hit_fraction``'s
    # region), on the first ``samples`` z-points
    pc_hit_fraction: NotRequired[dict[str, float]]
    shell_fraction: NotRequired[float]  # the share of its ``hit_draws`` z-points inside the data's shell (``region``)
    shell_interval: NotRequired[list[float]]  # Wilson's 95 % interval of that share: [low, high]
    radii: list[int]  # a histogram of the ``samples`` z-points' radii: 60 equal bins over ``radii_range``
    radii_range: list[float]  # [smallest, largest] radius of those z-points: the histogram's range


class Shell(TypedDict):
    """The shell the data fill: their Mahalanobis distances and radii between two percentiles."""

    # the data's Mahalanobis distance from the fitted normal (mean and covariance) at shares[0]:
    # sqrt(dim) on average for the normal's own points
    low: float
    high: float  # the data's Mahalanobis distance at shares[1]
    radius_low: float  # the data's radius (distance from the origin) at shares[0]
    radius_high: float  # the data's radius at shares[1]
    shares: list[float]  # the two percentiles, as shares: [0.01, 0.99]
    points: int  # the sampled rows the percentiles come from (``options.sample`` at most)


class Region(TypedDict):
    """The data's region beyond the posts' box: whether the box holds the origin (then any uniform
    box around 0 lands in it), and the shell the data fill, with the data's own share of it."""

    box_holds_origin: dict[str, bool]  # k (as text) -> the hit test's region at k holds z = 0
    shell: Shell  # Mahalanobis distance and radius each between the data's 1st and 99th percentiles
    # the share of every usable row inside the shell: about 0.96 to 0.98 by construction (two
    # ranges of 98 %)
    data_shell_fraction: float
    data_shell_interval: list[float]  # Wilson's 95 % interval of that share: [low, high]


class Pair(TypedDict):
    """Two components and their correlation."""

    i: int  # the first component's index
    j: int  # the second's (larger than i)
    r: float  # their Pearson correlation over every usable row, -1 to 1


class Correlations(TypedDict):
    """The components' correlations over every usable row."""

    top_pairs: list[Pair]  # the 10 pairs of components with the largest |r|, largest first
    pairs_shown: list[list[int]]  # the pairs the ellipses are drawn for: --pairs, else the top three


class EllipseShares(TypedDict):
    """A pair's fitted-normal ellipses against the data: the share of all points inside the
    1, 2 and 3 sigma ellipses, beside a 2-D Gaussian's 1 - exp(-k^2 / 2)."""

    pair: list[int]  # two components (ellipses[]) or two principal components, 0-based (pca.ellipses[])
    r: float  # the pair's correlation in the fitted normal's 2-D marginal (0 for two PCs, by construction)
    fraction_inside: dict[str, float]  # "1", "2", "3" -> the share of the n points inside that sigma's ellipse
    gaussian: dict[str, float]  # the same shares for a 2-D Gaussian: 0.3935, 0.8647, 0.9889
    n: int  # the points counted: every usable row (for a trimmed cloud, every point it kept)


class Trimmed(TypedDict):
    """The cloud trimmed at one factor (post IX): the rows within ``fact`` half-widths of every
    component's fitted centre, and their own PCA."""

    fact: float  # points beyond fact x half-width in any component were dropped
    kept: int  # the rows kept: every component within fact half-widths of its fitted centre
    kept_fraction: float  # kept / the usable rows
    explained_variance_ratio: list[float]  # of this trimmed cloud's own PCA, largest first ([] without variance)
    pca_points: NotRequired[int]  # the points that PCA was done on: all kept, or --trim-pca-sample of them
    ellipses: NotRequired[list[EllipseShares]]  # --pc-pairs in this PCA's coordinates, over every kept point
    pc_fits: NotRequired[list["PcFit"]]  # the PCs of those pairs: histogram's Gaussian fit (this PCA's units)


class PcFit(TypedDict):
    """One principal component's coordinate (the points projected on its axis, centred at the
    mean of the points its PCA was done on): the Gaussian fit to its histogram."""

    pc: int  # 0-based: PC0 has the largest variance
    centre: float  # the fitted Gaussian's centre (near 0: the coordinates are centred)
    sigma: float  # the fitted Gaussian's sigma
    fwhm: float  # the full width at half maximum of the coordinate's histogram (its half-width)


class Pca(TypedDict):
    """The principal components of every usable row (the covariance's eigenvectors), the
    trimmed clouds' own PCAs, and the hit test and ellipses in PC coordinates."""

    eigenvalues: list[float]  # the covariance's eigenvalues, largest first: each PC's variance
    explained_variance_ratio: list[float]  # each eigenvalue / their sum: the PC's share of the variance
    cumulative: list[float]  # running sums of explained_variance_ratio: the share of the first 1, 2, ... PCs
    trimmed: list[Trimmed]  # one per --trim factor
    pc_fits: list[PcFit]  # the PCs of --pc-fits (PC0 to PC7 by default): each histogram's Gaussian fit
    fwhm_per_sigma: float  # a Gaussian's full width at half maximum over its sigma: 2 sqrt(2 ln 2) = 2.3548
    ellipses: NotRequired[list[EllipseShares]]  # --pc-pairs (PC0:PC1, PC0:PC2, PC2:PC5 by default), every usable row
    # k (as text) -> the share of the data's rows inside the hit test's region in PC coordinates:
    # every PC coordinate within k half-widths, 2.3548 sqrt(eigenvalue), of 0
    data_hit_fraction: NotRequired[dict[str, float]]
    # the largest |r| between two different PC coordinates: 0 for an exact PCA (post IX: < 2e-7)
    max_offdiagonal_correlation: NotRequired[float]


class MixtureSection(TypedDict):
    """The fitted Gaussian mixture (``generators.Mixture``) as report.json's ``mixture`` section."""

    components: int  # the components of the mixture BIC chose
    weights: list[float]  # each component's weight, summing to 1
    # components (as text) -> the BIC of each candidate fitted (lower is better); the search stops
    # once BIC has risen twice in a row
    bic: dict[str, float]
    points: int  # the rows of the sample it was fitted on


class KdeSection(TypedDict):
    """The fitted kernel density (``generators.Kde``) as report.json's ``kde`` section."""

    bandwidth: float  # chosen by cross-validation, in the standardised cloud's units
    points: int  # the sample it keeps
    units: str  # "standardised": each component centred and divided by its standard deviation over those points


class NeighbourSet(TypedDict):
    """One set's nearest-neighbour distances: the data's, or a generator's beside the data's."""

    mean: float  # the mean distance from each point to its nearest other point of the set
    quantiles: dict[str, float]  # "0.1", "0.25", "0.5", "0.75", "0.9"
    counts: list[int]  # on Neighbours.edges
    median_ratio: NotRequired[float]  # a generator's: the data's median / its median (the data's set lacks it)
    ks_statistic: NotRequired[float]  # a generator's: two-sample Kolmogorov-Smirnov against the data
    ks_pvalue: NotRequired[float]  # that test's p-value: small says the two sets of distances differ


class Neighbours(TypedDict):
    """Nearest-neighbour distances of a sample of the data against as many points drawn from the
    fitted normal (and mixture): a cloud of filaments has much shorter ones than its normal."""

    points: int  # the points in each set (``options.nn_sample`` at most): equal, as the distance scales with density
    edges: list[float]  # the histograms' bin edges, log-spaced, common to every set
    sets: dict[str, NeighbourSet]  # "data", "multivariate normal", "gaussian mixture"


class Skipped(TypedDict):
    """A measure of the quality stage that was not taken."""

    what: str  # the measures skipped
    why: str  # why, and what would measure them


class Prdc(TypedDict):
    """Precision, recall, density and coverage of generated points against the data's (``holes.prdc``)."""

    precision: float  # the share of generated points inside some data point's k-nearest-neighbour ball
    recall: float  # the share of data points inside some generated point's k-nearest-neighbour ball
    density: float  # the data balls holding each generated point, / k, averaged: about 1 where they match
    coverage: float  # the share of data points whose ball holds at least one generated point


class Coverage(Prdc):
    """Precision, recall, density and coverage of one generator's z-points against the data's."""

    k: int  # the neighbours that set each ball's radius (``options.k``)
    n: int  # the points in each set (``options.quality_sample`` at most)


class IntrinsicDimension(TypedDict):
    """The TwoNN intrinsic dimension (Facco et al. 2017) of the data and of each generator's points."""

    data: float  # of a sample of the data's rows
    generators: dict[str, float]  # generator key (normal, mvn, uniform_b1.5, yours:NAME) -> of its z-points
    n: int  # the points in each set


class Fragments(TypedDict):
    """How fragmented a sample of the data's cloud is (``holes.fragments``)."""

    knn_components: int  # connected components of the symmetric k-nearest-neighbour graph (1: one cloud)
    largest_component_fraction: float  # the largest component's share of the points
    hdbscan_noise_fraction: float  # the share of points HDBSCAN leaves as noise
    hdbscan_clusters: int  # the clusters HDBSCAN finds
    hdbscan_min_cluster_size: int  # HDBSCAN's smallest cluster: 5 or 1 % of the points, the larger
    k: int  # the neighbours of each point in the graph (``options.k``)
    n: int  # the points measured (``options.quality_sample`` at most)


class VaeHealth(TypedDict):
    """A VAE's latents (their stored mean mu and log-variance): KL per dimension, active units and,
    where the latents hold the z drawn, how far z lies from mu."""

    active_units: int  # the dimensions whose posterior mean's variance over the data exceeds ``threshold``
    dims: int  # the latent dimensions
    kl_per_dim: list[float]  # per dimension: KL(q(z|x) || N(0, 1)) in nats, averaged over the rows
    kl_total: float  # their sum: the mean KL term, in nats
    mean_variance: list[float]  # per dimension: the variance of mu over the rows
    active: list[int]  # the active dimensions' indices
    threshold: float  # the variance of mu a dimension must exceed to be active: 0.01
    collapsed: bool  # fewer than half of the dimensions are active (posterior collapse)
    n: int  # the rows read
    logvar: NotRequired[dict[str, list[float]]]  # per dimension: min, max, mean over the data
    # |z - mu| over every value: mean_abs, rms, max_abs, ``above_0.05`` (the values beyond 0.05:
    # post XIII) and values (their count); where the latents hold z
    z_minus_mu: NotRequired[dict[str, float]]
    # "mu", "z": mean, std, min, max of the rows' radii; "difference": |r_z - r_mu| mean_abs,
    # max_abs and relative to r_mu mean_relative, max_relative (post XIII); where the latents hold z
    radius: NotRequired[dict[str, dict[str, float]]]
    # over every value: min, max, mean, at_least_minus_3 (the values of -3 or more: post XIII's few
    # of a tiny-KL VAE) and values (their count)
    logvar_values: NotRequired[dict[str, float]]
    # the noise's clip where encode drew z: bound (5: the noise is clipped to +-5), eps_factor (the
    # encode's), clipped (the values at the clip) and values (their count)
    eps_clip: NotRequired[dict[str, float]]


class Mmd(TypedDict):
    """A two-sample test of a generator's z-points against the data's (Gretton et al. 2012)."""

    mmd2: float  # unbiased MMD^2, Gaussian kernel
    p_value: float  # by permutation: small says the generator's points are not the data's distribution
    bandwidth: float  # the kernel's: the median pairwise distance of the pooled sample
    n: int  # the points in each sample
    permutations: int  # the permutations the p-value counts (200): its smallest is 1 / 201


class Mismatch(TypedDict):
    """Prior mismatch in numbers (``analysis.mismatch``)."""

    mmd: dict[str, Mmd]  # per generator key (normal: N(0, I)), against the data
    n: int  # the points in each sample (``options.mmd_sample`` at most)
    # a VAE's, from its posteriors on n rows: mutual_information I(x; z), aggregate_kl
    # KL(q(z) || N(0, I)) and kl_term (their sum, the mean KL term), in nats; log_m (the log of the
    # rows: the most I(x; z) can reach by this estimate); n
    vae: NotRequired[dict[str, float]]


class AtlasPoint(TypedDict):
    """One of a generator's most over- or under-covered points in the hole atlas."""

    index: int  # its index in its set's atlas sample (the generator's draws, or the data's points)
    row: NotRequired[int]  # an under-covered point (the data's): its row of the latents
    log_ratio: float  # log r = log q / p there, out of fold (q: the generator, p: the data)
    witness: float  # the MMD witness there: mean kernel to the data less mean kernel to the draws
    pc: list[float]  # its PC0 and PC1 coordinates (the data's principal axes, about the data's mean)


class AtlasGenerator(TypedDict):
    """Where one generator's draws and the data differ: a cross-fitted classifier between them
    (its log-odds, the density ratio r = q / p), its two-sample test, and the MMD witness."""

    # the classifier two-sample test (C2ST, Lopez-Paz & Oquab 2017): the share of a held-out half
    # (n of the 2n points) the classifier fitted on the other half puts on their own side (0.5: chance)
    c2st_accuracy: float
    # its one-sided binomial p-value against chance (small: the generator's draws are not the data's distribution)
    c2st_p_value: float
    # the share of all 2n points on their own side, each scored out of fold (no exact test: the
    # folds' models share points)
    cross_fitted_accuracy: float
    mmd_p_value: NotRequired[float]  # the MMD test's p-value for the same generator (``mismatch``), beside it
    n: int  # the points of each set scored (the atlas sample less the classifier's landmarks)
    bandwidth: float  # the witness's and the classifier's kernel bandwidth: the MMD test's where it ran
    # log r over the data's points and over the generator's draws: p5, p50, p95, mean (0: r = 1;
    # the draws' high where they sit in the data's holes, the data's low where the generator misses it)
    log_ratio_data: dict[str, float]
    log_ratio_generator: dict[str, float]  # log r over the generator's draws: p5, p50, p95, mean
    witness_data: dict[str, float]  # the MMD witness over the data's points: p5, p50, p95, mean
    witness_generator: dict[str, float]  # the MMD witness over the generator's draws: p5, p50, p95, mean
    # the 16 draws where r is highest: over-covered, the generator's mass where the data has none (holes)
    over: list[AtlasPoint]
    under: list[AtlasPoint]  # the 16 data points where r is lowest: under-covered, the data the generator misses


class AtlasSampler(TypedDict):
    """The reweighted generator (``reweighted``): the fitted normal's draws accepted with probability
    min(1, (1 / r) / M), r its density ratio against the data."""

    base: str  # the generator it reweights: mvn (the fitted normal)
    acceptance_rate: float  # the share of the base's draws it keeps: base draws per point, inverted
    log_bound: float  # log M: the bound quantile of 1 / r over the base's draws
    bound_quantile: float  # that quantile (0.9): draws above it are kept with probability 1
    c2st_accuracy: float  # the base's ratio classifier's cross-fitted accuracy (0.5: nothing to reweight)


class Atlas(TypedDict):
    """The hole atlas (``measures.atlas``): per generator, where its draws and the data differ."""

    # what the classifier is: a logistic regression on whitened leading coordinates, their
    # squares, two log radii and Gaussian kernels to landmarks
    classifier: str
    folds: int  # the cross-fitting's folds: no point is scored by a model that saw it
    n: int  # the points per set sampled for it (``options.atlas_sample`` at most)
    generators: dict[str, AtlasGenerator]  # generator key -> its atlas
    sampler: NotRequired[AtlasSampler]  # the reweighted generator, where it was fitted
    faces: NotRequired[str]  # the generator whose over- and under-covered points atlas_faces.png decodes


class Reencoding(TypedDict):
    """How far a z-point moves when decoded and encoded again: a z-point in a hole decodes to an
    image the encoder puts elsewhere."""

    data: dict[str, float]  # median, p90, mean of ||E(D(E(x))) - E(x)||
    # generator key -> median, p90 and mean of ||E(D(z)) - z|| over its z-points, and median_ratio
    # (its median / the data's)
    generators: dict[str, dict[str, float]]
    n: int  # the images and the z-points of each generator (``options.reencode_sample`` at most)


class Reconstruction(TypedDict):
    """The run's reconstructions of one partition's images, pixels in [0, 1]."""

    mse: float  # the mean squared error per pixel, averaged over the images
    psnr: float  # the peak signal-to-noise ratio in dB (peak 1), averaged over the images
    ssim: float  # the structural similarity (7 x 7 windows, as scikit-image), averaged over the images
    n: int  # the images: a random sample of the partition (--reconstruction-images; 0: all)


class TsneSummary(TypedDict):
    """What ``embedding.run_tsne`` measured; ``Tsne`` adds where the embedding was saved."""

    points: int  # the rows embedded: a random sample of the sampled rows (--tsne-sample at most)
    input_dims: int  # the columns t-SNE read of each row
    kl_divergence: float | None  # openTSNE's final KL divergence (None where it gives none)
    perplexity: NotRequired[float]  # the perplexity used: --tsne-perplexity, capped below a third of the points
    early_exaggeration: NotRequired[float]  # the early exaggeration used (openTSNE's 12 by default)
    # all of them, as sklearn's n_iter counts (the posts' 1000), the exaggerated ones included
    iterations: NotRequired[int]
    early_exaggeration_iterations: NotRequired[int]  # the first 250
    input: NotRequired[str]  # "the raw components" (--tsne-pca 0) or "PC0 ... PC49"


class Tsne(TsneSummary):
    """The t-SNE map of a sample of the rows (openTSNE) and the files that hold it."""

    embedding: str  # the 2-D points (tsne.npy)
    rows: str  # their rows of the latents (tsne_rows.npy)


class Kmeans(TypedDict):
    """MiniBatchKMeans of a sample of the rows (their raw components) over a range of k."""

    points: int  # the rows clustered: the first of the sampled rows (--kmeans-sample at most)
    k: list[int]  # the numbers of clusters tried (--kmeans-k, else 2 ... 80 up to --kmeans-max)
    inertia: list[float]  # for each k: the sum of squared distances from the points to their nearest centre
    elbow: NotRequired[int | None]  # the k at the curve's elbow (farthest below its chord)


class Dci(TypedDict):
    """DCI (Eastwood & Williams 2018) from one Lasso regression per factor on standardised latents."""

    # 1 - the entropy of each latent's importances over the factors, weighted by the latent's
    # share of all importance: 1 when each latent serves one factor
    disentanglement: float
    # 1 - the entropy of each factor's importances over the latents, averaged over the factors:
    # 1 when each factor is held by one latent
    completeness: float
    informativeness: float  # the Lasso regressions' mean R^2 on held-out rows
    unconverged: NotRequired[int]  # regressions that did not converge (older reports lack it)


class DisentanglementScores(TypedDict):
    """MIG, DCI and SAP against known factors (``disentanglement.disentanglement``); ``Disentanglement``
    adds where the factors came from."""

    factors: list[str]  # the factors that vary (the others are left out)
    n: int  # the rows measured (``options.disentanglement_sample`` at most)
    note: NotRequired[str]  # why nothing was measured (no varying factor, or fewer than 20 rows)
    # the mutual information gap (Chen et al. 2018), averaged over the factors: 0 to 1
    mig: NotRequired[float]
    # per factor, in ``factors``' order: the gap between the two latents that carry the most
    # information about it, over its entropy
    mig_per_factor: NotRequired[list[float]]
    dci: NotRequired[Dci]  # disentanglement, completeness, informativeness
    # SAP (Kumar et al. 2018): per factor, the gap between the two latents that predict it best
    # alone (R^2), averaged over the factors
    sap: NotRequired[float]


class Disentanglement(DisentanglementScores):
    """MIG, DCI and SAP against known factors, and where the factors came from."""

    source: str  # "factors", "attributes" (the run's store) or "labels file"


class TotalCorrelation(TypedDict):
    """The latents' Gaussian total correlation, from their covariance: every cloud, no factors needed."""

    # 1/2 (sum of log variances - log det covariance) = -1/2 log det R (R the correlation
    # matrix), in nats: 0 for uncorrelated components, larger the more entangled; infinite for a
    # singular R
    gaussian: float
    dims: int  # the components it is over: those of non-zero variance
    per_dim: float  # gaussian / dims


class LocalDimension(TypedDict):
    """The intrinsic dimension around each point of a sample (Levina-Bickel maximum likelihood
    from its k nearest neighbours, with k - 2: scikit-dimension's ``MLE(unbiased=True)``)."""

    k: int  # neighbours per point
    n: int  # points with an estimate (a duplicate neighbour gives none)
    mean: NotRequired[float]  # the per-point estimates' mean
    median: NotRequired[float]  # their median
    p10: NotRequired[float]  # their 10th percentile
    p90: NotRequired[float]  # their 90th percentile
    harmonic_mean: NotRequired[float]  # 1 / mean(1 / estimate): scikit-dimension's "mle" combination
    histogram: NotRequired[Histogram]  # the per-point estimates in 30 bins
    map: str  # where local_dimension.png draws them: "t-SNE", or "PC0, PC1" without a t-SNE map


class Traversal(TypedDict):
    """traversal.png's rows: latent dimensions, each moved from -3 to +3 standard deviations
    around the data's mean with the others at their means, decoded (with a run's decoder)."""

    ordered_by: str  # "kl" (a VAE's KL per dimension, ``vae.kl_per_dim``) or "variance" (the latents')
    dims: list[int]  # the dimensions shown, one per row, the largest KL or variance first
    values: list[float]  # their KL or variance, as ordered_by says
    steps: list[float]  # the columns: steps in the dimension's standard deviations from the mean


class MemorizedSet(TypedDict):
    """One generator's decoded draws against their nearest training images (pixel distances, [0, 1] pixels)."""

    # the share of the generated images nearer a training image than the training images' own
    # 5th percentile of nearest-neighbour distances: about 0.05 where nothing is copied, 1 for copies
    share: float
    share_below_median: float  # the share nearer than the training images' median distance (about 0.5)
    training_p5: float  # the training images' 5th percentile distance to their nearest other training image
    training_median: float  # their median distance to it
    generated_median: float  # the generated images' median distance to their nearest training image
    median_ratio: float  # generated_median / training_median: below 1, nearer the data than the data is to itself
    pairs: list[list[int]]  # the nearest pairs, nearest first: [draw, the training image's store row]
    distances: list[float]  # their distances, as in memorization.png


class Memorization(TypedDict):
    """Memorization: generated images (the fitted normal's and the mixture's draws, decoded) against a training sample."""

    training_images: int  # the training partition's images compared with (--memorization-images)
    draws: int  # generated images per generator
    generators: dict[str, MemorizedSet]  # generator key ("mvn", "gmm") -> its numbers


class LogLikelihood(TypedDict):
    """A VAE's importance-weighted log p(x) (Burda et al. 2016; pythae's ``get_nll``), latentkit's own VAEs."""

    k: int  # posterior draws per image (--likelihood-k)
    images: int  # the images it is the mean over (--likelihood-images)
    partition: str  # where they are from: "test", or "valid" or "all" where that is empty
    mean: float  # the mean over the images of logsumexp(log p(x|z) + log p(z) - log q(z|x)) − log k
    standard_error: float  # its standard error: the images' standard deviation / sqrt(images)
    # k (as text: 1, 2, 4, ... k) -> the mean from the first k draws: rises with k (k = 1: the ELBO)
    per_k: dict[str, float]
    # the decoder's likelihood, the one training used (loss / kl_factor): mse, a Gaussian per value
    # of variance 3 kl_factor / 2 (a density); bce, a tempered Bernoulli, not normalised
    likelihood: str
    units: str  # "nats per image"


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


# -- one way in and out -------------------------------------------------------------------------
