"""Fault injection: kill every job at random moments, rerun it to the end, compare with a clean run.

For prepare (synthetic and CelebA-format JPEGs), train, encode, stage and sync: one
uninterrupted reference run, then per trial a fresh output that is started again and again,
each attempt SIGKILLed (train: also SIGTERM / SIGUSR2, which checkpoint and exit 75) at a
random moment within the reference's duration, until an attempt finishes (after --kills
kills an attempt runs to its end). The finished output is compared with the reference: bitwise
for prepare, encode, stage and sync, float tolerance (rtol 1e-5) for train's weights. Then
the output is searched for leftovers: temp files (*.tmp, *.partial) and held run locks.

    python bench/faults.py [--trials 20] [--kills 5] [--jobs prepare-synthetic,train,...] [--seed 0] [--small]

Prints per job: trials, kills, mismatches, leftovers; goal: hundreds of kills, 0 and 0.
The test suite runs it small (tests/test_faults.py).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TINY = [
    "--set",
    "model.image_size=32",
    "--set",
    "model.z_dim=8",
    "--set",
    "model.encoder_filters=[8,16]",
    "--set",
    "model.encoder_kernels=[3,3]",
    "--set",
    "model.encoder_strides=[2,2]",
    "--set",
    "model.decoder_filters=[8,3]",
    "--set",
    "model.decoder_kernels=[3,3]",
    "--set",
    "model.decoder_strides=[2,2]",
    "--batch",
    "16",
]
JOBS = ("prepare-synthetic", "prepare-celeba", "train", "encode", "stage", "sync")


def cli(*args, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "latentkit", *map(str, args)], capture_output=True, text=True, check=check
    )


def make_jpegs(folder: Path, n: int) -> Path:
    """CelebA-format JPEGs (178 x 218, 000001.jpg ...) of synthetic faces, with a partition file."""
    from PIL import Image

    from latentkit.ingest.synthetic import render_faces, synthetic_factors

    images = folder / "img_align_celeba"
    images.mkdir(parents=True)
    faces = render_faces(synthetic_factors(0, 0, n)[0], 148)
    for i, face in enumerate(faces):
        canvas = np.full((218, 178, 3), 120, np.uint8)
        canvas[40:188, 15:163] = face
        Image.fromarray(canvas).save(images / f"{i + 1:06d}.jpg", quality=90)
    (folder / "list_eval_partition.txt").write_text("".join(f"{i + 1:06d}.jpg {i % 3}\n" for i in range(n)))
    return folder


def tree_digest(root: Path, skip=(".lock",)) -> dict[str, str]:
    """SHA-256 of every file below ``root`` (lock files aside: they are not outputs)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(skip)
    }


def zarr_equal(a: Path, b: Path) -> bool:
    import zarr

    ga, gb = zarr.open_group(a, mode="r"), zarr.open_group(b, mode="r")
    if sorted(ga.array_keys()) != sorted(gb.array_keys()):
        return False
    return all(np.array_equal(ga[k][:], gb[k][:]) for k in ga.array_keys())


def leftovers(root: Path) -> list[str]:
    """Temp files and run locks still held below ``root`` after the job finished."""
    import fcntl

    found = [str(p) for p in root.rglob("*") if p.name.endswith((".tmp", ".partial"))]
    for lock in root.rglob("locks/*.lock"):
        with open(lock, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
            except BlockingIOError:
                found.append(f"{lock} (held)")
    return found


class Setup:
    """Inputs shared by every trial, and each job's command, output and comparison."""

    def __init__(self, root: Path, *, faces: int = 8192, jpegs: int = 200, stage_mib: int = 256) -> None:
        from latentkit.ingest.prepare import prepare_synthetic
        from latentkit.model.train import train

        self.root = root
        self.store = root / "store.zarr"
        prepare_synthetic(out=self.store, n=512, size=32, chunk=64)
        self.celeba = make_jpegs(root / "celeba", jpegs)
        self.n_faces = faces
        self.run = root / "run"
        overrides = {
            "model.image_size": 32,
            "model.z_dim": 8,
            "model.encoder_filters": [8, 16],
            "model.encoder_kernels": [3, 3],
            "model.encoder_strides": [2, 2],
            "model.decoder_filters": [8, 3],
            "model.decoder_kernels": [3, 3],
            "model.decoder_strides": [2, 2],
            "train.batch": 16,
            "train.epochs": 1,
        }
        train(data=self.store, run=self.run, job="demo", overrides=overrides)
        self.big = root / "big.bin"  # something for stage to copy
        with open(self.big, "wb") as handle:
            rng = np.random.default_rng(0)
            for _ in range(stage_mib // 8):
                handle.write(rng.integers(0, 256, 8 << 20, dtype=np.uint8).tobytes())

    def command(self, job: str, out: Path) -> list:
        if job == "prepare-synthetic":
            return ["prepare", "synthetic", "--n", self.n_faces, "--size", 32, "--chunk", 256, "--out", out]
        if job == "prepare-celeba":
            return ["prepare", "celeba", self.celeba, "--size", 32, "--chunk", 8, "--workers", 1, "--out", out]
        if job == "train":
            return [
                "train",
                "--data",
                self.store,
                "--run",
                out,
                "--job",
                "demo",
                *TINY,
                "--epochs",
                2,
                "--checkpoint-every",
                3,
            ]
        if job == "encode":
            return ["encode", "--run", self.run, "--chunk", 32, "--batch", 16, "--out", out]
        if job == "stage":
            return ["stage", self.big, out]
        if job == "sync":
            return ["sync", self.run, out]
        raise ValueError(job)

    def same(self, job: str, reference: Path, out: Path) -> bool:
        if job.startswith("prepare") or job == "encode":
            return zarr_equal(reference, out)
        if job == "stage":
            return reference.read_bytes() == out.read_bytes()
        if job == "sync":
            return tree_digest(reference) == tree_digest(out)
        from latentkit.model import checkpoint

        a, b = (checkpoint.load(p / "checkpoints")[0] for p in (reference, out))
        return a.meta["epoch"] == b.meta["epoch"] and all(
            np.allclose(x, y, rtol=1e-5, atol=1e-6) for x, y in zip(a.model, b.model)
        )


def run_to_completion(command: list, duration: float, kills: int, rng: random.Random, signals) -> tuple[int, int]:
    """Start, kill at a random moment, restart... then let it finish. Returns (kills, stops)."""
    killed = stopped = 0
    while True:
        process = subprocess.Popen(
            [sys.executable, "-m", "latentkit", *map(str, command)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if killed + stopped < kills:
            try:
                process.wait(timeout=rng.uniform(0.3, 1.0) * duration)
            except subprocess.TimeoutExpired:
                sig = rng.choice(signals)
                process.send_signal(sig)
                killed, stopped = (killed + 1, stopped) if sig == signal.SIGKILL else (killed, stopped + 1)
        error = process.communicate()[1]
        if process.returncode == 0:
            return killed, stopped
        if process.returncode > 0 and process.returncode != 75:
            raise SystemExit(f"{command[0]} failed with {process.returncode}: {error[-2000:]}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--kills", type=int, default=5, help="interruptions per trial before it may finish")
    parser.add_argument("--jobs", default=",".join(JOBS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="small inputs (the test suite's short run)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    totals = {}
    with tempfile.TemporaryDirectory(prefix="latentkit-faults-") as scratch:
        setup = Setup(Path(scratch), **(dict(faces=2048, jpegs=48, stage_mib=32) if args.small else {}))
        print(
            f"{'job':18s} {'trials':>6s} {'kills':>6s} {'stops':>6s} {'mismatches':>10s} {'leftovers':>9s} {'ref s':>6s}"
        )
        for job in args.jobs.split(","):
            reference = setup.root / f"{job}-reference" / "output"
            reference.parent.mkdir()
            started = time.perf_counter()
            cli(*setup.command(job, reference))
            duration = time.perf_counter() - started
            signals = (
                [signal.SIGKILL, signal.SIGKILL, signal.SIGTERM, signal.SIGUSR2] if job == "train" else [signal.SIGKILL]
            )
            row = {"trials": 0, "kills": 0, "stops": 0, "mismatches": 0, "leftovers": 0, "reference_s": duration}
            for trial in range(args.trials):
                out = setup.root / f"{job}-{trial}" / "output"  # a folder per trial: leftovers are its own
                out.parent.mkdir()
                kills, stops = run_to_completion(setup.command(job, out), duration, args.kills, rng, signals)
                row["trials"] += 1
                row["kills"] += kills
                row["stops"] += stops
                if not setup.same(job, reference, out):
                    row["mismatches"] += 1
                    print(f"  mismatch: {job} trial {trial}", flush=True)
                left = leftovers(out.parent) + (leftovers(setup.run) if job == "encode" else [])
                row["leftovers"] += len(left)
                for item in left:
                    print(f"  leftover: {item}", flush=True)
                shutil.rmtree(out.parent)
            totals[job] = row
            print(
                f"{job:18s} {row['trials']:6d} {row['kills']:6d} {row['stops']:6d} {row['mismatches']:10d} "
                f"{row['leftovers']:9d} {duration:6.1f}",
                flush=True,
            )
    kills = sum(r["kills"] + r["stops"] for r in totals.values())
    bad = sum(r["mismatches"] + r["leftovers"] for r in totals.values())
    print(
        f"total: {kills} interruptions, {sum(r['mismatches'] for r in totals.values())} mismatches, "
        f"{sum(r['leftovers'] for r in totals.values())} leftovers"
    )
    return {"jobs": totals, "interruptions": kills, "bad": bad}


if __name__ == "__main__":
    main()
