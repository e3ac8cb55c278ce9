"""report.json's sections on the cloud's shape: components, radius, generators, region, PCA, fits, neighbours."""

# Part of the schema ``schema`` holds together (each key's description is its comment, as there).
# No ``from __future__ import annotations``: TypedDict reads ``NotRequired`` from evaluated annotations only.
from typing import Any, NotRequired, TypedDict


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
