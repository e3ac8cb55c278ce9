"""Two jobs on one machine: each on its own share of the CPUs, threads sized for that share.

    python bench/cpu_share.py [--rounds 3] [--n 600]

The test suite runs two workers on a 2-core machine, each starting multi-threaded processes
(openTSNE, OpenBLAS, TensorFlow); a SLURM node runs several jobs side by side. This runs the
analysis' t-SNE (``latentkit.analysis.measures.embedding``'s settings) of ``--n`` points in a child
process beside a busy one (numpy's QR, OpenBLAS threads as many as it sees), round by round:

- **shared**: both see every CPU; openTSNE gets ``os.cpu_count()`` threads (the suite before
  ``tests/fixtures/scheduling.py`` pins its workers, latentkit before ``usable_cpus``);
- **own share**: each bound to its own CPU (what the test session does per worker, what SLURM's
  task binding does per job), openTSNE gets ``usable_cpus()`` threads;
- **bound, threads**: a child bound to one CPU, alone, given ``os.cpu_count()`` threads against
  ``usable_cpus()`` (what sizing the threads alone changes).

It prints each round and the median ratio of each case (after / before).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CHILD = """
import time, numpy as np
from openTSNE import TSNE
x = np.random.default_rng(0).normal(size=({n}, 50))
began = time.perf_counter()
TSNE(n_components=2, perplexity=30.0, n_jobs={jobs}, random_state=0, early_exaggeration_iter=250, n_iter=500,
     verbose=False).fit(x)
print(time.perf_counter() - began)
"""
BUSY = "import numpy as np\nwhile True:\n    np.linalg.qr(np.random.rand(400, 400))"
USABLE = "from latentkit.core import usable_cpus; print(usable_cpus())"


def _bound(cpus):
    return None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))


def tsne_seconds(n: int, jobs: int, cpus=None, busy_cpus=(), beside: bool = False) -> float:
    busy = subprocess.Popen([sys.executable, "-c", BUSY], preexec_fn=_bound(busy_cpus or None)) if beside else None
    try:
        time.sleep(1.0 if beside else 0.0)
        done = subprocess.run(
            [sys.executable, "-c", CHILD.format(n=n, jobs=jobs)],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=_bound(cpus),
        )
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=600)
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("cpu_share: needs at least 2 CPUs")
    one, other = {cpus[0]}, {cpus[1]}
    usable = int(
        subprocess.run(
            [sys.executable, "-c", USABLE], capture_output=True, text=True, check=True, preexec_fn=_bound(one)
        ).stdout
    )
    assert usable == 1, usable
    whole = os.cpu_count() or 1
    print(f"t-SNE of {args.n} points; {whole} CPUs; usable_cpus() bound to one CPU: {usable}")
    cases = {
        "beside a busy process: shared -> own share": (
            lambda: tsne_seconds(args.n, whole, beside=True),
            lambda: tsne_seconds(args.n, usable, one, other, beside=True),
        ),
        "bound to one CPU, alone: os.cpu_count() -> usable_cpus() threads": (
            lambda: tsne_seconds(args.n, whole, one),
            lambda: tsne_seconds(args.n, usable, one),
        ),
    }
    for case, (before, after) in cases.items():
        ratios = []
        for round_ in range(1, args.rounds + 1):
            old, new = before(), after()
            ratios.append(new / old)
            print(f"{case}, round {round_}: {old:.2f} s -> {new:.2f} s, ratio {new / old:.2f}", flush=True)
        print(f"{case}: median ratio {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
