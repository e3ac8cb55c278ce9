"""Make the documentation's gallery from a demo run: its figures and grids copied into
docs/gallery/, a screenshot of its report page taken by headless Chromium, and docs/gallery.md
listing them. Nothing is pasted by hand.

    python docs/make_gallery.py [--dir latentkit-demo] [--n 16384] [--epochs 15]

Runs ``latentkit demo --dir DIR`` first (it resumes: a finished demo costs nothing), so the
gallery always shows what the demo makes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
GALLERY = DOCS / "gallery"
# (file in the run, caption): the order a reader meets them in the demo's findings
PICTURES = [
    ("analysis/radius.png", "Radius of the data's z-points against every generator's"),
    ("analysis/radius_vs_dim.png", "Radius against the dimension N, for uniform and normal z-points"),
    ("analysis/components.png", "Histograms of every latent component"),
    ("analysis/dominant.png", "The dominant components: off-centre or wide"),
    ("analysis/ellipses.png", "The fitted normal's 1, 2, 3 sigma ellipses over the most correlated pairs"),
    ("analysis/pc_ellipses.png", "The same in principal-component coordinates"),
    ("analysis/pca.png", "PCA: explained variance, also after trimming"),
    ("analysis/pc_histograms.png", "Principal components with their Gaussian fits"),
    ("analysis/nn_distances.png", "Nearest-neighbour distances: the data against the fitted normal"),
    ("analysis/coverage.png", "Coverage of the data by each generator"),
    ("analysis/reencoding.png", "Re-encoding distances: points in holes come back far away"),
    ("analysis/reencoded_faces.png", "Decoded z-points that re-encode nearest and farthest"),
    ("analysis/lattice.png", "Decode anywhere: the PC0-PC1 lattice, each cell framed by its re-encoding distance"),
    ("analysis/tsne.png", "t-SNE of a sample"),
    ("analysis/kmeans.png", "KMeans inertia and its elbow"),
    ("samples/training.png", "Training: the loss terms and the probe images' latent radius"),
    ("samples/reconstructions.png", "Valid-partition faces above their reconstructions"),
    ("samples/generated_mvn.png", "Faces decoded from the fitted normal's z-points"),
    ("samples/generated_uniform_b3.png", "Faces decoded from uniform z-points (b = 3)"),
    ("samples/interpolation.png", "A straight path between two faces' z-points"),
]


def screenshot(page: Path, out: Path) -> None:
    """report.html as Chromium renders it, headless (the Debian package; --screenshot writes a PNG)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("no chromium on PATH: apt-get install chromium (it renders the report page's screenshot)")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,1000",
            "--virtual-time-budget=15000",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path("latentkit-demo"))
    parser.add_argument("--n", type=int, default=16_384)
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    demo = [sys.executable, "-m", "latentkit", "demo", "--dir", str(args.dir), "--n", str(args.n)]
    subprocess.run(demo + (["--epochs", str(args.epochs)] if args.epochs else []), check=True)
    run = args.dir / "run"
    GALLERY.mkdir(exist_ok=True)
    lines = [
        "# Gallery",
        "",
        f"Made by `python docs/make_gallery.py --n {args.n}"
        + (f" --epochs {args.epochs}" if args.epochs else "")
        + "` from the demo's run; every picture is "
        "one the demo writes (`latentkit demo`), the report page as headless Chromium shows it.",
        "",
    ]
    screenshot(run / "analysis" / "report.html", GALLERY / "report_page.png")
    lines += ["## The report page (`latentkit report`)", "", "![The report page](gallery/report_page.png)", ""]
    for name, caption in PICTURES:
        source = run / name
        if not source.exists():
            print(f"note: {source} is missing (not written by this demo): left out", file=sys.stderr)
            continue
        target = GALLERY / Path(name).name
        shutil.copyfile(source, target)
        lines += [f"## {caption}", "", f"![{caption}](gallery/{target.name})", ""]
    (DOCS / "gallery.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"gallery: {len(list(GALLERY.glob('*.png')))} pictures -> {GALLERY}, {DOCS / 'gallery.md'}")


if __name__ == "__main__":
    main()
