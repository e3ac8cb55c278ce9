"""latentkit against what users would do instead, side by side on the same data (issue 51).

    python bench/peers.py --quick            # small sizes, about 3 minutes on two cores
    python bench/peers.py [--rounds 3]       # the issue's sizes (long)
    python bench/peers.py --quick --only generators

Five comparisons, each printing ``NAME: latentkit X, PEER Y, ratio Z`` lines (ratio: how many
times better latentkit is: peer time / latentkit time, or latentkit rate / peer rate):

1. ``feed``: images per second delivered to a step that does nothing (the feed's ceiling) and to
   the demo model's real training step, by latentkit's feed from its store (``ZarrImageDataset``),
   ``keras.utils.image_dataset_from_directory`` over the same images as JPEG files (with
   ``cache()`` and ``prefetch()``, and without ``cache()``), and the studies' way: every image as
   float32 in one array.
2. ``encode``: the encode job against ``model.predict`` over ``image_dataset_from_directory`` and
   one ``np.save`` at the end (a notebook): time and peak RSS.
3. ``analyze``: the studies' way, every latent in RAM, numpy histograms per component,
   scikit-learn's PCA and TSNE, against ``analyze``: its first two passes (the statistics that
   stand for histograms and PCA), and the whole analysis (t-SNE included) against all of theirs.
4. ``tsne``: openTSNE as analyze runs it against scikit-learn's TSNE, both maps' trustworthiness.
5. ``generators``: PRDC against the ``prdc`` package; TwoNN against scikit-dimension; the kernel
   density's bandwidth against ``KernelDensity`` with ``GridSearchCV``.

Each side runs in its own process (``_common.child``: its own peak RSS, imports outside the
clock); the sides are interleaved over ``--rounds`` rounds, best of each side compared.
The side functions are plain functions of this module: tests/test_peers_bench.py runs them in
its own process on tiny inputs so the bench cannot rot.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child

BENCH = str(Path(__file__).resolve().parent)
SESSION_BYTES = 12.7e9  # a free Colab session's RAM

QUICK = {
    "feed_n": 2_048,
    "feed_epochs": 2,  # the first fills the cache and compiles the step; the second is timed
    "encode_n": (8_192,),
    "analyze_n": 20_000,
    "dim": 256,
    "tsne_n": 1_500,
    "prdc_n": (2_000,),
    "twonn_n": 5_000,
    "kde_n": 1_000,
}
FULL = {
    "feed_n": 20_000,
    "feed_epochs": 3,
    "encode_n": (20_000, 100_000),
    "analyze_n": 200_000,
    "dim": 256,
    "tsne_n": 20_000,
    "prdc_n": (10_000, 20_000),
    "twonn_n": 20_000,
    "kde_n": 2_000,
}
TINY = {
    "feed_n": 160,  # two whole batches of 64 and a partial one, which the job's feed drops
    "feed_epochs": 2,
    "encode_n": (128,),
    "analyze_n": 2_000,
    "dim": 16,
    "tsne_n": 300,
    "prdc_n": (300,),
    "twonn_n": 500,
    "kde_n": 200,
    "analyze_options": {"figures": False},  # the tests: only the code path, without drawing
}

RUNNER = """
import json, sys
sys.path.insert(0, {bench!r})
import peers
from latentkit.machine.monitor import peak_rss_mb
result = getattr(peers, {side!r})(**{kwargs!r})
result["peak_rss_mb"] = peak_rss_mb()
print(json.dumps(result))
"""


def measure(side: str, kwargs: dict, inprocess: bool = False) -> dict:
    """Run ``side(**kwargs)`` in its own process (its own peak RSS), or here (``inprocess``: the tests)."""
    if inprocess:
        from latentkit.machine.monitor import peak_rss_mb

        return {**globals()[side](**kwargs), "peak_rss_mb": peak_rss_mb()}
    return child(RUNNER.format(bench=BENCH, side=side, kwargs=kwargs))


def interleaved(sides: dict[str, tuple[str, dict]], rounds: int, inprocess: bool = False) -> dict[str, list[dict]]:
    """Each side once per round, in turn: ``{label: [result per round]}``."""
    results: dict[str, list[dict]] = {label: [] for label in sides}
    for _ in range(rounds):
        for label, (side, kwargs) in sides.items():
            results[label].append(measure(side, kwargs, inprocess))
    return results


def best(results: list[dict], key: str, high: bool = False) -> float:
    values = [r[key] for r in results]
    return max(values) if high else min(values)


def line(name: str, ours: str, peer: str, theirs: str, ratio: float, note: str = "") -> str:
    text = f"{name}: latentkit {ours}, {peer} {theirs}, ratio {ratio:.2f}" + (f"  ({note})" if note else "")
    print(text, flush=True)
    return text


def seconds_and_rss(results: list[dict]) -> str:
    return f"{best(results, 'seconds'):.2f} s, peak RSS {best(results, 'peak_rss_mb'):,.0f} MB"


# -- data ------------------------------------------------------------------------------------


def make_images(tmp: Path, n: int, size: int) -> tuple[str, str]:
    """A synthetic store of ``n`` faces and the same images as JPEG files (quality 95) in one folder."""
    from PIL import Image

    from latentkit.ingest.prepare import prepare_synthetic
    from latentkit.store.layout import open_store

    data, jpegs = tmp / f"faces{n}.zarr", tmp / f"jpegs{n}"
    if not data.exists():
        prepare_synthetic(out=data, n=n, size=size)
        jpegs.mkdir()
        images = open_store(data)["images"]
        for start in range(0, n, 1024):
            for i, image in enumerate(images[start : start + 1024]):
                Image.fromarray(image).save(jpegs / f"{start + i:07d}.jpg", quality=95)
    return str(data), str(jpegs)


def make_latents(tmp: Path, n: int, dim: int) -> str:
    """A correlated normal cloud written as a zarr array (as bench/analyze_scale.py does)."""
    import zarr

    path = tmp / f"z{n}x{dim}.zarr"
    if not path.exists():
        rng = np.random.default_rng(0)
        root = rng.normal(size=(dim, dim)) * 0.1 + np.eye(dim)
        mean = rng.normal(size=dim) * 0.5
        array = zarr.create_array(path, shape=(n, dim), chunks=(min(n, 20_000), dim), dtype="float32")
        for start in range(0, n, 20_000):
            rows = min(20_000, n - start)
            array[start : start + rows] = (mean + rng.normal(size=(rows, dim)) @ root.T).astype(np.float32)
    return str(path)


def make_run(tmp: Path, data: str) -> str:
    """The demo model (as initialised: speed and memory do not depend on the weights) as a run."""
    from latentkit.model.fitting import write_checkpoint
    from latentkit.model.networks import build_model
    from latentkit.model.spec import load_spec

    run = tmp / "run"
    if not run.exists():
        spec = load_spec("demo")
        write_checkpoint(run, build_model(spec.model), spec, data=data, epoch=1, step=0)
    return str(run)


# -- sides: each imports outside its clock and returns what it measured ------------------------


def _demo_model():
    from latentkit.model.networks import build_model
    from latentkit.model.spec import load_spec

    spec = load_spec("demo")  # compiled as the train job compiles it, for every side
    model = build_model(
        spec.model, lr=spec.train.lr, precision=spec.train.precision, steps_per_execution=spec.train.steps_per_execution
    )
    return model, spec.train.batch


def feed_side(kind: str, data: str, jpegs: str, epochs: int, train: bool) -> dict:
    """Images per second through whole epochs of the demo's batch size: ``train`` the demo
    model's real step (the train job's ``train_steps`` for latentkit, ``fit`` for the others),
    else a step that does nothing. ``kind``: latentkit (the train job's feed: uint8 batches read
    ahead from the store), cached,
    uncached (``image_dataset_from_directory``), float32 (every image in one array). The first
    epoch's clock includes the setup (listing the files, loading the array, filling the cache);
    ``images_per_s`` is the best of the later, steady epochs."""
    import keras

    from latentkit.model.spec import load_spec

    batch = load_spec("demo").train.batch
    model = _demo_model()[0] if train else None
    started = time.perf_counter()
    if kind == "latentkit":
        from latentkit.model.dataset import ZarrImageDataset
        from latentkit.model.fitting import train_steps

        feed = ZarrImageDataset(data, batch_size=batch, partition=None, seed=0, drop_remainder=True)
        n = len(feed) * batch  # whole batches, as the job trains

        def epoch() -> None:  # what the train job runs: uint8 batches, scaled inside the compiled step
            if train:
                train_steps(model, feed, 0)
            else:
                for i in range(len(feed)):
                    feed.batch_uint8(i)
            feed.on_epoch_end()
    elif kind in ("cached", "uncached"):
        import tensorflow as tf

        ds = keras.utils.image_dataset_from_directory(
            jpegs, labels=None, batch_size=batch, image_size=(64, 64), shuffle=True, seed=0, verbose=False
        )
        n = len(ds.file_paths)
        ds = ds.map(lambda x: (x / 255.0, x / 255.0), num_parallel_calls=tf.data.AUTOTUNE)
        if kind == "cached":
            ds = ds.cache()
        ds = ds.prefetch(tf.data.AUTOTUNE)

        def epoch() -> None:
            if train:
                model.fit(ds, epochs=1, shuffle=False, verbose=0)  # shuffled by the dataset
            else:
                for _ in ds:
                    pass
    else:  # the studies' way: every image as float32 in RAM, then shuffled batches of it
        from latentkit.store.layout import open_store

        x = open_store(data)["images"][:].astype(np.float32) / 255
        n = len(x)
        rng = np.random.default_rng(0)

        def epoch() -> None:
            if train:
                model.fit(x, x, batch_size=batch, epochs=1, shuffle=True, verbose=0)
            else:
                order = rng.permutation(n)
                for i in range(0, n, batch):
                    x[np.sort(order[i : i + batch])]

    seconds = []
    for _ in range(epochs):
        epoch()
        seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
    return {"first_epoch_s": seconds[0], "images_per_s": n / min(seconds[1:] or seconds), "seconds": sum(seconds)}


def encode_side(kind: str, run: str, data: str, jpegs: str, out: str) -> dict:
    """``latentkit``: the encode job; ``predict``: ``model.predict`` over ``image_dataset_from_directory``
    and one ``np.save`` (a notebook)."""
    import shutil

    import keras  # both sides' clocks leave out importing Keras (the job imports it only after its checks)

    from latentkit.model.codec import load_model

    shutil.rmtree(out, ignore_errors=True)
    if kind == "latentkit":
        from latentkit.model.encode import encode

        started = time.perf_counter()
        encode(run=run, data=data, chunk=4096, batch=256, out=out)
        return {"seconds": time.perf_counter() - started}

    started = time.perf_counter()  # loading the model is in both sides' clocks
    model = load_model(run)
    ds = keras.utils.image_dataset_from_directory(
        jpegs, labels=None, batch_size=256, image_size=(64, 64), shuffle=False, verbose=False
    ).map(lambda x: x / 255.0)
    z = model.encoder.predict(ds, verbose=0)
    np.save(out + ".npy", z[0] if isinstance(z, list | tuple) else z)
    return {"seconds": time.perf_counter() - started}


def analyze_side(kind: str, latents: str, out: str, part: str, tsne_n: int = 0, options: dict | None = None) -> dict:
    """One part of the analysis, or all of it (``part``: "passes" or "all").

    ``latentkit``, passes: analyze's own first two passes over the store (moments, the PCA of
    their covariance, then the component, standardised, radius and PC histograms); all: the whole
    ``analyze`` (t-SNE on its ``tsne_n`` sample, k-means, mixture, kernel density, figures; the
    quality stage needs a model and is left out). ``studies``: every latent in RAM, a numpy
    histogram per component, scikit-learn's PCA, and for all scikit-learn's TSNE on ``tsne_n``
    points after PCA to 50. Times of each part."""
    import shutil

    import scipy.stats  # noqa: F401  both sides' clocks leave out importing scipy and scikit-learn
    import sklearn.decomposition
    import sklearn.manifold  # noqa: F401

    shutil.rmtree(out, ignore_errors=True)
    if kind == "latentkit" and part == "all":
        from latentkit.analysis.analyze import analyze
        from latentkit.analysis.stages.context import AnalyzeOptions

        started = time.perf_counter()
        analyze(latents=latents, out=out, options=AnalyzeOptions(quality=False, tsne_sample=tsne_n, **(options or {})))
        return {"seconds": time.perf_counter() - started}
    if kind == "latentkit":
        from dataclasses import replace

        import zarr

        from latentkit.analysis.measures.stats import bins_for, pca_from_covariance
        from latentkit.analysis.stages.context import AnalyzeOptions
        from latentkit.analysis.stages.passes import histograms_pass, moments_pass
        from latentkit.core import JobEvents

        started = time.perf_counter()
        array = zarr.open_array(latents, mode="r")
        valid, events = np.ones(array.shape[0], bool), JobEvents()
        opts = replace(AnalyzeOptions(), bins=bins_for(array.shape[0]))
        moments, _ = moments_pass(array, valid, np.arange(0, array.shape[0], 100), opts, events, latents)
        values, vectors = pca_from_covariance(moments.cov_)
        pca = time.perf_counter()
        histograms_pass(array, valid, moments, values, vectors, opts, events)
        done = time.perf_counter()
        return {"seconds": done - started, "moments_pca": pca - started, "hist": done - pca}
    import zarr
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    started = time.perf_counter()
    z = zarr.open_array(latents, mode="r")[:]
    read = time.perf_counter()
    [np.histogram(z[:, j], bins=100) for j in range(z.shape[1])]
    histograms = time.perf_counter()
    pca = PCA().fit(z)
    done = time.perf_counter()
    times = {"read": read - started, "hist": histograms - read, "pca": done - histograms}
    if part == "all":
        rows = np.sort(np.random.default_rng(0).choice(len(z), size=min(tsne_n, len(z)), replace=False))
        TSNE(random_state=0, n_jobs=os.cpu_count()).fit_transform(pca.transform(z[rows])[:, :50])
        times["tsne"] = time.perf_counter() - done
        done = time.perf_counter()
    return {"seconds": done - started, **times}


def tsne_points(latents: str, n: int) -> np.ndarray:
    """The first ``n`` latents after PCA to 50, as analyze gives t-SNE its input."""
    import zarr

    x = zarr.open_array(latents, mode="r")[:n].astype(np.float64)
    return (x - x.mean(0)) @ np.linalg.eigh(np.cov(x, rowvar=False))[1][:, ::-1][:, : min(50, x.shape[1])]


def tsne_side(kind: str, latents: str, n: int, out: str) -> dict:
    """t-SNE of ``n`` points after PCA to 50: openTSNE as analyze runs it (250 exaggerated and
    500 more iterations), or scikit-learn's TSNE (its defaults: 1,000 in all); the map saved to
    ``out`` (its trustworthiness is scored outside the side: its n x n distances are not t-SNE's memory)."""
    x = tsne_points(latents, n)
    started = time.perf_counter()
    if kind == "latentkit":
        from openTSNE import TSNE

        y = np.asarray(TSNE(n_jobs=os.cpu_count(), random_state=0, n_iter=500).fit(x))
    else:
        from sklearn.manifold import TSNE

        y = TSNE(random_state=0, n_jobs=os.cpu_count()).fit_transform(x)
    seconds = time.perf_counter() - started
    np.save(out, y)
    return {"seconds": seconds}


def _cloud(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)) @ (np.eye(dim) + 0.1 * rng.normal(size=(dim, dim)))


def prdc_side(kind: str, n: int, dim: int) -> dict:
    real, fake = _cloud(n, dim, 0), _cloud(n, dim, 1) + 0.1
    started = time.perf_counter()
    if kind == "latentkit":
        from latentkit.analysis.measures.holes import prdc

        values = prdc(real, fake, k=5)
    else:
        from prdc import compute_prdc

        values = {k: float(v) for k, v in compute_prdc(real, fake, nearest_k=5).items()}
    return {"seconds": time.perf_counter() - started, **values}


def twonn_side(kind: str, n: int, dim: int) -> dict:
    x = _cloud(n, 8, 2) @ np.random.default_rng(3).normal(size=(8, dim))  # 8 dimensions in ``dim``
    started = time.perf_counter()
    if kind == "latentkit":
        from latentkit.analysis.measures.holes import two_nn

        d = two_nn(x)
    else:
        import skdim

        d = float(skdim.id.TwoNN().fit(x).dimension_)
    return {"seconds": time.perf_counter() - started, "dimension": d}


def kde_side(kind: str, n: int, dim: int) -> dict:
    """The bandwidth by 3-fold cross-validated likelihood over the same candidates on the same
    standardised points: ``Kde.fit`` or ``GridSearchCV(KernelDensity(), ...)`` as its docs show."""
    from latentkit.analysis.generators.kde import BANDWIDTHS, Kde

    x = _cloud(n, dim, 4)
    started = time.perf_counter()
    if kind == "latentkit":
        bandwidth = Kde.fit(x).bandwidth
    else:
        from sklearn.model_selection import GridSearchCV, KFold
        from sklearn.neighbors import KernelDensity

        standard = (x - x.mean(axis=0)) / x.std(axis=0)
        search = GridSearchCV(
            KernelDensity(), {"bandwidth": BANDWIDTHS}, cv=KFold(3, shuffle=True, random_state=0)
        ).fit(standard)
        bandwidth = float(search.best_params_["bandwidth"])
    return {"seconds": time.perf_counter() - started, "bandwidth": bandwidth}


# -- the comparisons ---------------------------------------------------------------------------


def compare_feed(tmp: Path, sizes: dict, rounds: int, inprocess: bool = False) -> list[str]:
    data, jpegs = make_images(tmp, sizes["feed_n"], 64)
    lines = []
    for train, step in ((False, "null step"), (True, "demo model's step")):
        sides = {
            kind: (
                "feed_side",
                {"kind": kind, "data": data, "jpegs": jpegs, "epochs": sizes["feed_epochs"], "train": train},
            )
            for kind in ("latentkit", "cached", "uncached", "float32")
        }
        results = interleaved(sides, rounds, inprocess)
        ours = results["latentkit"]
        rate = best(ours, "images_per_s", high=True)
        for kind, peer in (
            ("cached", "image_dataset_from_directory+cache+prefetch"),
            ("uncached", "image_dataset_from_directory+prefetch"),
            ("float32", "float32 array in RAM"),
        ):
            theirs = best(results[kind], "images_per_s", high=True)
            lines.append(
                line(
                    f"feed ({step})",
                    f"{rate:,.0f} images/s, peak RSS {best(ours, 'peak_rss_mb'):,.0f} MB",
                    peer,
                    f"{theirs:,.0f} images/s, peak RSS {best(results[kind], 'peak_rss_mb'):,.0f} MB",
                    rate / theirs,
                )
            )
    per_image = 64 * 64 * 3 * 4
    print(
        f"feed: float32 in RAM holds {per_image:,} B per 64 px image (96 px: {96 * 96 * 3 * 4:,} B): "
        f"past a {SESSION_BYTES / 1e9:.1f} GB session at {SESSION_BYTES / per_image:,.0f} images "
        f"({SESSION_BYTES / (96 * 96 * 3 * 4):,.0f} at 96 px); latentkit's feed holds {2} chunks whatever the size",
        flush=True,
    )
    return lines


def compare_encode(tmp: Path, sizes: dict, rounds: int, inprocess: bool = False) -> list[str]:
    lines = []
    for n in sizes["encode_n"]:
        data, jpegs = make_images(tmp, n, 64)
        run = make_run(tmp, data)
        sides = {
            kind: (
                "encode_side",
                {"kind": kind, "run": run, "data": data, "jpegs": jpegs, "out": str(tmp / f"z-{kind}")},
            )
            for kind in ("latentkit", "predict")
        }
        results = interleaved(sides, rounds, inprocess)
        ours, theirs = results["latentkit"], results["predict"]
        lines.append(
            line(
                f"encode {n:,} images",
                seconds_and_rss(ours),
                "predict over image_dataset_from_directory + np.save",
                seconds_and_rss(theirs),
                best(theirs, "seconds") / best(ours, "seconds"),
            )
        )
    return lines


def compare_analyze(tmp: Path, sizes: dict, rounds: int, inprocess: bool = False) -> list[str]:
    latents = make_latents(tmp, sizes["analyze_n"], sizes["dim"])
    size, lines = f"{sizes['analyze_n']:,} x {sizes['dim']}", []
    for part in ("passes", "all"):
        sides = {
            kind: (
                "analyze_side",
                {
                    "kind": kind,
                    "latents": latents,
                    "out": str(tmp / f"a-{kind}"),
                    "part": part,
                    "tsne_n": sizes["tsne_n"],
                    "options": sizes.get("analyze_options"),
                },
            )
            for kind in ("latentkit", "studies")
        }
        results = interleaved(sides, rounds, inprocess)
        ours, theirs = results["latentkit"], results["studies"]
        steps = ("read", "hist", "pca", "tsne") if part == "all" else ("read", "hist", "pca")
        parts = ", ".join(f"{step} {best(theirs, step):.2f} s" for step in steps)
        if part == "passes":
            name, peer = f"analyze's statistics passes, {size}", "all in RAM + numpy histograms + sklearn PCA"
            note = (
                f"latentkit's moments and PCA {best(ours, 'moments_pca'):.2f} s, its four histogram families "
                f"{best(ours, 'hist'):.2f} s, streamed from the store; the peer's parts: {parts}"
            )
        else:
            name = f"analyze in all, {size}, t-SNE on {min(sizes['tsne_n'], sizes['analyze_n']):,}"
            peer = "all in RAM + numpy histograms + sklearn PCA + sklearn TSNE"
            note = (
                f"the peer's parts: {parts}; analyze also fits k-means, the mixture, the kernel density and "
                "12 generators with their hit tests, and draws every figure"
            )
        lines.append(
            line(
                name,
                seconds_and_rss(ours),
                peer,
                seconds_and_rss(theirs),
                best(theirs, "seconds") / best(ours, "seconds"),
                note,
            )
        )
    return lines


def compare_tsne(tmp: Path, sizes: dict, rounds: int, inprocess: bool = False) -> list[str]:
    from sklearn.manifold import trustworthiness

    latents, n = make_latents(tmp, sizes["analyze_n"], sizes["dim"]), sizes["tsne_n"]
    maps = {kind: str(tmp / f"tsne-{kind}.npy") for kind in ("latentkit", "sklearn")}
    sides = {kind: ("tsne_side", {"kind": kind, "latents": latents, "n": n, "out": maps[kind]}) for kind in maps}
    results = interleaved(sides, rounds, inprocess)
    x = tsne_points(latents, n)
    kept = {kind: trustworthiness(x, np.load(path), n_neighbors=10) for kind, path in maps.items()}
    ours, theirs = results["latentkit"], results["sklearn"]
    return [
        line(
            f"t-SNE {n:,} points",
            f"openTSNE {seconds_and_rss(ours)}, trustworthiness {kept['latentkit']:.3f}",
            "sklearn TSNE",
            f"{seconds_and_rss(theirs)}, trustworthiness {kept['sklearn']:.3f}",
            best(theirs, "seconds") / best(ours, "seconds"),
            "trustworthiness of the last round's maps, 10 neighbours",
        )
    ]


def compare_generators(tmp: Path, sizes: dict, rounds: int, inprocess: bool = False) -> list[str]:
    lines = []
    dim = sizes["dim"]
    cases = [
        (f"PRDC {n:,} x {dim}", "prdc_side", n, "prdc package", ("precision", "recall", "density", "coverage"))
        for n in sizes["prdc_n"]
    ]
    cases += [
        (f"TwoNN {sizes['twonn_n']:,} x {dim}", "twonn_side", sizes["twonn_n"], "skdim TwoNN", ("dimension",)),
        (
            f"KDE bandwidth {sizes['kde_n']:,} x {dim}",
            "kde_side",
            sizes["kde_n"],
            "KernelDensity+GridSearchCV",
            ("bandwidth",),
        ),
    ]
    for name, side, n, peer, values in cases:
        sides = {kind: (side, {"kind": kind, "n": n, "dim": dim}) for kind in ("latentkit", "peer")}
        results = interleaved(sides, rounds, inprocess)
        ours, theirs = results["latentkit"], results["peer"]

        def show(r: list[dict], values: tuple[str, ...] = values) -> str:
            return ", ".join(f"{v} {r[0][v]:.4g}" for v in values)

        lines.append(
            line(
                name,
                f"{seconds_and_rss(ours)}, {show(ours)}",
                peer,
                f"{seconds_and_rss(theirs)}, {show(theirs)}",
                best(theirs, "seconds") / best(ours, "seconds"),
            )
        )
    return lines


COMPARISONS = {
    "feed": compare_feed,
    "encode": compare_encode,
    "analyze": compare_analyze,
    "tsne": compare_tsne,
    "generators": compare_generators,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: about 3 minutes on two cores")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default: 1 quick, 3 full)")
    parser.add_argument(
        "--only", nargs="*", choices=sorted(COMPARISONS), default=sorted(COMPARISONS, key=list(COMPARISONS).index)
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    rounds = args.rounds or (1 if args.quick else 3)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only:
            COMPARISONS[name](Path(tmp), sizes, rounds)
    print(
        f"peers ({'quick' if args.quick else 'full'}, {rounds} round(s)): {time.perf_counter() - started:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
