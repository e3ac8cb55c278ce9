"""Keras and its backend, imported once with the backend's C++ start-up lines off the screen.

TensorFlow writes ``WARNING: All log messages before absl::InitializeLog()``, ``cudart_stub ...
Could not find cuda drivers`` and ``failed call to cuInit`` straight to file descriptor 2 while
it imports and first looks for devices; ``TF_CPP_MIN_LOG_LEVEL`` does not reach them. Every
module of latentkit that needs Keras imports it from here (``from latentkit.model.backend
import keras``): descriptor 2 goes to a temporary file for the import and the device search,
and what was written there is shown only if the import fails, or with ``LATENTKIT_VERBOSE=1``
(``latentkit --verbose``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager, nullcontext

VERBOSE = "LATENTKIT_VERBOSE"


@contextmanager
def _stderr_aside():
    """Send descriptor 2 to a temporary file; give its text back on failure (or when verbose)."""
    if os.environ.get(VERBOSE) == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as aside:
        os.dup2(aside.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            aside.seek(0)
            sys.stderr.write(aside.read().decode("utf-8", "replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


@contextmanager
def _absent(name: str):
    """``import name`` fails inside (an optional import is skipped); a later one finds it as usual."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # what Python's import takes for "not there"
    try:
        yield
    finally:
        if sys.modules.get(name, False) is None:
            del sys.modules[name]


def _without_jax():
    """TensorFlow Lite's optional ``from jax import jit`` finds no JAX while Keras imports on
    TensorFlow: JAX is installed for the other backend, and reading it cost every TensorFlow
    start-up about a second."""
    from latentkit.machine.allocators import keras_backend

    return _absent("jax") if keras_backend() == "tensorflow" else nullcontext()


with _stderr_aside(), _without_jax():
    import keras

    if keras.backend.backend() == "tensorflow":  # the device search (cuInit) prints too
        import tensorflow as _tf

        _tf.config.list_physical_devices()


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed`` (Python's, NumPy's and the backend's generators) without
    importing TensorFlow on another backend: Keras seeds TensorFlow whenever it is installed, for
    ``tf.data`` pipelines, which latentkit's feed does not use, and on JAX that import cost every
    training start about 5 s. Where TensorFlow is loaded (its backend, or a user's ``tf.data``)
    it is seeded as Keras seeds it. On JAX, Keras then takes TensorFlow as absent in this process."""
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    with _absent("tensorflow"):
        keras.utils.set_random_seed(seed)


__all__ = ["keras", "set_random_seed"]
