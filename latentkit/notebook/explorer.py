"""The explorer (``latentkit explore``) inline in a notebook: the same page, served from a
thread of the kernel on 127.0.0.1 and shown in the output cell through the notebook's own way
of showing a local server (Jupyter: an iframe of its URL; Colab: ``serve_kernel_port_as_iframe``,
Colab's proxy to a kernel's port)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HEIGHT = 1250  # pixels of the output cell: the whole page without a scroll bar inside it
_SERVING: dict[Path, Any] = {}  # run -> its server in this kernel: a second call replaces the first


def explore(run: str | os.PathLike, *, port: int = 0, height: int = HEIGHT) -> Any:
    """Open ``run`` once and show its explorer in this output cell; returns the server
    (``.url``, ``.stop()``). ``port`` 0: any free one. Calling it again for the same run
    stops the earlier server first."""
    from IPython.display import IFrame, display

    from latentkit.analysis.explore import serve_in_background

    key = Path(run).resolve()
    if key in _SERVING:
        _SERVING.pop(key).stop()
    on_colab = "google.colab" in sys.modules
    # Colab's page reaches the port through its own proxy, from an origin of Colab's: the
    # server still listens on the kernel's loopback only.
    served = serve_in_background(run, port=port, origins=["*"] if on_colab else None)
    _SERVING[key] = served
    if on_colab:
        from google.colab import output

        output.serve_kernel_port_as_iframe(served.server.port, height=height)
    else:
        display(IFrame(served.url, width="100%", height=height))
    return served
