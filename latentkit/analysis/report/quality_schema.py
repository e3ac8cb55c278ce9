"""report.json's sections on where the holes are: the quality stage's (coverage, mismatch, ...) and the atlas's."""

# Part of the schema ``schema`` holds together (each key's description is its comment, as there).
# No ``from __future__ import annotations``: TypedDict reads ``NotRequired`` from evaluated annotations only.
from typing import NotRequired, TypedDict


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
