"""Analysis at scale: the report for 200,000 x 256 latents, and t-SNE libraries compared.

    python bench/analyze_scale.py [--n 200000] [--dim 256] [--tsne 20000] [--tsne-large 165000] [--no-sklearn]
                                  [--only-analyze]

Latents are a correlated multivariate normal written as a zarr array (chunks of 20,000
rows). Each measurement runs in its own subprocess, so its peak RSS is its own:

1. ``analyze`` without t-SNE and without the quality stage (KMeans on its default 20,000-point
   sample included), then with the quality stage (coverage of every generator, fragments,
   intrinsic dimensions on 4,000-point samples), then with everything on (t-SNE too): seconds,
   peak RSS.
2. t-SNE of 20,000 points (PCA to 50 dims first, as analyze does): openTSNE vs scikit-learn's TSNE.
3. openTSNE on 165,000 points.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _common import child

ANALYZE = """
import json, time
from latentkit.analysis.analyze import AnalyzeOptions, analyze
from latentkit.machine.monitor import peak_rss_mb
t = time.perf_counter()
analyze(latents={latents!r}, out={out!r}, options=AnalyzeOptions({options}))
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": peak_rss_mb()}}))
"""

TSNE = """
import json, os, time
import numpy as np, zarr
from latentkit.machine.monitor import peak_rss_mb
x = zarr.open_array({latents!r}, mode="r")[:{n}].astype(np.float64)
x = (x - x.mean(0)) @ np.linalg.eigh(np.cov(x, rowvar=False))[1][:, ::-1][:, :50]
t = time.perf_counter()
if {library!r} == "openTSNE":
    from openTSNE import TSNE
    TSNE(n_jobs=os.cpu_count(), random_state=0).fit(x)
else:
    from sklearn.manifold import TSNE
    TSNE(random_state=0, n_jobs=os.cpu_count()).fit_transform(x)
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": peak_rss_mb()}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--tsne", type=int, default=20_000)
    parser.add_argument("--tsne-large", type=int, default=165_000)
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--only-analyze", action="store_true", help="skip the t-SNE libraries' comparison")
    args = parser.parse_args()
    import zarr

    with tempfile.TemporaryDirectory() as tmp:
        latents = str(Path(tmp) / "z.zarr")
        rng = np.random.default_rng(0)
        root = rng.normal(size=(args.dim, args.dim)) * 0.1 + np.eye(args.dim)
        mean = rng.normal(size=args.dim) * 0.5
        array = zarr.create_array(latents, shape=(args.n, args.dim), chunks=(20_000, args.dim), dtype="float32")
        for start in range(0, args.n, 20_000):
            rows = min(20_000, args.n - start)
            array[start : start + rows] = (mean + rng.normal(size=(rows, args.dim)) @ root.T).astype(np.float32)
        for what, options in (
            ("without t-SNE and quality", "tsne=False, quality=False"),
            ("without t-SNE, with quality", "tsne=False"),
            ("with everything on", ""),
        ):
            result = child(
                ANALYZE.format(latents=latents, out=str(Path(tmp) / f"analysis-{len(options)}"), options=options)
            )
            print(
                f"analyze {args.n:,} x {args.dim} {what}: {result['seconds']:.1f} s, "
                f"peak RSS {result['peak_rss_mb']:,.0f} MB  (goal: bounded memory, under 1,536 MB)",
                flush=True,
            )
        if args.only_analyze:
            return
        sides = [("openTSNE", args.tsne)] + ([] if args.no_sklearn else [("scikit-learn", args.tsne)])
        sides.append(("openTSNE", args.tsne_large))
        times = {}
        for library, n in sides:
            r = child(TSNE.format(latents=latents, n=n, library=library))
            times[(library, n)] = r["seconds"]
            print(
                f"t-SNE {library:12s} {n:>8,} points (PCA 50): {r['seconds']:7.1f} s, "
                f"peak RSS {r['peak_rss_mb']:,.0f} MB",
                flush=True,
            )
        if ("scikit-learn", args.tsne) in times:
            print(
                f"scikit-learn / openTSNE at {args.tsne:,}: "
                f"{times[('scikit-learn', args.tsne)] / times[('openTSNE', args.tsne)]:.1f}x"
            )


if __name__ == "__main__":
    main()
