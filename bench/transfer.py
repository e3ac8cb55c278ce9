"""Staging and mirroring costs, both sides of each comparison in one run.

    python bench/transfer.py [--mb 1024] [--n 2048] [--rounds 3] [--only stage|mirror]

1. `latentkit stage` of one large file against plain `cp` of the same file (page cache
   dropped before each side where root may, so the source is read from disk as from a
   mount; destination removed before each): MB/s and the ratio (goal >= 0.9). Stage also
   hashes every block (SHA-256) and records its progress for resuming.
2. A training epoch with `--mirror DIR` against the same epoch without (demo preset,
   checkpoints every 8 steps, each followed by a background sync of the run): images/s of
   the second epoch and the overhead (goal <= 5 %).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import child

STAGE = """
import json, time
from latentkit.transfer.stage import stage
start = time.perf_counter()
stage({src!r}, {dst!r})
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""

TRAIN = """
import json
from latentkit.model.train import train
result = train(data={data!r}, run={run!r}, job="demo", overrides={{"train.epochs": 2, "train.checkpoint_every": 8}},
               mirror={mirror!r})
print(json.dumps({{"images_per_s": result.history[-1]["images_per_s"]}}))
"""


def drop_page_cache() -> bool:
    """Make the next read come from the disk, as a mount's would (needs root); False if not allowed."""
    subprocess.run(["sync"], check=True)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--n", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("stage", "mirror"), help="run one of the two comparisons")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        tmp = Path(tmp)
        src = tmp / "drive" / "archive.zip"
        src.parent.mkdir()
        with open(src, "wb") as handle:
            rng = np.random.default_rng(0)
            for _ in range(args.mb // 64):
                handle.write(rng.bytes(64 * 2**20))
        cp_rates, stage_rates = [], []
        for _ in range(args.rounds if args.only != "mirror" else 0):  # interleaved: this machine's speed drifts
            shutil.rmtree(tmp / "local", ignore_errors=True)
            (tmp / "local").mkdir()
            cold = drop_page_cache()
            start = time.perf_counter()
            subprocess.run(["cp", str(src), str(tmp / "local" / "cp.zip")], check=True)
            subprocess.run(["sync"], check=True)
            cp_rates.append(args.mb / (time.perf_counter() - start))
            drop_page_cache()
            seconds = child(STAGE.format(src=str(src), dst=str(tmp / "local" / "staged.zip")))["seconds"]
            start = time.perf_counter()
            subprocess.run(["sync"], check=True)
            stage_rates.append(args.mb / (seconds + time.perf_counter() - start))
        if args.only != "mirror":
            print(
                f"stage {args.mb:,} MB ({'source read from disk' if cold else 'source in the page cache'}): cp {', '.join(f'{r:,.0f}' for r in cp_rates)} MB/s; latentkit stage "
                f"{', '.join(f'{r:,.0f}' for r in stage_rates)} MB/s; best/best ratio "
                f"{max(stage_rates) / max(cp_rates):.2f}, median/median {np.median(stage_rates) / np.median(cp_rates):.2f}"
            )
        if args.only == "stage":
            return

        from latentkit.ingest.prepare import prepare_synthetic

        data = tmp / "data.zarr"
        prepare_synthetic(out=data, n=args.n)
        plain, mirrored = [], []
        for r in range(max(2, args.rounds - 1)):
            plain.append(child(TRAIN.format(data=str(data), run=str(tmp / f"plain{r}"), mirror=None))["images_per_s"])
            mirrored.append(
                child(
                    TRAIN.format(data=str(data), run=str(tmp / f"mirrored{r}"), mirror=str(tmp / "drive" / f"run{r}"))
                )["images_per_s"]
            )
        print(
            f"train epoch (demo, {args.n:,} images, checkpoint every 8 steps): without mirror "
            f"{', '.join(f'{r:,.0f}' for r in plain)} images/s; with --mirror {', '.join(f'{r:,.0f}' for r in mirrored)}"
            f" images/s; overhead (best/best) {100 * (1 - max(mirrored) / max(plain)):.1f} %"
        )


if __name__ == "__main__":
    main()
