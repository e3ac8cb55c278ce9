"""``latentkit explore`` (issue 49): the click -> z-point mapping, the walk and the sliders'
formula against known answers; the server started as a user starts it and driven by a real
headless Chromium (a click on the plane, a second click and the walk, a slider dragged, a click
on the t-SNE map), each shown face equal to the model's decode of the z-point the page says it
decoded; the port on the loopback address only; the run unchanged; the refusals one line each;
and the same page inline in a notebook run headless (nbclient), on an imported model's run."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import queue
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures.commands import cli, start_cli
from fixtures.runs import copy_run
from PIL import Image

from latentkit.core import RunPaths

# the first element matching a CSS selector, looked for through every shadow root of the page
DEEP = """
const deep = (root, selector) => {
  const found = root.querySelector(selector);
  if (found) return found;
  for (const element of root.querySelectorAll('*')) {
    if (element.shadowRoot) { const inner = deep(element.shadowRoot, selector); if (inner) return inner; }
  }
  return null;
};
"""


# -- the formulas, fast --------------------------------------------------------------------


def test_a_click_on_a_plane_is_the_mean_plus_its_coordinates_the_rest_held_at_a_chosen_point():
    from latentkit.analysis.measures.planes import orthonormal_pair, plane_coordinates, with_coordinates
    from latentkit.analysis.measures.stats import pca_from_covariance

    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + 3.0
    mean = cloud.mean(axis=0)
    _, vectors = pca_from_covariance(np.cov(cloud.T))
    axes = vectors[:, [0, 2]].T  # the PC0-PC2 plane
    z = with_coordinates(mean, mean, axes, np.array([1.5, -0.25]))
    np.testing.assert_allclose(z, mean + 1.5 * axes[0] - 0.25 * axes[1], atol=1e-12)
    np.testing.assert_allclose(plane_coordinates(z, mean, axes), [1.5, -0.25], atol=1e-12)
    # held at another point: the plane's coordinates are the click's, every other PC the point's
    point = cloud[7]
    held = with_coordinates(point, mean, axes, np.array([1.5, -0.25]))
    np.testing.assert_allclose(plane_coordinates(held, mean, axes), [1.5, -0.25], atol=1e-12)
    others = vectors[:, [1, 3, 4, 5]].T
    np.testing.assert_allclose(
        plane_coordinates(held, mean, others), plane_coordinates(point, mean, others), atol=1e-12
    )
    # two attribute directions at 60 degrees: made orthonormal, the first kept
    pair = orthonormal_pair(np.array([2.0, 0, 0]), np.array([1.0, np.sqrt(3), 0]))
    np.testing.assert_allclose(pair @ pair.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(pair[0], [1, 0, 0])
    from latentkit.core import LatentkitError

    with pytest.raises(LatentkitError, match="Smiling and Male are parallel"):
        orthonormal_pair(np.array([1.0, 1, 0]), np.array([-2.0, -2, 0]), ("Smiling", "Male"))


def test_a_slider_sets_one_coordinate_and_keeps_every_other():
    from latentkit.analysis.measures.planes import plane_coordinates, with_coordinates

    rng = np.random.default_rng(1)
    mean, point = rng.normal(size=5), rng.normal(size=5)
    u = rng.normal(size=5)
    u /= np.linalg.norm(u)
    moved = with_coordinates(point, mean, u[None], np.array([2.0]))
    assert plane_coordinates(moved, mean, u[None])[0] == pytest.approx(2.0)
    np.testing.assert_allclose(moved - point, (2.0 - (point - mean) @ u) * u, atol=1e-12)


class _RingModel:
    """A stand-in model whose data lie on the unit circle: decode is the identity, encode puts
    every point back on the circle, so a z-point inside the ring (the hole) comes back far."""

    def decode(self, z):
        return np.asarray(z, np.float32)

    def encode(self, images):
        return images / np.linalg.norm(images, axis=1, keepdims=True)


def test_a_walk_across_the_hole_of_a_ring_shows_it_in_its_reencoding_distances():
    """Two points on opposite sides of a ring: the straight path between them runs through the
    ring's hole, and its middle steps come back from re-encoding far more than the data do."""
    from sklearn.neighbors import NearestNeighbors

    from latentkit.analysis.explore import Explorer

    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    explorer = Explorer(
        root=Path("ring"),
        kind="ae",
        mean=ring.mean(axis=0),
        cov=np.cov(ring.T),
        directions={"PC0": np.array([1.0, 0]), "PC1": np.array([0, 1.0])},
        families={},
        plane_choices=["PC0", "PC1"],
        sample=ring,
        sample_rows=np.arange(len(ring)),
        nn_median=float(2 * np.sin(np.pi / 400)),
        reencoding_median=0.01,
        reencoding_source="given",
        codec=_RingModel(),  # type: ignore[arg-type]
        images=None,
        _index=NearestNeighbors(n_neighbors=1).fit(ring),
    )
    steps = explorer.walk(ring[0], ring[200], steps=9)
    assert len(steps) == 9
    np.testing.assert_allclose(steps[0].z, ring[0], atol=1e-6)
    np.testing.assert_allclose(steps[-1].z, ring[200], atol=1e-6)
    ratios = [s.reencoding_ratio for s in steps]
    assert ratios[0] < 1e-3 and ratios[-1] < 1e-3  # real points come back where they were
    assert ratios[4] > 50  # the middle (the ring's centre, nearly) comes back a radius away
    assert steps[4].nearest_ratio > 50  # and lies far from every real latent


class _Images:
    """A store's image array as the explorer reads it: grey 8 x 8 pictures."""

    shape = (400, 8, 8, 3)

    def get_orthogonal_selection(self, selection):
        return np.full((len(selection[0]), 8, 8, 3), 128, np.uint8)


def ring_explorer(**extra) -> Any:
    """An ``Explorer`` over a ring in the first two of four dimensions, with the stand-in model."""
    from sklearn.neighbors import NearestNeighbors

    from latentkit.analysis.explore import Explorer

    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    ring = np.zeros((400, 4))
    ring[:, 0], ring[:, 1] = np.cos(angles), np.sin(angles)
    ring[:, 2:] = np.random.default_rng(0).normal(scale=0.05, size=(400, 2))
    fields = dict(
        root=Path("ring"),
        kind="ae",
        mean=ring.mean(axis=0),
        cov=np.cov(ring.T),
        directions={f"PC{i}": np.eye(4)[i] for i in range(4)},
        families={"principal components": ["PC0", "PC1"]},
        plane_choices=["PC0", "PC1", "PC2"],
        sample=ring,
        sample_rows=np.arange(len(ring)),
        nn_median=float(2 * np.sin(np.pi / 400)),
        reencoding_median=0.01,
        reencoding_source="given",
        codec=_RingModel(),
        images=_Images(),
        faces=np.arange(0, 400, 40),
        _index=NearestNeighbors(n_neighbors=1).fit(ring),
    )
    return Explorer(**{**fields, **extra})


def test_the_directions_are_the_pcs_the_attributes_best_first_and_a_vaes_dimensions_by_kl(tmp_path):
    """The sliders' families and a plane's choices from an analysis folder: the fit's PCs, the
    attribute directions of attributes.npz (unit length), a VAE's dimensions most KL first."""
    from latentkit.analysis.explore import _directions

    paths = RunPaths.of(tmp_path)
    paths.analysis.mkdir()
    directions = np.array([[3.0, 0, 0, 0], [0, 0, 2.0, 0]])
    np.savez(paths.analysis_files.directions, names=np.array(["Smiling", "Male"]), directions=directions)
    cov = np.diag([4.0, 3.0, 2.0, 1.0])
    report = {"vae": {"kl_per_dim": [0.1, 2.0, 0.0, 0.7]}}
    found, families, choices = _directions(np.zeros(4), cov, report, paths)
    assert families["principal components"] == ["PC0", "PC1", "PC2", "PC3"]
    assert families["attributes"] == ["Smiling", "Male"] and choices == ["PC0", "PC1", "PC2", "PC3", "Smiling", "Male"]
    assert families["VAE dimensions, most KL first"] == ["z1", "z3", "z0", "z2"]
    np.testing.assert_allclose(found["Smiling"], [1, 0, 0, 0])
    np.testing.assert_allclose(np.abs(found["PC2"]), [0, 0, 1, 0])


def test_the_page_maps_a_click_a_slider_and_a_walk_to_the_faces_it_shows():
    """The page's own callbacks, in this process (a Bokeh document, no server): a click on the
    PC0-PC1 plane, a plane of two other directions, a slider's coalesced moves, the walk."""
    from bokeh.document import Document

    from latentkit.analysis.measures.planes import plane_coordinates
    from latentkit.analysis.report.explorer_page import ExplorerSession

    explorer = ring_explorer()
    session = ExplorerSession(Document(), explorer)

    def shown() -> np.ndarray:
        return np.asarray(json.loads(session.face.text.split("data-z='")[1].split("'")[0]), np.float32)

    np.testing.assert_allclose(shown(), explorer.mean, atol=1e-6)  # the data's mean first
    session.plane_click(0.0, 0.0)  # the ring's centre: its hole
    np.testing.assert_allclose(shown()[:2], [0, 0], atol=1e-6)
    assert float(session.face.text.split("<b>")[2].split("x<")[0]) > 20  # far from the data
    session.rest.active = 1  # the other directions held at the current point
    session.select_x.value, session.select_y.value = "PC2", "PC1"
    assert session.plane_plot.xaxis.axis_label == "PC2"
    session.plane_click(0.3, 0.5)
    z = shown().astype(np.float64)
    np.testing.assert_allclose(plane_coordinates(z, explorer.mean, session.axes), [0.3, 0.5], atol=1e-6)
    session._walk(session.previous, session.current, ("a", "b"))
    assert session.strip.text.count('class="lk-step"') == 9
    session.sliders["PC0"].value = 1.5  # two moves in one window: one decode, at the latest
    session.sliders["PC0"].value = 2.0
    assert session.flushing and session.pending == {"PC0": 2.0}
    session._flush()
    z = shown().astype(np.float64)
    assert plane_coordinates(z, explorer.mean, np.eye(4)[:1])[0] == pytest.approx(2.0 * explorer.sd("PC0"), rel=1e-5)
    assert session.sliders["PC1"].value == pytest.approx(0.5 / explorer.sd("PC1"), abs=0.01)  # kept, and shown


# -- the refusals, in this process (nothing loads) ---------------------------------------------


def snapshot(run: Path) -> dict[str, str]:
    """Every file of the run, by its path, with its content's digest."""
    return {
        str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run.rglob("*"))
        if p.is_file()
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_missing_unencoded_or_unanalyzed_run_and_a_port_in_use_are_one_line_each(tiny_ae, tmp_path):
    missing = cli("explore", "--run", tmp_path / "nothing", check=False)
    trained = copy_run(tiny_ae, tmp_path / "trained", trained_only=True)
    encoded = copy_run(tiny_ae, tmp_path / "encoded")
    import shutil

    shutil.rmtree(encoded / "analysis")
    before = {run: snapshot(run) for run in (trained, encoded, tiny_ae)}
    unencoded = cli("explore", "--run", trained, check=False)
    unanalyzed = cli("explore", "--run", encoded, check=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = cli("explore", "--run", tiny_ae, "--port", port, check=False)
    for result, words in (
        (missing, "no run at"),
        (unencoded, "has no latents: run `latentkit encode"),
        (unanalyzed, "has no analysis"),
        (in_use, f"port {port} on 127.0.0.1 is in use"),
    ):
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("latentkit: error: ") and words in lines[0], lines
    assert {run: snapshot(run) for run in (trained, encoded, tiny_ae)} == before


# -- the page in a real browser -------------------------------------------------------------


def quick_analysis(run: Path) -> None:
    """An analysis of the run's latents as small as these tests read: the fit and the t-SNE map
    (no quality stage, so the explorer measures the data's own re-encoding distance itself)."""
    from latentkit.analysis.analyze import AnalyzeOptions, analyze

    options = AnalyzeOptions(
        kmeans=False,
        figures=False,
        mixture=False,
        kde=False,
        quality=False,
        atlas=False,
        nn_sample=0,
        hit_draws=2000,
        generator_samples=500,
        tsne_iterations=300,
    )
    paths = RunPaths.of(run)
    analyze(latents=paths.latents, out=paths.analysis, options=options)


@pytest.fixture(scope="module")
def explored(tiny_ae, tmp_path_factory) -> Path:
    """The tiny run (latentkit's own model, the demo's preset shrunk), analyzed with its t-SNE map."""
    run = copy_run(tiny_ae, tmp_path_factory.mktemp("explored") / "run")
    quick_analysis(run)
    return run


def wait_for(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.1)


def shown_face(browser) -> tuple[np.ndarray, np.ndarray] | None:
    """(z-point, pixels) of the face the page shows, read from the rendered element."""
    found = browser.execute_script(
        DEEP + "const img = deep(document, '#lk-face'); return img ? [img.dataset.z, img.src] : null;"
    )
    if not found:
        return None
    z, src = found
    return np.asarray(json.loads(z), np.float32), pixels(src)


def pixels(src: str) -> np.ndarray:
    assert src.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))), np.int16)


def assert_is_the_decode(codec, z: np.ndarray, shown: np.ndarray) -> None:
    """The face shown equals the model's decode of its z-point, to 1/255 per pixel."""
    expected = np.clip(np.rint(codec.decode(z[None])[0].astype(np.float64) * 255), 0, 255).astype(np.int16)
    expected = expected[..., 0] if expected.shape[-1] == 1 else expected
    assert shown.shape == expected.shape
    assert np.abs(shown - expected).max() <= 1


def click(browser, plot: str, fx: float, fy: float) -> tuple[float, float]:
    """A real mouse click at the point (fx, fy) of the plot's ranges (0..1 each way), placed
    on the plot's canvas (so it lands right inside an iframe too); its data coordinates."""
    from selenium.webdriver.common.action_chains import ActionChains

    x, y, canvas, dx, dy = browser.execute_script(
        "const plot = Bokeh.documents[0].get_model_by_name(arguments[0]);"
        "const view = Bokeh.index.find_one(plot), canvas = view.canvas_view.el;"
        "const x = plot.x_range.start + arguments[1] * (plot.x_range.end - plot.x_range.start);"
        "const y = plot.y_range.start + arguments[2] * (plot.y_range.end - plot.y_range.start);"
        "const rect = canvas.getBoundingClientRect();"
        "return [x, y, canvas, view.frame.x_scale.compute(x) - rect.width / 2,"
        " view.frame.y_scale.compute(y) - rect.height / 2];",
        plot,
        fx,
        fy,
    )
    ActionChains(browser).move_to_element_with_offset(canvas, int(round(dx)), int(round(dy))).click().perform()
    return x, y


def new_face(browser, before: np.ndarray, what: str):
    return wait_for(
        lambda: (face := shown_face(browser)) is not None and not np.array_equal(face[0], before) and face, what
    )


def drive(browser, url: str, run: Path, codec) -> None:
    """What a person does on the page, each face checked against the model."""
    from latentkit.analysis.measures.planes import plane_coordinates

    browser.get_log("browser")
    browser.get(url)
    start = wait_for(lambda: shown_face(browser), "the first face (the data's mean)")
    assert_is_the_decode(codec, *start)
    # 1. a click on the plane: the face of the point under it
    x, y = click(browser, "plane", 0.3, 0.65)
    first = new_face(browser, start[0], "a face for the click")
    assert_is_the_decode(codec, *first)
    axes, mean = browser_plane(browser, run)
    coordinates = plane_coordinates(first[0].astype(np.float64), mean, axes)
    span = browser.execute_script(
        "const p = Bokeh.documents[0].get_model_by_name('plane'); return p.x_range.end - p.x_range.start;"
    )
    assert np.abs(coordinates - [x, y]).max() < span / 100  # within a few pixels of the click
    # 2. a second click: the walk between the two, first step the first click, last the second
    click(browser, "plane", 0.7, 0.3)
    second = new_face(browser, first[0], "a face for the second click")
    assert_is_the_decode(codec, *second)

    def walk_to_the_second():
        steps = browser.execute_script(
            DEEP + "return [...deep(document, '#lk-strip')?.querySelectorAll('img.lk-step') ?? []]"
            ".map(img => [img.dataset.z, img.src]);"
        )
        return steps and np.array_equal(np.asarray(json.loads(steps[-1][0]), np.float32), second[0]) and steps

    steps = wait_for(walk_to_the_second, "the walk's strip to the second click")
    assert len(steps) == 9
    ends = [np.asarray(json.loads(steps[i][0]), np.float32) for i in (0, -1)]
    np.testing.assert_allclose(ends[0], first[0], atol=1e-5)
    np.testing.assert_allclose(ends[1], second[0], atol=1e-5)
    middle = np.asarray(json.loads(steps[4][0]), np.float32)
    assert_is_the_decode(codec, middle, pixels(steps[4][1]))
    # 3. a slider dragged: the face follows, PC0's coordinate at the slider's value
    from selenium.webdriver.common.action_chains import ActionChains

    dragged_from = browser.execute_script("return Bokeh.documents[0].get_model_by_name('slider-PC0').value")
    handle = browser.execute_script(
        "const slider = Bokeh.documents[0].get_model_by_name('slider-PC0');"
        "return Bokeh.index.find_one(slider).el.shadowRoot.querySelector('.noUi-handle');"
    )
    ActionChains(browser).click_and_hold(handle).move_by_offset(45, 0).move_by_offset(30, 0).release().perform()
    new_face(browser, second[0], "a face for the slider")
    unit = sd(run, axes[0])

    def at_the_slider():
        value = browser.execute_script("return Bokeh.documents[0].get_model_by_name('slider-PC0').value")
        face = shown_face(browser)
        at = plane_coordinates(face[0].astype(np.float64), mean, axes[:1])[0] / unit if face else None
        return face is not None and abs(at - value) < 1e-3 and (value, face)

    value, slid = wait_for(at_the_slider, "the face at the slider's last value", timeout=20)
    assert value > dragged_from + 0.5  # dragged to the right
    assert_is_the_decode(codec, *slid)
    others = plane_coordinates(np.stack([slid[0], second[0]]).astype(np.float64), mean, axes[1:])
    assert abs(others[0, 0] - others[1, 0]) < 1e-4  # PC1 (the plane's y) kept
    # 4. a click on the t-SNE map: the nearest real latent, and the nearest real images
    click(browser, "tsne", 0.5, 0.5)
    real = new_face(browser, slid[0], "a face for the t-SNE click")
    assert_is_the_decode(codec, *real)
    shown = wait_for(
        lambda: browser.execute_script(DEEP + "return deep(document, 'img.lk-real') ? 1 : 0;"), "the nearest images"
    )
    assert shown
    from latentkit.store import finished_latents

    latents = np.asarray(finished_latents(run)["z"][:], np.float32)
    assert np.abs(latents - real[0]).max(axis=1).min() == 0  # the face is a real latent's decode
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors


def browser_plane(browser, run: Path) -> tuple[np.ndarray, np.ndarray]:
    """The shown plane's axes (PC0, PC1 of the analysis's fit) and the data's mean."""
    from latentkit.analysis.generators import LatentFit
    from latentkit.analysis.measures.stats import pca_from_covariance

    fit = LatentFit.load(RunPaths.of(run).analysis_files.fit)
    _, vectors = pca_from_covariance(fit.cov)
    return vectors[:, :2].T, fit.mean


def sd(run: Path, u: np.ndarray) -> float:
    from latentkit.analysis.generators import LatentFit

    fit = LatentFit.load(RunPaths.of(run).analysis_files.fit)
    return float(np.sqrt(u @ fit.cov @ u))


@pytest.mark.system
def test_the_served_page_decodes_a_click_a_walk_a_slider_and_a_tsne_click_on_loopback_only(explored, browser):
    """``latentkit explore`` as a user starts it: the printed URL, a socket listening on
    127.0.0.1 alone, the page driven in Chromium, SIGINT ending it cleanly, the run unchanged."""
    import psutil

    from latentkit.model.opened import OpenedRun

    before = snapshot(explored)
    port = free_port()
    server = start_cli("explore", "--run", explored, "--port", str(port))
    said: queue.Queue[str] = queue.Queue()  # its lines, read as they come
    reader = threading.Thread(target=lambda: [said.put(line.decode()) for line in iter(server.stdout.readline, b"")])
    reader.start()
    try:
        lines = [said.get(timeout=180)]
        while "http://" not in lines[-1]:
            lines.append(said.get(timeout=180))
        url = f"http://127.0.0.1:{port}/"
        assert f"explore: {url}" in lines[-1]
        listening = [c for c in psutil.Process(server.pid).net_connections("inet") if c.status == psutil.CONN_LISTEN]
        assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]
        drive(browser, url, explored, OpenedRun.of(explored).codec())
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        reader.join(timeout=10)
    out = "".join(lines) + "".join(said.get() for _ in range(said.qsize()))
    assert server.returncode == 0, out
    assert "explore: stopped" in out
    assert snapshot(explored) == before


# -- in a notebook, on an imported model's run -----------------------------------------------


def functional_autoencoder(path: Path) -> None:
    """A user's own functional Keras autoencoder (encoder and decoder named sub-models), saved."""
    import keras
    from keras import layers

    x = keras.Input((32, 32, 3))
    h = layers.Flatten()(layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x))
    encoder = keras.Model(x, layers.Dense(8)(h), name="encoder")
    z = keras.Input((8,))
    h = layers.Reshape((16, 16, 8))(layers.Dense(16 * 16 * 8, activation="relu")(z))
    pixels = layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid")(h)
    decoder = keras.Model(z, pixels, name="decoder")
    keras.Model(x, decoder(encoder(x)), name="autoencoder").save(path)


@pytest.fixture(scope="module")
def imported(tiny_store, tmp_path_factory) -> Path:
    """A functional Keras autoencoder of the user's own, imported, encoded and analyzed."""
    root = tmp_path_factory.mktemp("imported")
    functional_autoencoder(root / "mine.keras")
    run = root / "run"
    cli("import-model", root / "mine.keras", "--run", run, "--data", tiny_store)
    cli("encode", "--run", run)
    quick_analysis(run)
    return run


@pytest.mark.system
def test_the_notebook_shows_the_same_page_inline_served_from_its_kernel(imported, browser, tmp_path):
    """``latentkit.notebook.explore(run)`` in a real kernel (nbclient, headless): the cell's
    output is an iframe of the page the kernel serves; opened in Chromium while the kernel
    waits between cells, the page answers a click with the imported model's decode."""
    import nbclient
    import nbformat

    from latentkit.model.opened import OpenedRun

    cells = [f"from latentkit.notebook import explore\nserved = explore({str(imported)!r})", "served.stop()"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3")
    with client.setup_kernel():
        client.execute_cell(notebook.cells[0], 0)
        html = next(o["data"]["text/html"] for o in notebook.cells[0].outputs if "text/html" in o.get("data", {}))
        assert "<iframe" in html and 'src="http://127.0.0.1:' in html
        (tmp_path / "cell.html").write_text(f"<html><body>{html}</body></html>")
        browser.get((tmp_path / "cell.html").as_uri())
        frame = wait_for(lambda: browser.find_elements("tag name", "iframe"), "the iframe")[0]
        browser.switch_to.frame(frame)
        try:
            codec = OpenedRun.of(imported).codec()
            start = wait_for(lambda: shown_face(browser), "the first face")
            assert_is_the_decode(codec, *start)
            click(browser, "plane", 0.25, 0.75)
            assert_is_the_decode(codec, *new_face(browser, start[0], "a face for the click"))
        finally:
            browser.switch_to.default_content()
        client.execute_cell(notebook.cells[1], 1)
    assert not [o for c in notebook.cells for o in c.outputs if o.get("output_type") == "error"]
