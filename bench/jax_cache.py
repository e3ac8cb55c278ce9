"""JAX's persistent compilation cache: what it saves a process that trains on JAX.

    python bench/jax_cache.py [--rounds 3] [--n 256]

The test suite starts many short JAX processes (SIGKILL-and-resume, data parallel, the SLURM
chain, the GPU check on the CPU), each compiling the same small programs; ``tests/fixtures/jax_cache.py``
gives the session one cache. This times ``latentkit train --job demo --epochs 1`` on ``--n``
synthetic 64 px faces, whole processes, alternating round by round (the machine's speed drifts):
cold (no cache) against warm (the cache filled by the first warm process, which is not
counted). It prints each round and the median ratio warm / cold.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1"}


def train_seconds(data: Path, run: Path, env: dict[str, str]) -> float:
    shutil.rmtree(run, ignore_errors=True)
    began = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "latentkit",
            "train",
            "--data",
            str(data),
            "--run",
            str(run),
            "--job",
            "demo",
            "--epochs",
            "1",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=256, help="synthetic faces in the training store")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="latentkit-bench-jax-cache-"))
    try:
        data, run, cache = work / "data.zarr", work / "run", work / "cache"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "latentkit",
                "prepare",
                "synthetic",
                "--n",
                str(args.n),
                "--size",
                "64",
                "--out",
                str(data),
            ],
            check=True,
            capture_output=True,
        )
        base = {key: value for key, value in os.environ.items() if key != "JAX_COMPILATION_CACHE_DIR"}
        base["KERAS_BACKEND"] = "jax"
        warm_env = {**base, **CACHE, "JAX_COMPILATION_CACHE_DIR": str(cache)}
        train_seconds(data, run, warm_env)  # fills the cache
        ratios = []
        for round_ in range(1, args.rounds + 1):
            cold, warm = train_seconds(data, run, base), train_seconds(data, run, warm_env)
            ratios.append(warm / cold)
            print(
                f"round {round_}: cold {cold:.1f} s, with the cache {warm:.1f} s, ratio {warm / cold:.2f}", flush=True
            )
        print(f"median ratio with the cache / without: {statistics.median(ratios):.2f} ({args.rounds} rounds)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
