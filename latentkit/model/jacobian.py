"""The decoder's local volume change: its Jacobian J = dx/dz at z-points, by the backend's own
autodiff, and the log magnification log sqrt(det JᵀJ) (Keras, so it lives in the model room;
the analysis room reaches it through ``Codec.log_magnification``).

Forward mode: J has as many rows as the image has values (12,288 for 64x64x3) and as many
columns as z (z_dim), so its columns — one Jacobian-vector product each — are the cheap way
round. Each z-point is repeated z_dim times with the unit vectors as tangents, so one
forward-mode call of the decoder gives the whole J of ``CALL_ROWS // z_dim`` points
(TensorFlow: ``tf.autodiff.ForwardAccumulator``; JAX: ``jax.jvp`` over the model's
``stateless_call``). JᵀJ (z_dim x z_dim) is formed in float64 per point and its log-determinant
taken by ``slogdet``; a decoder flat along some direction gives -inf there.
"""

from __future__ import annotations

import numpy as np

CALL_ROWS = 256  # decoded rows (each with its tangent) per forward-mode call: bounds the memory


def log_magnification(decoder, z: np.ndarray, *, call_rows: int = CALL_ROWS) -> np.ndarray:
    """(n,): log sqrt(det JᵀJ) of ``decoder`` (a Keras model: z-points (n, d) -> any output
    shape) at each z-point, J = d(output, flattened)/dz."""
    z = np.asarray(z, np.float32)
    n, d = z.shape
    per = max(1, call_rows // d)
    out = np.empty(n)
    for start in range(0, n, per):
        jacobian = jacobians(decoder, z[start : start + per])  # (m, D, d)
        gram = np.einsum("mki,mkj->mij", jacobian, jacobian, dtype=np.float64, optimize=True)
        sign, logdet = np.linalg.slogdet(gram)
        out[start : start + len(jacobian)] = np.where(sign > 0, 0.5 * logdet, -np.inf)
    return out


def jacobians(decoder, z: np.ndarray) -> np.ndarray:
    """(m, D, d): the decoder's Jacobian at each of the m z-points (D: its output's values)."""
    m, d = z.shape
    points = np.repeat(np.asarray(z, np.float32), d, axis=0)  # each point d times ...
    tangents = np.tile(np.eye(d, dtype=np.float32), (m, 1))  # ... with the unit vectors
    columns = _jvp(decoder, points, tangents).reshape(m, d, -1)  # row i of a point: J e_i
    return np.transpose(columns, (0, 2, 1)).astype(np.float64)


def _jvp(decoder, points: np.ndarray, tangents: np.ndarray) -> np.ndarray:
    from latentkit.model.backend import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        primals = tf.constant(points)
        with tf.autodiff.ForwardAccumulator(primals, tf.constant(tangents)) as accumulator:
            outputs = decoder(primals, training=False)
        return np.asarray(accumulator.jvp(outputs), np.float32)
    if backend == "jax":
        import jax

        trainable = [v.value for v in decoder.trainable_variables]
        fixed = [v.value for v in decoder.non_trainable_variables]

        def call(x):
            return decoder.stateless_call(trainable, fixed, x, training=False)[0]

        _, product = jax.jvp(call, (points,), (tangents,))
        return np.asarray(product, np.float32)
    raise NotImplementedError(f"the decoder's Jacobian under the {backend} backend")
