"""Why an AE's latent cloud sits off the origin, or does not (BENCHMARKS.md, "The demo").

    python bench/off_centre.py RUN [RUN ...] [--n 3000]

For each run (an AE whose encoder ends Flatten -> Dense "z"), on the first N images of its
data store: the features h entering the Dense layer, their mean energy against their
variance (|E h|^2 / tr Cov h), the share of exactly-zero features, and the z-components'
centres against their spreads. A component's centre is W^T E[h] + bias: the larger the
features' common mean, the farther the components whose weights line up with it sit from 0.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--n", type=int, default=3000, help="images from the start of the run's store")
    args = parser.parse_args()

    import keras

    from latentkit import store
    from latentkit.model.codec import load_model
    from latentkit.model.runs import read_run
    from latentkit.store.reading import UNIT_SCALE

    print(
        f"{'run':28s} {'activation':>10s} {'|Eh|^2/trCov':>12s} {'zero h':>7s} {'max|c|/sd':>9s} "
        f"{'median|c|/sd':>12s} {'corr(c, W^T Eh)':>15s}"
    )
    for run in args.runs:
        described = read_run(run)
        model, meta = load_model(run, described), described.saved.meta
        encoder = model.encoder
        flatten = next(layer for layer in encoder.layers if isinstance(layer, keras.layers.Flatten))
        features = keras.Model(encoder.inputs, flatten.output)
        x = store.open_store(meta["data"])["images"][: args.n].astype("float32") * UNIT_SCALE
        h = np.asarray(features.predict(x, batch_size=256, verbose=0), np.float64)
        z = np.asarray(encoder.predict(x, batch_size=256, verbose=0), np.float64)
        mean, var = h.mean(0), h.var(0)
        centre, sd = z.mean(0), z.std(0)
        from_features = encoder.get_layer("z").get_weights()[0].T @ mean
        activation = meta.get("spec", {}).get("model", {}).get("activation", "?")
        print(
            f"{run[-28:]:28s} {activation:>10s} {(mean**2).sum() / var.sum():12.2f} {(h == 0).mean():7.2f} "
            f"{(np.abs(centre) / sd).max():9.2f} {np.median(np.abs(centre) / sd):12.2f} "
            f"{np.corrcoef(from_features, centre)[0, 1]:15.3f}"
        )


if __name__ == "__main__":
    main()
