"""Make the documentation's gallery from a demo run: its figures and grids copied into
docs/gallery/, screenshots of its report page and its explorer taken by headless Chromium, and docs/gallery.md
listing them, each with a caption (what it shows, what to look for) and the command that makes
it. Nothing is pasted by hand.

    python docs/make_gallery.py [--dir latentkit-demo] [--n 16384] [--epochs 15]
    python docs/make_gallery.py --page-only [--n 16384]   # only docs/gallery.md, from the pictures there

Runs ``latentkit demo --dir DIR`` first (it resumes: a finished demo costs nothing), so the
gallery always shows what the demo makes; the explorer's screenshot needs selenium and
chromedriver (the test extra, ``apt-get install chromium-driver``). ``--page-only`` rewrites
docs/gallery.md from the pictures already in docs/gallery/ (after a caption changes), running
nothing; give it the ``--n`` and ``--epochs`` the pictures were made with.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

DOCS = Path(__file__).resolve().parent
GALLERY = DOCS / "gallery"
RUN = "latentkit-demo/run"  # the run the commands name: the demo's, at its default --dir
ANALYZE = "latentkit analyze --run " + RUN  # what writes RUN/analysis/*.png (the demo runs it with smaller samples)


class Picture(NamedTuple):
    source: str  # the file in the demo's run
    title: str
    caption: str  # what it shows, then what to look for
    command: str  # what makes it (a bash block; RUN is the demo's run)


# The sections, in the order a reader meets them in the demo's findings: (heading, introduction, pictures).
SECTIONS: list[tuple[str, str, list[Picture]]] = [
    (
        "Training",
        "`train` draws the training figure after every epoch ([train](jobs/train.md)).",
        [
            Picture(
                "samples/training.png",
                "The loss terms and the probe images' latent radius",
                "Top: the loss and the reconstruction term per epoch, train (black) and valid (orange); the "
                "demo's model is an AE, so the two are one curve. Bottom: the mean latent radius of 256 fixed "
                "valid images, ± its std. **Look for:** the valid loss turning up while the train loss falls "
                "(overfitting: `train` warns of it and keeps the best epoch), and jumps of the radius (training "
                "instability: keep the checkpoints around them with `--keep-every`).",
                "latentkit train --data latentkit-demo/data.zarr --run " + RUN + " \\\n    --job demo",
            ),
        ],
    ),
    (
        "The cloud",
        "`analyze` draws these into `RUN/analysis/` ([analyze](jobs/analyze.md)). The demo runs it with "
        "smaller samples than the defaults; this gives its pictures:\n\n```bash\n"
        + ANALYZE
        + " \\\n    --tsne-sample 2000 --kmeans-sample 2000 --kmeans-max 30 --sample 4000 \\\n"
        "    --nn-sample 2000 --quality-sample 2000 --reconstruction-images 1000\n```",
        [
            Picture(
                "analysis/radius.png",
                "Radius of the data's z-points against every generator's",
                "The distance from the origin of the data's z-points (black, shaded) and of each generator's, "
                "each curve scaled to peak 1, in 128 dimensions. **Look for:** each uniform generator's radii form "
                "a thin shell at b·√(N/3), as do the standard normal's (near √128 ≈ 11), while the data's "
                "spread wide; the fitted normal, the mixture and the kernel density follow the data's spread.",
                ANALYZE,
            ),
            Picture(
                "analysis/radius_vs_dim.png",
                "Radius against the dimension N, for uniform and normal z-points",
                "Each generator's radius for N = 3 to 2048: lines the formulas with ±1 sd bands, dots drawn at "
                "random, the star the data at its own N = 128. **Look for:** the shells grow as √N while their "
                "width stays put, so in many dimensions each is thin; where the data's star sits among them.",
                ANALYZE,
            ),
            Picture(
                "analysis/components.png",
                "Histograms of every latent component",
                "One line per component (128), all on one range. **Look for:** most are bumps around 0; the "
                "few off-centre or wide ones are the dominant components, next.",
                ANALYZE,
            ),
            Picture(
                "analysis/dominant.png",
                "The dominant components: off-centre or wide",
                "The components whose centre or width lies more than 3.5 robust z-scores from the rest "
                "(solid), with their Gaussian fits (dashed). **Look for:** how far off-centre they sit (eight "
                "at ±2 to ±5 here, one wide): the region hit test's box is built from these centres and "
                "half-widths.",
                ANALYZE,
            ),
            Picture(
                "analysis/ellipses.png",
                "The fitted normal's 1, 2, 3 sigma ellipses over the most correlated pairs",
                "The three most correlated pairs of components: a sample of the points, histogram and kernel "
                "density contours, and the fitted normal's ellipses with the share of all points inside each, "
                "against a 2-D Gaussian's 39.3 / 86.5 / 98.9 %. **Look for:** shares close to the Gaussian's "
                "(41.0 / 86.6 / 98.5 % for the strongest pair here, r = −0.95) say the pair is close to a 2-D "
                "normal; a share well off says it is not.",
                ANALYZE,
            ),
            Picture(
                "analysis/pc_ellipses.png",
                "The same in principal-component coordinates",
                "The same panels for pairs of principal components (`--pc-pairs`, default 0:1, 0:2, 2:5). "
                "**Look for:** 1-σ shares of 35–37 % against the Gaussian's 39.3 % and 3-σ shares above its "
                "98.9 %: fewer points at the centre and in the far tails than a normal has.",
                ANALYZE,
            ),
            Picture(
                "analysis/pca.png",
                "PCA: explained variance, also after trimming",
                "The explained variance ratio per principal component (bars), its cumulative (black) and the "
                "cumulative of the clouds trimmed at 1.25, 1.5 and 1.8 half-widths (dashed, `--trim`; the kept "
                "points in the legend). **Look for:** how few PCs hold most of the variance, and whether "
                "trimming the outskirts changes that (hardly, here).",
                ANALYZE,
            ),
            Picture(
                "analysis/pc_histograms.png",
                "Principal components with their Gaussian fits",
                "Histograms of the first eight PCs (`--pc-fits 0-7`) with Gaussian fits (dashed), each one's "
                "sigma in its title (numbered from 1 in this older picture). **Look for:** skew or shoulders "
                "that the fit misses, as in the third panel.",
                ANALYZE,
            ),
            Picture(
                "analysis/nn_distances.png",
                "Nearest-neighbour distances: the data against the fitted normal",
                "Each point's distance to its nearest neighbour, for 2,000 data points (black) and as many "
                "drawn from the fitted normal and the mixture; the median ratio in the legend. **Look for:** "
                "a ratio well below 1 (0.79 and 0.81 here): the data crowd along thin structures that the "
                "normal smears out. About 1 would be one smooth blob.",
                ANALYZE,
            ),
            Picture(
                "analysis/tsne.png",
                "t-SNE of a sample",
                "openTSNE of 2,000 points (`--tsne-sample`), after PCA to 50 components. **Look for:** "
                "clusters or strands; the demo's synthetic faces give one round blob.",
                ANALYZE,
            ),
            Picture(
                "analysis/kmeans.png",
                "KMeans inertia and its elbow",
                "MiniBatchKMeans inertia for k = 2 … 30 on 2,000 points, with the elbow it finds (red, "
                "k = 10 here). **Look for:** a sharp bend says the data fall into that many clusters; a smooth "
                "curve, as here, says no k stands out.",
                ANALYZE,
            ),
        ],
    ),
    (
        "Where the holes are",
        "`analyze`'s quality stage, on by default; with `--run` it decodes and re-encodes too "
        "([Where the holes are](guides/holes.md)).",
        [
            Picture(
                "analysis/coverage.png",
                "Coverage of the data by each generator",
                "Precision, recall, density and coverage (k = 5, 2,000 points per set) of each generator "
                "against the data. **Look for:** the uniform boxes, N(0, I) and the per-component normals put "
                "no point inside the data's neighbourhoods (precision and coverage 0: their points land in "
                "holes); the fitted normal, the mixture and the kernel density cover part of the data, the "
                "mixture most.",
                ANALYZE,
            ),
            Picture(
                "analysis/reencoding.png",
                "Re-encoding distances: points in holes come back far away",
                "Each generator's 256 z-points decoded and encoded again: the median (bar) and the 90th "
                "percentile (tick) of ‖E(D(z)) − z‖, against the data's own median (dashed). **Look for:** how "
                "many times the data's own distance each generator's points come back: about 2–3× for the "
                "mixture and the fitted normal, over 10× for uniform b = 5.",
                ANALYZE,
            ),
            Picture(
                "analysis/reencoded_faces.png",
                "Decoded z-points that re-encode nearest and farthest",
                "Per generator, the decoded z-points that came back nearest (left) and farthest (right), the "
                "distance over each. **Look for:** the fitted normal's and the mixture's nearest are clean "
                "faces; the uniform boxes' and N(0, I)'s decode to smudges — what the holes hold.",
                ANALYZE,
            ),
            Picture(
                "analysis/lattice.png",
                "Decode anywhere: the PC0-PC1 lattice, each cell framed by its re-encoding distance",
                "`latentkit lattice`: 12 × 12 z-points over the plane of the two largest PCs (±3 sd; labelled "
                "PC1–PC2 in this older picture), each decoded and framed in the colour of its re-encoding "
                "distance, in units of the data's own median; right, the same colours on the data's density "
                "([lattice](jobs/lattice.md)). **Look for:** dark frames where the lattice leaves the data — "
                "the corners here.",
                "latentkit lattice --run " + RUN,
            ),
        ],
    ),
    (
        "Decoded faces",
        "The demo's grids in `RUN/samples/` ([generate, reconstruct, interpolate](jobs/generate.md)).",
        [
            Picture(
                "samples/reconstructions.png",
                "Valid-partition faces above their reconstructions",
                "16 faces drawn at random from the valid partition (rows 1 and 3) and their reconstructions "
                "(rows 2 and 4). **Look for:** each face's features kept: the findings' first row measures it "
                "(valid RMSE).",
                "latentkit reconstruct --run " + RUN + " --out reconstructions.png",
            ),
            Picture(
                "samples/generated_mvn.png",
                "Faces decoded from the fitted normal's z-points",
                "28 z-points drawn from the fitted multivariate normal, decoded and sharpened. **Look for:** "
                "faces, nearly all: the fitted normal lands near the data.",
                "latentkit generate --run " + RUN + " --method mvn --sharpen 2 \\\n    --out generated_mvn.png",
            ),
            Picture(
                "samples/generated_uniform_b3.png",
                "Faces decoded from uniform z-points (b = 3)",
                "28 z-points uniform in [−3, 3] per component, decoded. **Look for:** few faces: uniform "
                "points land outside the data's region (the hit test finds none inside it), in its holes.",
                "latentkit generate --run " + RUN + " --method uniform --b 3 \\\n    --out generated_uniform_b3.png",
            ),
            Picture(
                "samples/interpolation.png",
                "A straight path between two faces' z-points",
                "Two valid faces drawn at random, their own images at the ends and 10 decoded steps between "
                "them. **Look for:** a face at every step, changing smoothly.",
                "latentkit interpolate --run " + RUN + " --out interpolation.png",
            ),
        ],
    ),
]

REPORT_PAGE = Picture(
    "analysis/report.html",
    "The report page",
    "`RUN/analysis/report.html` as headless Chromium shows it at 1,400 × 1,000 pixels: the t-SNE map of "
    "1,500 faces (each dot its own image), the menu that colours them, the rows a lasso selects and the "
    "button that saves them, the decoded PC lattice and the start of the findings table. **Look for:** "
    "hover a face for its reconstruction and labels, click the legend to show the generators' points on "
    "the map ([report](jobs/report.md)). This is a still: the live page is one self-contained HTML file "
    "of over 10 MB, too large to ship with these docs. Open your own: after `latentkit demo`, open "
    "`latentkit-demo/run/analysis/report.html` in any browser; it needs no server and no network.",
    "latentkit report --run " + RUN + " --points 1500",
)


EXPLORER = Picture(
    "",
    "The explorer",
    "`latentkit explore` serving the demo's run, as headless Chromium shows it 1,400 pixels wide "
    "after a click on the PC0-PC1 plane, a second click farther out and a click on the t-SNE map: the two "
    "maps over the data's density with faces on them, the face decoded at the last point with its "
    "re-encoding distance and its distance to the nearest real latent, the nearest real images and their "
    "decodings, the sliders, and the walk from the second click to that real image, each step framed by "
    "its re-encoding distance. **Look for:** dark frames where the straight path leaves the data "
    "([explore](jobs/explore.md)). This is a still: the live page needs the run and its model.",
    "latentkit explore --run " + RUN,
)


def explorer_screenshot(run: Path, out: Path) -> None:
    """The explorer of ``run`` served as a user starts it and shown in headless Chromium (Selenium,
    the test extra's): two clicks on the plane and one on the t-SNE map, then the screenshot."""
    import os
    import signal
    import time

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains

    server = subprocess.Popen(
        [sys.executable, "-m", "latentkit", "explore", "--run", str(run), "--port", "0"],
        stdout=subprocess.PIPE,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1250"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        line = ""
        while "http://" not in line:
            line = server.stdout.readline().decode()  # type: ignore[union-attr]
            if not line and server.poll() is not None:
                raise SystemExit("latentkit explore ended before it served")
        browser.get(line.split()[1])
        time.sleep(3)
        for plot, fx, fy in (("plane", 0.45, 0.55), ("plane", 0.85, 0.2), ("tsne", 0.5, 0.5)):
            canvas, dx, dy = browser.execute_script(
                "const plot = Bokeh.documents[0].get_model_by_name(arguments[0]);"
                "const view = Bokeh.index.find_one(plot), canvas = view.canvas_view.el;"
                "const r = canvas.getBoundingClientRect(), x = plot.x_range, y = plot.y_range;"
                "return [canvas, view.frame.x_scale.compute(x.start + arguments[1] * (x.end - x.start)) - r.width / 2,"
                " view.frame.y_scale.compute(y.start + arguments[2] * (y.end - y.start)) - r.height / 2];",
                plot,
                fx,
                fy,
            )
            ActionChains(browser).move_to_element_with_offset(canvas, int(dx), int(dy)).click().perform()
            time.sleep(3)
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(out))
    finally:
        browser.quit()
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


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


def _entry(picture: Picture, image: str, level: str = "###") -> list[str]:
    return [
        f"{level} {picture.title}",
        "",
        f"![{picture.title}](gallery/{image})",
        "",
        picture.caption,
        "",
        "```bash",
        picture.command,
        "```",
        "",
    ]


def page(made_by: str) -> str:
    """docs/gallery.md: every picture in docs/gallery/ under its section, with its caption and command."""
    lines = [
        "# Gallery",
        "",
        f"Made by `{made_by}` from the demo's run; every picture is one the demo writes "
        "(`latentkit demo`), the report page as headless Chromium shows it. Each caption says what "
        f"the picture shows and what to look for; under it, the command that makes it on the demo's run "
        f"(`{RUN}`: use your own run's folder).",
        "",
    ]
    if (GALLERY / "report_page.png").exists():
        lines += _entry(REPORT_PAGE, "report_page.png", level="##")
    if (GALLERY / "explore.png").exists():
        lines += _entry(EXPLORER, "explore.png", level="##")
    for heading, introduction, pictures in SECTIONS:
        present = [p for p in pictures if (GALLERY / Path(p.source).name).exists()]
        if not present:
            continue
        lines += [f"## {heading}", "", introduction, ""]
        for picture in present:
            lines += _entry(picture, Path(picture.source).name)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path("latentkit-demo"))
    parser.add_argument("--n", type=int, default=16_384)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--page-only", action="store_true", help="only rewrite docs/gallery.md; run nothing")
    args = parser.parse_args()
    made_by = f"python docs/make_gallery.py --n {args.n}" + (f" --epochs {args.epochs}" if args.epochs else "")
    if not args.page_only:
        demo = [sys.executable, "-m", "latentkit", "demo", "--dir", str(args.dir), "--n", str(args.n)]
        subprocess.run(demo + (["--epochs", str(args.epochs)] if args.epochs else []), check=True)
        run = args.dir / "run"
        GALLERY.mkdir(exist_ok=True)
        screenshot(run / REPORT_PAGE.source, GALLERY / "report_page.png")
        explorer_screenshot(run, GALLERY / "explore.png")
        for _heading, _introduction, pictures in SECTIONS:
            for picture in pictures:
                source = run / picture.source
                if not source.exists():
                    print(f"note: {source} is missing (not written by this demo): left out", file=sys.stderr)
                    continue
                shutil.copyfile(source, GALLERY / source.name)
    (DOCS / "gallery.md").write_text(page(made_by), encoding="utf-8")
    print(f"gallery: {len(list(GALLERY.glob('*.png')))} pictures -> {GALLERY}, {DOCS / 'gallery.md'}")


if __name__ == "__main__":
    main()
