"""``latentkit explore``: the latent space live in a browser. Click anywhere on a plane and see
the face the run's model decodes there; drag along a principal component, an attribute
direction or (a VAE) a dimension; walk between two points and see where the path leaves the data.

The run is opened once (``open_explorer``: the model, a sample of the latents, the analysis's
fit, t-SNE map and attribute directions) and served by a Bokeh server (a dependency already:
the page is Bokeh's, its callbacks run in Python against the opened run) on 127.0.0.1 only, at
the port's root. Every browser tab is a session of its own (``report/explorer_page``); they
share the opened run. Nothing is written into the run.

Each face is measured as ``analyze`` measures its holes: its re-encoding distance ||E(D(z)) - z||
in units of the data's own median, and its distance to the nearest real latent of the sample in
units of the data's median nearest-neighbour distance (both over the same sample).
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.analysis.measures.holes import decoded_and_reencoded, reencoding_distances
from latentkit.analysis.measures.neighbours import nn_distances
from latentkit.analysis.measures.planes import orthonormal_pair, straight_path
from latentkit.analysis.measures.stats import pca_from_covariance
from latentkit.core import JobEvents, LatentkitError
from latentkit.model.codec import Codec
from latentkit.model.opened import OpenedRun

LOOPBACK = "127.0.0.1"  # the only address the server listens on
PORT = 5006  # Bokeh's own default
SAMPLE = 10_000  # latents kept for the nearest-neighbour distances, the densities and the faces
FACES = 36  # real faces drawn on each map
PLANE_PCS = 20  # principal components offered as a plane's axes
SLIDERS = 6  # sliders per family of directions
WALK_STEPS = 9  # z-points on a walk, both ends included
NEIGHBOURS = 4  # real images shown for a click on the t-SNE map
OWN_REENCODING = 256  # latents re-encoded for the data's own scale, where the analysis has none


@dataclass(frozen=True)
class Decoded:
    """A z-point decoded by the run's model, and how far it lies from the data."""

    z: np.ndarray  # (d,) float32: what the model decoded
    image: np.ndarray  # (H, W, C) floats in [0, 1], as the model gives them
    reencoding: float  # ||E(D(z)) - z||
    reencoding_ratio: float  # ... / the data's own median
    nearest: float  # the distance to the nearest real latent of the sample
    nearest_ratio: float  # ... / the sample's median nearest-neighbour distance


@dataclass
class Explorer:
    """A run opened once for exploring: what every session of the page reads."""

    root: Path
    kind: str  # "ae" or "vae"
    mean: np.ndarray  # (d,) the data's mean (the analysis's fit)
    cov: np.ndarray  # (d, d) the data's covariance
    directions: dict[str, np.ndarray]  # label -> unit vector: PCs, attributes, a VAE's dimensions
    families: dict[str, list[str]]  # slider families: title -> the labels of its directions
    plane_choices: list[str]  # the labels a plane's axes may take
    sample: np.ndarray  # (m, d) latents of random usable rows
    sample_rows: np.ndarray  # their rows
    nn_median: float  # the sample's median nearest-neighbour distance
    reencoding_median: float  # the data's own median ||E(D(E(x))) - E(x)||
    reencoding_source: str  # where that median came from, in words
    codec: Codec
    images: Any  # the store's image array (uint8, N x H x W x C)
    tsne: np.ndarray | None = None  # (k, 2) the analysis's t-SNE map
    tsne_rows: np.ndarray | None = None  # its points' rows
    tsne_z: np.ndarray | None = None  # its points' latents
    faces: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # sample indices drawn on the plane
    _index: Any = None  # sklearn NearestNeighbors over the sample

    @property
    def dim(self) -> int:
        return len(self.mean)

    def sd(self, label: str) -> float:
        """The data's standard deviation along a direction: a slider's unit."""
        u = self.directions[label]
        return float(np.sqrt(max(u @ self.cov @ u, 1e-24)))

    def plane(self, first: str, second: str) -> np.ndarray:
        """(2, d): the plane of two directions, orthonormal (an attribute pair by Gram-Schmidt)."""
        return orthonormal_pair(self.directions[first], self.directions[second], (first, second))

    def decode(self, z: np.ndarray) -> list[Decoded]:
        """Each z-point (n, d) decoded once, encoded again, and placed against the sample."""
        z = np.asarray(z, np.float32).reshape(-1, self.dim)
        images, distances = decoded_and_reencoded(z, self.codec.decode, self.codec.encode)
        nearest = self._index.kneighbors(z.astype(np.float64), n_neighbors=1)[0][:, 0]
        return [
            Decoded(
                z=z[i],
                image=np.asarray(images[i]),
                reencoding=float(distances[i]),
                reencoding_ratio=float(distances[i] / max(self.reencoding_median, 1e-12)),
                nearest=float(nearest[i]),
                nearest_ratio=float(nearest[i] / max(self.nn_median, 1e-12)),
            )
            for i in range(len(z))
        ]

    def walk(self, start: np.ndarray, stop: np.ndarray, steps: int = WALK_STEPS) -> list[Decoded]:
        """The straight path from ``start`` to ``stop``, decoded and measured step by step."""
        return self.decode(straight_path(start, stop, steps))

    def tsne_nearest(self, x: float, y: float, k: int = NEIGHBOURS) -> np.ndarray:
        """Indices of the t-SNE map's ``k`` points nearest to (x, y) on the map, nearest first."""
        assert self.tsne is not None
        order = np.argsort(((self.tsne - [x, y]) ** 2).sum(axis=1))
        return order[:k]

    def pictures(self, rows: np.ndarray) -> np.ndarray:
        """The store's images of ``rows`` (uint8), in the order given."""
        rows = np.asarray(rows)
        order = np.argsort(rows)
        out = np.empty((len(rows), *self.images.shape[1:]), np.uint8)
        out[order] = self.images.get_orthogonal_selection((rows[order],))
        return out


def check_run(run: str | os.PathLike) -> OpenedRun:
    """The run, refused in one line (before anything loads) when it does not exist, is not
    encoded, has no analysis or no decoder."""
    from latentkit.store import finished_latents

    if not Path(run).is_dir():
        raise LatentkitError(f"no run at {run}: give a run directory (--run)")
    opened = OpenedRun.of(run)
    opened.described.need_decoder("explore (every click is decoded)")
    finished_latents(opened.root)
    files = opened.paths.analysis_files
    if not files.report.exists() or not files.fit.exists():
        raise LatentkitError(f"{run} has no analysis ({files.report}): run `latentkit analyze --run {run}` first")
    return opened


def open_explorer(
    run: str | os.PathLike | OpenedRun, *, sample: int = SAMPLE, seed: int = 0, events: JobEvents | None = None
) -> Explorer:
    """Open the run once: its model, ``sample`` latents, the analysis's fit, t-SNE map, VAE
    health and attribute directions."""
    from sklearn.neighbors import NearestNeighbors

    from latentkit.analysis.generators import LatentFit
    from latentkit.analysis.report.files import read_report
    from latentkit.store import finished_latents, get_array, open_store, read_all

    events = events or JobEvents()
    opened = run if isinstance(run, OpenedRun) else check_run(run)
    paths, files = opened.paths, opened.paths.analysis_files
    report = read_report(files.report)
    fit = LatentFit.load(files.fit)
    latents = finished_latents(opened.root)
    z_array = get_array(latents, "z")
    data = open_store(opened.data, holds="images")
    usable = np.flatnonzero(read_all(latents, "ok").astype(bool) & read_all(data, "ok").astype(bool))
    if len(usable) < 3:
        raise LatentkitError(f"{opened.root} has fewer than 3 usable latents: nothing to explore")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(usable, size=min(sample, len(usable)), replace=False))
    events.message(f"explore: {len(rows):,} latents of {len(usable):,}, the model of {opened.root}")
    z = np.asarray(z_array.get_orthogonal_selection((rows,)), np.float64)
    directions, families, choices = _directions(fit.mean, fit.cov, report, paths)
    codec = opened.codec()
    if "reencoding" in report:
        own, source = float(report["reencoding"]["data"]["median"]), "the analysis"
    else:
        own = float(np.median(reencoding_distances(z[:OWN_REENCODING], codec.decode, codec.encode)))
        source = f"{min(OWN_REENCODING, len(z))} latents re-encoded now"
    explorer = Explorer(
        root=opened.root,
        kind=opened.described.kind,
        mean=np.asarray(fit.mean, np.float64),
        cov=np.asarray(fit.cov, np.float64),
        directions=directions,
        families=families,
        plane_choices=choices,
        sample=z,
        sample_rows=rows,
        nn_median=float(np.median(nn_distances(z))),
        reencoding_median=own,
        reencoding_source=source,
        codec=codec,
        images=get_array(data, "images"),
        faces=np.sort(rng.choice(len(z), size=min(FACES, len(z)), replace=False)),
        _index=NearestNeighbors(n_neighbors=1).fit(z),
    )
    if "tsne" in report and files.tsne.exists() and files.tsne_rows.exists():
        explorer.tsne = np.load(files.tsne)
        explorer.tsne_rows = np.load(files.tsne_rows)
        explorer.tsne_z = np.asarray(z_array.get_orthogonal_selection((np.sort(explorer.tsne_rows),)), np.float64)
        explorer.tsne_z = explorer.tsne_z[np.argsort(np.argsort(explorer.tsne_rows))]  # back in the map's order
    return explorer


def _directions(mean, cov, report, paths) -> tuple[dict[str, np.ndarray], dict[str, list[str]], list[str]]:
    """Every direction by label (unit vectors), the slider families, and a plane's choices:
    the principal components of the fit's covariance (analyze's), the attribute directions
    (``latentkit attributes``, best separated first) and a VAE's dimensions by KL."""
    from latentkit.analysis.report.files import read_report
    from latentkit.analysis.report.schema import AttributesReport

    _, vectors = pca_from_covariance(np.asarray(cov, np.float64))
    dim = len(mean)
    directions = {f"PC{i}": vectors[:, i] for i in range(dim)}
    families = {"principal components": [f"PC{i}" for i in range(min(SLIDERS, dim))]}
    choices = [f"PC{i}" for i in range(min(PLANE_PCS, dim))]
    files = paths.analysis_files
    if files.directions.exists():
        with np.load(files.directions) as saved:
            names = [str(v) for v in saved["names"]]
            found = {name: np.asarray(v, np.float64) for name, v in zip(names, saved["directions"])}
        found = {name: v / np.linalg.norm(v) for name, v in found.items() if np.linalg.norm(v) > 0}
        if files.attributes.exists():  # best separated first
            rows = read_report(files.attributes, AttributesReport)["attributes"]
            ranked = [r["name"] for r in rows if "probe_accuracy" in r and r["name"] in found]
            names = ranked + [n for n in found if n not in ranked]
        names = [n for n in names if n in found and n not in directions]
        directions.update({name: found[name] for name in names})
        if names:
            families["attributes"] = names[:SLIDERS]
            choices += names
    if "vae" in report:
        kl = np.asarray(report["vae"]["kl_per_dim"], np.float64)
        order = [int(i) for i in np.argsort(kl)[::-1][:SLIDERS]]
        directions.update({f"z{i}": np.eye(dim)[i] for i in order})
        families["VAE dimensions, most KL first"] = [f"z{i}" for i in order]
    return directions, families, choices


class Served:
    """A running explorer: its ``url``, and ``stop()``."""

    def __init__(self, server: Any, loop: Any, thread: threading.Thread | None = None) -> None:
        self.server, self.loop, self.thread = server, loop, thread
        self.url = f"http://{LOOPBACK}:{server.port}/"

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self.thread is None:
            self.server.stop()
            return
        self.loop.add_callback(self._halt)
        self.thread.join(timeout=10)

    def _halt(self) -> None:
        self.server.stop()
        self.loop.stop()


def _bind(application: Callable, port: int, extra_origins: list[str] | None = None) -> Any:
    """A Bokeh server for ``application`` at the port's root, listening on 127.0.0.1 only, on
    this thread's event loop; a port in use is one line. The pages allowed to talk to it are
    those served from this port on the loopback (the page itself, an ``ssh -L`` tunnel's local
    end on the same port), and ``extra_origins``."""
    from bokeh.server.server import Server

    if port == 0:  # a free port now, so the allowed origins can name it
        with socket.socket() as probe:
            probe.bind((LOOPBACK, 0))
            port = probe.getsockname()[1]
    origins = [f"{LOOPBACK}:{port}", f"localhost:{port}", *(extra_origins or [])]
    try:
        return Server({"/": application}, port=port, address=LOOPBACK, allow_websocket_origin=origins)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise LatentkitError(
                f"port {port} on {LOOPBACK} is in use: choose another with --port (--port 0: any free one)"
            ) from None
        raise


def serve(
    run: str | os.PathLike,
    *,
    port: int = PORT,
    sample: int = SAMPLE,
    events: JobEvents | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the explorer of ``run`` until SIGINT or SIGTERM: the run checked, the port bound,
    the run opened, then ``ready(url)``."""
    from tornado.ioloop import IOLoop

    from latentkit.analysis.report.explorer_page import explorer_document

    opened = check_run(run)
    asyncio.set_event_loop(asyncio.new_event_loop())
    loop = IOLoop.current()
    try:
        opened_run: list[Explorer] = []
        server = _bind(lambda doc: explorer_document(doc, opened_run[0]), port)
        try:
            opened_run.append(open_explorer(opened, sample=sample, events=events))
            for stop in (signal.SIGINT, signal.SIGTERM):
                loop.asyncio_loop.add_signal_handler(stop, loop.stop)
            server.start()
            if ready is not None:
                ready(Served(server, loop).url)
            loop.start()
        finally:
            server.stop()
            for stop in (signal.SIGINT, signal.SIGTERM):
                loop.asyncio_loop.remove_signal_handler(stop)
    finally:
        loop.close(all_fds=True)
        asyncio.set_event_loop(None)


def serve_in_background(
    run: str | os.PathLike | Explorer, *, port: int = 0, origins: list[str] | None = None, sample: int = SAMPLE
) -> Served:
    """Serve the explorer from a thread of this process (a notebook's kernel), and return at
    once: ``url``, ``stop()``. ``run``: a run directory, or an ``Explorer`` opened already."""
    from tornado.ioloop import IOLoop

    from latentkit.analysis.report.explorer_page import explorer_document

    explorer = run if isinstance(run, Explorer) else open_explorer(check_run(run), sample=sample)
    started: list[Any] = []

    def loop_thread() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        try:
            server = _bind(lambda doc: explorer_document(doc, explorer), port, origins)
        except Exception as error:  # handed to the caller's thread
            started.append(error)
            loop.close(all_fds=True)
            return
        server.start()
        started.append(Served(server, loop, threading.current_thread()))
        loop.start()
        loop.close(all_fds=True)

    thread = threading.Thread(target=loop_thread, name="latentkit-explore", daemon=True)
    thread.start()
    while not started and thread.is_alive():
        thread.join(timeout=0.05)
    if not started or isinstance(started[0], Exception):
        raise started[0] if started else LatentkitError("the explorer's server did not start")
    return started[0]
