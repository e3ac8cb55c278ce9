"""The tests' shared fixtures and hooks live in ``tests/fixtures/``, one module per concern (see tests/README.md).

Registered here as plugins, so every test module sees their fixtures; helpers are imported from
them by name (``from fixtures.commands import cli``). The order of the files (``SLOWEST_FIRST``)
and the CPU pinning of the xdist workers are in ``fixtures/scheduling.py``, the session's one JAX
compilation cache in ``fixtures/jax_cache.py``.
"""

pytest_plugins = [
    "fixtures.scheduling",  # the files' order, each worker's share of the CPUs
    "fixtures.jax_cache",  # one JAX compilation cache for the session's processes
    "fixtures.commands",  # latentkit's commands run from a test: cli, run_cli, start_cli, kill_when
    "fixtures.images",  # CelebA in its real formats: make_celeba, celeba_folder, celeba_zip
    "fixtures.stores",  # tiny_store, and stores and latents compared
    "fixtures.runs",  # TINY, tiny_ae, copy_run, analyzed
    "fixtures.browser",  # a real headless Chromium
    "fixtures.docs_site",  # the docs site built once, strict: docs_site
]
