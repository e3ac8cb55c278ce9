"""report.json's sections of the numbers other tools report: t-SNE, k-means, disentanglement, likelihood."""

# Part of the schema ``schema`` holds together (each key's description is its comment, as there).
# No ``from __future__ import annotations``: TypedDict reads ``NotRequired`` from evaluated annotations only.
from typing import NotRequired, TypedDict

from latentkit.analysis.report.cloud_schema import Histogram


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
