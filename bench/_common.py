"""Shared by the bench scripts: run a measurement in its own Python process.

A fresh process per side gives each its own peak RSS (a high-water mark never goes down), and
its own Keras backend (``KERAS_BACKEND`` is read once, at import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def child(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` with this interpreter; it must print one JSON object as its last line."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def jax_train_limit(model, batch, n: int) -> float:
    """The compute limit on JAX: the model's compiled train function called ``n`` times back to
    back on one batch already on the device (no reading, no host-side data path), the state
    handed back to the model as ``fit`` does; the last loss (waiting for the device)."""
    import itertools

    import jax

    batches = itertools.repeat((batch,))
    state = model._get_jax_state(
        trainable_variables=True,
        non_trainable_variables=True,
        optimizer_variables=True,
        metrics_variables=True,
        purge_model_variables=True,
    )
    for _ in range(n):
        logs, state = model.train_function(state, batches)
    model._jax_state = dict(
        zip(("trainable_variables", "non_trainable_variables", "optimizer_variables", "metrics_variables"), state)
    )
    model._jax_state_synced = False
    model.jax_state_sync()
    return float(jax.block_until_ready(logs)["loss"])
