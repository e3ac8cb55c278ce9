"""Outside models for latentkit's tests (issue 28), as a user's own module: built and saved by
Keras in a process of their own (``outside_build.py``), imported with ``latentkit import-model``.
The tests copy this file next to the models as ``mymodels.py``: ``--custom-objects mymodels.py``."""

import keras
from keras import layers, ops

SIZE, Z = 32, 8


def _encoder(name="encoder", outputs="z"):
    x = keras.Input((SIZE, SIZE, 3), name="pixels")
    h = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    h = layers.Flatten()(h)
    if outputs == "z":
        return keras.Model(x, layers.Dense(Z, name="z")(h), name=name)
    mean, logvar = layers.Dense(Z, name="mean")(h), layers.Dense(Z, name="logvar")(h)
    return keras.Model(x, [mean, logvar, Sampling(name="z")([mean, logvar])], name=name)


def _decoder(name="decoder", activation="sigmoid"):
    z = keras.Input((Z,), name="code")
    h = layers.Dense(16 * 16 * 8, activation="relu")(z)
    h = layers.Reshape((16, 16, 8))(h)
    return keras.Model(z, layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation=activation)(h), name=name)


def functional_ae(encoder_name="encoder", decoder_name="decoder", activation="sigmoid"):
    """A functional autoencoder whose encoder and decoder are named sub-models."""
    encoder, decoder = _encoder(encoder_name), _decoder(decoder_name, activation)
    x = keras.Input((SIZE, SIZE, 3))
    return keras.Model(x, decoder(encoder(x)), name="autoencoder")


def build_functional_ae():
    """The factory `import-model ae.weights.h5 --factory mymodels:build_functional_ae` calls."""
    return functional_ae("enc", "dec")


@keras.saving.register_keras_serializable(package="mymodels")
class Sampling(layers.Layer):
    """z = mean + exp(logvar / 2) * eps."""

    def call(self, inputs):
        mean, logvar = inputs
        return mean + ops.exp(0.5 * logvar) * keras.random.normal(ops.shape(mean))


def vae():
    encoder, decoder = _encoder("encoder", outputs="vae"), _decoder()
    x = keras.Input((SIZE, SIZE, 3))
    return keras.Model(x, decoder(encoder(x)[2]), name="vae")


@keras.saving.register_keras_serializable(package="mymodels")
class Gain(layers.Layer):
    """A custom layer with a weight of its own, built in build()."""

    def __init__(self, start=1.0, **kwargs):
        super().__init__(**kwargs)
        self.start = start

    def build(self, shape):
        self.gain = self.add_weight(shape=(shape[-1],), initializer=keras.initializers.Constant(self.start))

    def call(self, x):
        return x * self.gain

    def get_config(self):
        return {**super().get_config(), "start": self.start}


@keras.saving.register_keras_serializable(package="mymodels")
class SubclassedAE(keras.Model):
    """A subclassed model: its encoder and decoder are attributes, one with a custom layer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.Sequential(
            [keras.Input((SIZE, SIZE, 3)), layers.Flatten(), layers.Dense(Z), Gain(1.5)], name="encoder"
        )
        self.decoder = keras.Sequential(
            [keras.Input((Z,)), layers.Dense(SIZE * SIZE * 3, activation="sigmoid"), layers.Reshape((SIZE, SIZE, 3))],
            name="decoder",
        )

    def call(self, x):
        return self.decoder(self.encoder(x))


def lambda_ae():
    """An autoencoder with a Lambda layer: Keras' safe mode refuses to load it."""
    x = keras.Input((SIZE, SIZE, 3))
    h = layers.Lambda(lambda t: t * 2.0 - 1.0, name="shift")(x)
    encoder = keras.Model(x, layers.Dense(Z)(layers.Flatten()(h)), name="encoder")
    y = keras.Input((SIZE, SIZE, 3))
    return keras.Model(y, _decoder()(encoder(y)), name="lambda_ae")


@keras.saving.register_keras_serializable(package="mymodels")
class JaxTanh(layers.Layer):
    """A layer written for the JAX backend: it calls jax.numpy directly."""

    def call(self, x):
        import jax.numpy as jnp

        return jnp.tanh(x)


def jax_ae():
    x = keras.Input((SIZE, SIZE, 3))
    encoder = keras.Model(x, JaxTanh()(layers.Dense(Z)(layers.Flatten()(x))), name="encoder")
    y = keras.Input((SIZE, SIZE, 3))
    return keras.Model(y, _decoder()(encoder(y)), name="jax_ae")
