"""Ingest throughput and peak RSS, both sides of each comparison in one run.

    python bench/ingest.py [--synthetic 100000] [--jpegs 6000] [--photos 600] [--rounds 3]

1. `prepare synthetic` of N faces: images/s and peak RSS (own subprocess).
2. `prepare celeba` on CelebA-format 178x218 JPEGs with one decoding thread, at --size 96
   and 64, against a bare loop of the same decode + crop + resize on the same files (the
   per-core decode limit): images/s per core, their ratio (goal >= 0.95), peak RSS. At 64
   the JPEGs are decoded at half scale (Image.draft); the full decode's rate and the mean
   pixel difference between the two are printed too.
3. `prepare images` on a folder of mixed-size photos (JPEG and PNG, 300 to 1,200 px, nested),
   one decoding thread, against the bare loop: images/s and ratio.
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
from latentkit.machine.monitor import peak_rss_mb
{setup}
start = time.perf_counter()
{body}
print(json.dumps({{"seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}}))
"""


def child(body: str) -> dict:
    """Run ``body`` in a fresh interpreter; its import lines run before the clock starts, so
    both sides of a comparison time only their work, not loading zarr or Pillow."""
    lines = body.splitlines()
    setup = "\n".join(line for line in lines if line.startswith(("from ", "import ")))
    work = "\n".join(line for line in lines if not line.startswith(("from ", "import ")))
    script = CHILD.format(setup=setup, body=work)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_jpegs(folder: Path, n: int) -> None:
    """Photo-like CelebA stand-ins: synthetic faces upscaled to 178x218 with sensor noise."""
    from latentkit.ingest.synthetic import render_faces, synthetic_factors

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
    parser.add_argument("--photos", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per comparison (best of each side)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synth = child(
            f"from latentkit.ingest.prepare import prepare_synthetic\n"
            f"prepare_synthetic(out={str(tmp / 's.zarr')!r}, n={args.synthetic})"
        )
        print(
            f"synthetic  {args.synthetic:,} faces: {synth['seconds']:.1f} s, "
            f"{args.synthetic / synth['seconds']:,.0f} images/s, peak RSS {synth['peak_rss_mb']:,.0f} MB"
        )
        make_jpegs(tmp / "celeba", args.jpegs)
        folder = tmp / "celeba" / "img_align_celeba"
        size_kb = np.mean([p.stat().st_size for p in folder.iterdir()]) / 1024
        print(f"celeba     {args.jpegs:,} JPEGs 178x218 (~{size_kb:.1f} KB each), one decoding thread:")
        for size in (96, 64):
            loop = (
                "from pathlib import Path\nfrom latentkit.ingest.decoding import decode_image\n"
                f"for p in sorted(Path({str(folder)!r}).iterdir()):\n"
                f"    decode_image(p.read_bytes(), crop=(15, 40, 163, 188), size={size}, draft={{draft}})"
            )
            bares, jobs = [], []
            for round_ in range(args.rounds):  # interleaved: this machine's speed drifts by tens of percent
                bare = child(loop.format(draft=True))
                job = child(
                    f"from latentkit.ingest.prepare import prepare_celeba\n"
                    f"prepare_celeba(src={str(tmp / 'celeba')!r}, "
                    f"out={str(tmp / f'c{size}_{round_}.zarr')!r}, size={size}, workers=1)"
                )
                bares.append(args.jpegs / bare["seconds"])
                jobs.append(args.jpegs / job["seconds"])
            bare_rate, job_rate = max(bares), max(jobs)
            print(
                f"  --size {size}: decode+crop+resize loop {', '.join(f'{r:,.0f}' for r in bares)} images/s; "
                f"prepare celeba job {', '.join(f'{r:,.0f}' for r in jobs)} images/s, "
                f"peak RSS {job['peak_rss_mb']:,.0f} MB; best/best ratio {job_rate / bare_rate:.2f}"
            )
            if size * 2 <= 148:
                full = child(loop.format(draft=False))
                full_rate = args.jpegs / full["seconds"]
                print(
                    f"    full-scale decode {full_rate:,.0f} images/s: reduced-scale decode is "
                    f"{bare_rate / full_rate:.2f}x faster; mean |pixel difference| "
                    f"{pixel_difference(folder, size):.2f} grey levels"
                )
        make_photos(tmp / "photos", args.photos)
        loop = (
            "from latentkit.ingest.decoding import decode_image\nfrom latentkit.ingest.sources import open_source, is_image_name\n"
            f"s = open_source({str(tmp / 'photos')!r})\n"
            "for f in s.files:\n    if is_image_name(f): decode_image(s.read(f), crop='center', size=96)"
        )
        bares, jobs = [], []
        for round_ in range(args.rounds):
            bares.append(args.photos / child(loop)["seconds"])
            job = child(
                f"from latentkit.ingest.prepare import prepare_images\n"
                f"prepare_images(src={str(tmp / 'photos')!r}, out={str(tmp / f'p{round_}.zarr')!r}, "
                f"workers=1)"
            )
            jobs.append(args.photos / job["seconds"])
        bare_rate, job_rate = max(bares), max(jobs)
        print(f"images     {args.photos:,} mixed photos (JPEG/PNG, 300-1,200 px), one decoding thread, --size 96:")
        print(
            f"  decode+crop+resize loop {', '.join(f'{r:,.0f}' for r in bares)} images/s; prepare images job "
            f"{', '.join(f'{r:,.0f}' for r in jobs)} images/s, peak RSS {job['peak_rss_mb']:,.0f} MB; "
            f"best/best ratio {job_rate / bare_rate:.2f}"
        )


def pixel_difference(folder: Path, size: int, n: int = 300) -> float:
    from latentkit.ingest.decoding import decode_image

    diffs = []
    for path in sorted(folder.iterdir())[:n]:
        data = path.read_bytes()
        a = decode_image(data, crop=(15, 40, 163, 188), size=size).astype(int)
        b = decode_image(data, crop=(15, 40, 163, 188), size=size, draft=False).astype(int)
        diffs.append(np.abs(a - b).mean())
    return float(np.mean(diffs))


def make_photos(folder: Path, n: int) -> None:
    """Photo-like files of mixed sizes and formats in nested folders."""
    from latentkit.ingest.synthetic import render_faces, synthetic_factors

    rng = np.random.default_rng(1)
    faces = render_faces(synthetic_factors(1, 0, n)[0], 256)
    for i, face in enumerate(faces):
        w, h = (int(v) for v in rng.integers(300, 1200, 2))
        image = Image.fromarray(face).resize((w, h), Image.Resampling.BILINEAR)
        noisy = np.clip(np.asarray(image) + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8)
        target = folder / f"set{i % 7}"
        target.mkdir(parents=True, exist_ok=True)
        if i % 5 == 0:
            Image.fromarray(noisy).save(target / f"photo_{i}.png")
        else:
            Image.fromarray(noisy).save(target / f"photo_{i}.jpg", quality=88)


if __name__ == "__main__":
    main()
