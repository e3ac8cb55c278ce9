"""The VAE's sampling formula, written once for the model (keras.ops) and for encode (numpy)."""

from __future__ import annotations

from typing import Any

import numpy as np

EPS_CLIP = 5.0  # VAE noise bound: unclipped eps sent some of the studies' z-points out to radius 66


def reparameterize(mu: Any, logvar: Any, eps: Any, scale: Any, *, ops: Any = np) -> Any:
    """z = mu + exp(logvar / 2) * clip(eps, -EPS_CLIP, EPS_CLIP) * scale.

    ``scale`` is the spec's ``eps_factor`` (0 gives z = mu). ``ops`` is ``numpy`` or
    ``keras.ops``: the Sampling layer and the encode job call this same function, so the z
    that encode writes is the z the decoder was trained on.
    """
    return mu + ops.exp(0.5 * logvar) * ops.clip(eps, -EPS_CLIP, EPS_CLIP) * scale
