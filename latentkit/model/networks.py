"""The convolutional AE and VAE of the studies, in backend-neutral Keras 3 (keras.ops only)."""

from __future__ import annotations

from latentkit.model.backend import keras
from latentkit.model.sampling import reparameterize
from latentkit.model.spec import PRECISIONS, ModelSpec
from latentkit.store import to_unit_float

layers, ops = keras.layers, keras.ops


def _activation(name: str) -> keras.layers.Layer:
    return layers.LeakyReLU() if name == "leaky_relu" else layers.Activation(name)


def build_encoder(spec: ModelSpec) -> keras.Model:
    """Conv stack -> Flatten -> Dense(z_dim) (AE: outputs z) or mu, logvar and a sampled z (VAE)."""
    inputs = keras.Input((spec.image_size, spec.image_size, 3), name="image")
    x = inputs
    for filters, kernel, stride in zip(spec.encoder_filters, spec.encoder_kernels, spec.encoder_strides):
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same")(x)
        if spec.batch_norm:
            x = layers.BatchNormalization()(x)
        x = _activation(spec.activation)(x)
    x = layers.Flatten()(x)
    if spec.kind == "ae":
        return keras.Model(inputs, layers.Dense(spec.z_dim, name="z")(x), name="encoder")
    if spec.extra_dense:
        x = _activation(spec.activation)(layers.Dense(spec.z_dim, name="extra_dense")(x))
    mu = layers.Dense(spec.z_dim, name="mu")(x)
    logvar = layers.Dense(spec.z_dim, name="logvar")(x)
    z = Sampling(eps_factor=spec.eps_factor, name="z")([mu, logvar])
    return keras.Model(inputs, [mu, logvar, z], name="encoder")


def build_decoder(spec: ModelSpec) -> keras.Model:
    """Dense -> Reshape -> a stack of up-convolutions -> sigmoid image. An up-convolution is a
    Conv2DTranspose (``upsampling = "transpose"``) or a nearest-neighbour UpSampling2D and a
    Conv2D (``"resize"``: no checkerboard artifacts); ``residual_blocks`` residual blocks
    follow each stage but the last."""
    down = 1
    for s in spec.encoder_strides:
        down *= s
    side, channels = spec.image_size // down, spec.encoder_filters[-1]
    inputs = keras.Input((spec.z_dim,), name="z")
    x = _activation(spec.activation)(layers.Dense(side * side * channels)(inputs))
    x = layers.Reshape((side, side, channels))(x)
    last = len(spec.decoder_filters) - 1
    for i, (filters, kernel, stride) in enumerate(
        zip(spec.decoder_filters, spec.decoder_kernels, spec.decoder_strides)
    ):
        if spec.upsampling == "resize":
            x = layers.UpSampling2D(stride, interpolation="nearest")(x) if stride > 1 else x
            x = layers.Conv2D(filters, kernel, padding="same")(x)
        else:
            x = layers.Conv2DTranspose(filters, kernel, strides=stride, padding="same")(x)
        if i == last:  # float32 under mixed precision too: the loss is computed in float32
            x = layers.Activation("sigmoid", name="image", dtype="float32")(x)
        else:
            if spec.batch_norm:
                x = layers.BatchNormalization()(x)
            x = _activation(spec.activation)(x)
            for _ in range(spec.residual_blocks):
                x = _residual_block(x, filters, spec.activation)
    return keras.Model(inputs, x, name="decoder")


def _residual_block(x, filters: int, activation: str):
    """x + conv(act(conv(x))), then the activation: two 3x3 convolutions around a skip."""
    y = _activation(activation)(layers.Conv2D(filters, 3, padding="same")(x))
    y = layers.Conv2D(filters, 3, padding="same")(y)
    return _activation(activation)(layers.Add()([x, y]))


@keras.saving.register_keras_serializable(package="latentkit")
class Sampling(keras.layers.Layer):
    """z = mu + exp(logvar / 2) * clip(eps, -5, 5) * scale.

    ``scale`` is a variable, read when the layer runs, so :meth:`set_mu_only` takes effect
    on the next call even inside an already traced predict or train function.
    """

    def __init__(self, eps_factor: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.eps_factor = eps_factor
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.scale = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(eps_factor), trainable=False, name="noise_scale"
        )

    def call(self, inputs):
        mu, logvar = inputs
        eps = keras.random.normal(ops.shape(mu), seed=self.seed_generator)
        return reparameterize(mu, logvar, eps, self.scale, ops=ops)

    def set_mu_only(self, mu_only: bool) -> None:
        self.scale.assign(0.0 if mu_only else self.eps_factor)

    def get_config(self):
        return {**super().get_config(), "eps_factor": self.eps_factor}


def reconstruction_loss(kind: str, x, x_hat):
    """Per-image loss summed over the image_size² pixels (each the mean over its 3 channels),
    mean over the batch: the studies' "integrated" loss, not an average per pixel."""
    per_pixel = keras.losses.binary_crossentropy(x, x_hat) if kind == "bce" else ops.mean(ops.square(x - x_hat), -1)
    return ops.mean(ops.sum(per_pixel, axis=(1, 2)))


@keras.saving.register_keras_serializable(package="latentkit")
class Autoencoder(keras.Model):
    """Encoder + decoder; for a VAE (``spec.kind == 'vae'``) also the KL term, which the loss
    adds weighted by ``spec.kl_factor``. The ``kl`` tracker holds the unweighted KL."""

    def __init__(self, spec: ModelSpec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.encoder = build_encoder(spec)
        self.decoder = build_decoder(spec)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    @property
    def is_vae(self) -> bool:
        return self.spec.kind == "vae"

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, x, training=False):
        x = _unit_float(x)
        if not self.is_vae:
            return self.decoder(self.encoder(x, training=training), training=training)
        mu, logvar, z = self.encoder(x, training=training)
        mu, logvar = ops.cast(mu, "float32"), ops.cast(logvar, "float32")  # KL in float32 under mixed precision
        kl = -0.5 * ops.mean(ops.sum(1 + logvar - ops.square(mu) - ops.exp(logvar), axis=1))
        self.add_loss(kl)  # unweighted: compute_loss weighs it, and kl_factor 0 still records the KL
        return self.decoder(z, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # The train job feeds (x,) alone: an autoencoder's target is its input.
        target = _unit_float(x if y is None else y)
        reconstruction = reconstruction_loss(self.spec.loss, target, ops.cast(y_pred, "float32"))
        kl = ops.sum(ops.stack(self.losses)) if self.losses else ops.zeros(())  # added in call()
        total = reconstruction + self.spec.kl_factor * kl
        self.loss_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return total

    def encode(self, x):
        """z for an AE; (mu, logvar, z) for a VAE."""
        return self.encoder(x, training=False)

    def set_mu_only(self, mu_only: bool) -> None:
        """VAE: make z equal mu (True) or sample again (False), from the next call on."""
        if self.is_vae:
            self.encoder.get_layer("z").set_mu_only(mu_only)

    def get_config(self):
        import dataclasses

        return {**super().get_config(), "spec": dataclasses.asdict(self.spec)}

    @classmethod
    def from_config(cls, config):
        spec = config.pop("spec")
        return cls(ModelSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}), **config)


def _unit_float(x):
    """uint8 batches (the train job's) are scaled here, inside the compiled step; floats pass."""
    return to_unit_float(x, ops=ops) if keras.backend.standardize_dtype(x.dtype) == "uint8" else x


def build_model(
    spec: ModelSpec, *, lr: float = 5e-4, precision: str = "float32", steps_per_execution: int = 1
) -> Autoencoder:
    """A compiled, built model and optimizer (optimizer variables exist, ready to restore).

    ``precision``: a Keras dtype policy (``PRECISIONS``). Variables stay float32 under the
    mixed ones; ``mixed_float16`` also wraps the optimizer in Keras' loss scaling.
    ``steps_per_execution``: training steps per compiled call (``fit`` feeds that many).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)  # layers take the policy when they are made
    try:
        model = Autoencoder(spec)
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), steps_per_execution=steps_per_execution)
    model.build((None, spec.image_size, spec.image_size, 3))
    model.optimizer.build(model.trainable_variables)
    return model
