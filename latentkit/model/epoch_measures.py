"""What train measures beside the training loss: the validation loss, the probe radius, the loss terms, parameters."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from latentkit.model import checkpoint
from latentkit.model.spec import JobSpec, ModelSpec
from latentkit.store import get_array, open_store, sample_rows, select_rows, to_unit_float

VALIDATION_IMAGES = 2048  # held-out images per epoch's validation loss (valid partition, read once)
PROBE_IMAGES = 256  # held-out images whose latent radius train records every epoch (a jump shows there)


def validation_images(data, spec: JobSpec) -> np.ndarray | None:
    """The held-out images every epoch's validation loss is measured on, read once (uint8): a
    seeded sample across the valid partition (a folder sorted by class gives every class), a whole number of batches, at most ``VALIDATION_IMAGES`` and a
    tenth of the training images (a few percent of an epoch's time); None without a valid partition."""
    group = open_store(data)
    rows = select_rows(group, "valid")
    n = min(len(rows), VALIDATION_IMAGES, max(spec.train.batch, len(select_rows(group, spec.train.partition)) // 10))
    n = n // spec.train.batch * spec.train.batch or min(len(rows), spec.train.batch)
    if n == 0:
        return None
    return np.asarray(get_array(group, "images").get_orthogonal_selection((sample_rows(rows, n),)))


def validation_loss(model, images: np.ndarray, batch: int) -> dict[str, float]:
    """The loss terms on held-out ``images``, means over the images, as training counts them, in
    Keras' compiled evaluation (whole batches: each weighs the same); a VAE with z = mu (no
    sampling noise: the same checkpoint always gives the same number)."""
    model.set_mu_only(True)
    try:
        logs = model.evaluate(images, batch_size=batch, verbose=0, return_dict=True)
    finally:
        model.set_mu_only(False)
    means = {name: float(logs[name]) for name in ("loss", "reconstruction", "kl")}
    return {f"val_{name}": value for name, value in (means | reported_terms(means, model.spec)).items()}


def reported_terms(means: dict[str, float], spec: ModelSpec) -> dict[str, float]:
    """The loss terms as the studies report them, from the summed ones (``loss``,
    ``reconstruction``, ``kl``): per pixel (the sums over the image's ``image_size``² pixels,
    each pixel the mean over its 3 channels, divided by ``image_size``²; ``loss_per_pixel``
    divides the weighted KL too) and the KL as the loss adds it, ``kl_factor`` × the unweighted
    ``kl`` (0 for an AE)."""
    pixels = spec.image_size * spec.image_size
    return {
        "loss_per_pixel": means["loss"] / pixels,
        "reconstruction_per_pixel": means["reconstruction"] / pixels,
        "kl_weighted": spec.kl_factor * means["kl"],
    }


def probe_images(data) -> np.ndarray:
    """The fixed probe set: ``PROBE_IMAGES`` sampled across the valid partition (else all), uint8."""
    group = open_store(data)
    rows = select_rows(group, "valid")
    if len(rows) == 0:
        rows = select_rows(group, None)
    return np.asarray(get_array(group, "images").get_orthogonal_selection((sample_rows(rows, PROBE_IMAGES),)))


def probe_radius(model, images: np.ndarray) -> dict[str, float]:
    """Mean and spread of the latent radius ||z|| (a VAE's mean) of the probe images: the
    studies' training instability shows as a jump here before the loss moves."""
    from latentkit.model.codec import Codec

    codec = Codec(model, mu_only=True)
    try:
        z = codec.encode(to_unit_float(images)).astype(np.float64)
    finally:
        model.set_mu_only(False)
    radius = np.sqrt((z * z).sum(axis=1))
    return {"probe_radius_mean": float(radius.mean()), "probe_radius_std": float(radius.std())}


@contextmanager
def noise_state_kept(model):
    """A VAE draws noise whenever it runs; what runs beside training (validation, the probe,
    the reconstruction grid, some after the epoch's checkpoint) puts the seed generators'
    state back, so that a resumed run draws the noise an uninterrupted one draws."""
    states = [v for v in model.variables if "seed_generator_state" in v.path]
    saved = [checkpoint.host_array(v).copy() for v in states]
    try:
        yield
    finally:
        for variable, value in zip(states, saved):
            variable.assign(value)


def parameter_counts(model) -> str:
    """The line ``train`` starts with: the encoder's and decoder's parameters (Keras'
    ``count_params``, non-trainable ones included), as the studies compare them."""
    encoder, decoder = model.encoder.count_params(), model.decoder.count_params()
    return f"model: encoder {encoder:,} parameters, decoder {decoder:,}, total {encoder + decoder:,}"
