"""Ingest throughput and peak RSS, both sides of each comparison in one run.

    python bench/ingest.py [--synthetic 100000] [--jpegs 6000]

1. `prepare synthetic` of N faces: images/s and peak RSS (own subprocess).
2. `prepare celeba` on CelebA-format 178x218 JPEGs with one decoding thread, against a
   bare loop of decode + crop + resize on the same files (the per-core decode limit):
   images/s per core, their ratio, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CHILD = """
import json, sys, time
from latentkit.monitor import peak_rss_mb
start = time.perf_counter()
{body}
print(json.dumps({{"seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}}))
"""


def child(body: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD.format(body=body)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_jpegs(folder: Path, n: int) -> None:
    """Photo-like CelebA stand-ins: synthetic faces upscaled to 178x218 with sensor noise."""
    from latentkit.synthetic import render_faces, synthetic_factors

    images = folder / "img_align_celeba"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for start in range(0, n, 256):
        faces = render_faces(synthetic_factors(0, start, min(n, start + 256))[0], 148)
        for j, face in enumerate(faces):
            canvas = np.full((218, 178, 3), 128, np.uint8)
            canvas[40:188, 15:163] = face
            noisy = np.clip(canvas + rng.normal(0, 6, canvas.shape), 0, 255).astype(np.uint8)
            Image.fromarray(noisy).save(images / f"{start + j + 1:06d}.jpg", quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--jpegs", type=int, default=6_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synth = child(f"from latentkit.prepare import prepare_synthetic\n"
                      f"prepare_synthetic(out={str(tmp / 's.zarr')!r}, n={args.synthetic})")  # fmt: skip
        print(f"synthetic  {args.synthetic:,} faces: {synth['seconds']:.1f} s, "
              f"{args.synthetic / synth['seconds']:,.0f} images/s, peak RSS {synth['peak_rss_mb']:,.0f} MB")  # fmt: skip
        make_jpegs(tmp / "celeba", args.jpegs)
        size_kb = np.mean([p.stat().st_size for p in (tmp / "celeba/img_align_celeba").iterdir()]) / 1024
        bare = child(
            "from pathlib import Path\nfrom latentkit.celeba import decode_face\n"
            f"for p in sorted(Path({str(tmp / 'celeba/img_align_celeba')!r}).iterdir()):\n"
            "    decode_face(p.read_bytes(), crop=(15, 40, 163, 188), size=96)"
        )
        job = child(f"from latentkit.prepare import prepare_celeba\n"
                    f"prepare_celeba(src={str(tmp / 'celeba')!r}, out={str(tmp / 'c.zarr')!r}, workers=1)")  # fmt: skip
        bare_rate, job_rate = args.jpegs / bare["seconds"], args.jpegs / job["seconds"]
        print(f"celeba     {args.jpegs:,} JPEGs 178x218 (~{size_kb:.1f} KB each), one decoding thread:")
        print(f"  decode+crop+resize loop  {bare_rate:,.0f} images/s")
        print(f"  prepare celeba job       {job_rate:,.0f} images/s, peak RSS {job['peak_rss_mb']:,.0f} MB")
        print(f"  ratio job / decode limit {job_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
