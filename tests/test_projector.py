"""Looking at the cloud (issue 27): TensorBoard's projector folder, read by a real TensorBoard."""

import io
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import cli, copy_run
from PIL import Image


@pytest.fixture(scope="module")
def analyzed(tiny_ae, tmp_path_factory) -> Path:
    """The tiny run, analyzed with its t-SNE."""
    run = copy_run(tiny_ae, tmp_path_factory.mktemp("look") / "run")
    cli("analyze", "--run", run, "--no-kmeans", "--no-figures", "--nn-sample", "0")
    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def test_the_projector_folder_opens_in_tensorboard_as_it_is(analyzed, tmp_path):
    out = tmp_path / "projector"
    said = cli("export", "--run", analyzed, "--format", "projector", "--out", out, "--sample", "200").stdout
    assert "projector: 200 points" in said and "with the t-SNE embedding" in said
    metadata = (out / "metadata.tsv").read_text().splitlines()
    header = metadata[0].split("\t")
    assert header[:3] == ["row", "name", "partition"] and header[-3:] == ["cluster", "radius", "region"]
    rows = [int(line.split("\t")[0]) for line in metadata[1:]]
    z = np.loadtxt(out / "tensors.tsv", delimiter="\t")
    latents = zarr.open_group(analyzed / "latents.zarr", mode="r")["z"][:]
    assert len(rows) == len(z) == 200 and len(np.loadtxt(out / "tsne.tsv", delimiter="\t")) == 200
    np.testing.assert_allclose(z, latents[rows], rtol=1e-5)  # the rows of every file in the same order
    tsne_rows, tsne = np.load(analyzed / "analysis" / "tsne_rows.npy"), np.load(analyzed / "analysis" / "tsne.npy")
    where = {r: i for i, r in enumerate(tsne_rows)}
    np.testing.assert_allclose(np.loadtxt(out / "tsne.tsv", delimiter="\t"), tsne[[where[r] for r in rows]], rtol=1e-5)
    sprite = Image.open(out / "sprite.png")
    assert sprite.size[0] == sprite.size[1] <= 8192

    port = free_port()
    board = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(out), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/data/plugin/projector"
        deadline = time.monotonic() + 120
        while True:
            try:
                runs = json.loads(get(f"{base}/runs"))
                break
            except OSError:
                assert time.monotonic() < deadline and board.poll() is None, "TensorBoard did not start"
                time.sleep(0.5)
        assert runs == ["."]
        info = json.loads(get(f"{base}/info?run=."))
        shapes = {e["tensorName"]: e["tensorShape"] for e in info["embeddings"]}
        assert shapes == {"z": [200, z.shape[1]], "t-SNE (latentkit analyze)": [200, 2]}
        served = np.frombuffer(get(f"{base}/tensor?run=.&name=z"), "<f4").reshape(200, -1)
        np.testing.assert_allclose(served, z, rtol=1e-5)
        assert get(f"{base}/metadata?run=.&name=z").decode().splitlines()[0].split("\t") == header
        assert get(f"{base}/sprite_image?run=.&name=z")[:4] == b"\x89PNG"
    finally:
        board.terminate()
        board.wait(timeout=30)


def test_the_projector_export_refuses_what_it_cannot_do(analyzed, tmp_path):
    too_many = cli("export", "--run", analyzed, "--format", "projector", "--sample", "100001", check=False)
    assert too_many.returncode == 2 and "the projector loads no more" in too_many.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    refused = cli("export", "--run", analyzed, "--format", "projector", "--out", mine, check=False)
    assert refused.returncode == 2 and "holds files latentkit did not write" in refused.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


@pytest.mark.system
def test_the_report_page_opens_in_a_real_browser_with_the_faces_on_the_map(analyzed, browser):
    """report.html in headless Chromium: no console error, the map holds every point with its
    face and reconstruction as data: URLs, the controls are there, the screenshot is not blank."""
    said = cli("report", "--run", analyzed, "--points", "200").stdout
    page = analyzed / "analysis" / "report.html"
    assert f"report: {page}" in said and page.stat().st_size < 25 * 2**20
    browser.get_log("browser")  # what earlier pages logged
    browser.get(page.as_uri())
    deadline, count = time.monotonic() + 60, None
    while count is None:
        assert time.monotonic() < deadline, "the page's bokeh document never appeared"
        count = browser.execute_script(
            "return (window.Bokeh && Bokeh.documents.length) ? "
            "Bokeh.documents[0].get_model_by_name('points').data.row.length : null"
        )
        time.sleep(0.2)
    assert count == 200
    data = "Bokeh.documents[0].get_model_by_name('points').data"
    assert browser.execute_script(f"return {data}.thumb.every(u => u.startsWith('data:image/jpeg;base64,'))")
    assert browser.execute_script(f"return {data}.recon.length") == 200
    assert browser.execute_script(f"return {data}.labels[0]").startswith("partition ")
    browser.execute_script("Bokeh.documents[0].get_model_by_name('points').selected.indices = [3, 0, 7]")
    rows = browser.execute_script(f"return [0, 3, 7].map(i => {data}.row[i])")
    deadline, picked = time.monotonic() + 10, ""
    while not picked and time.monotonic() < deadline:  # the page's callback runs after this script returns
        picked = browser.execute_script("return Bokeh.documents[0].get_model_by_name('chosen').value")
        time.sleep(0.1)
    assert picked == "3 rows: " + " ".join(map(str, sorted(rows)))  # what a lasso over them lists
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    shot = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("L"), np.float64)
    assert shot.std() > 20  # faces, axes and text: not a blank page


def test_analyze_writes_the_report_page_too(analyzed):
    said = cli("analyze", "--run", analyzed, "--no-kmeans", "--no-figures", "--nn-sample", "0").stdout
    assert "report.html (interactive" in said and (analyzed / "analysis" / "report.html").exists()


def test_export_takes_the_rows_a_selection_saved(analyzed, tmp_path):
    (tmp_path / "rows.txt").write_text("7\n3 11\n")  # as the report's button saves them (one per line)
    cli("export", "--run", analyzed, "--format", "npy", "--rows", tmp_path / "rows.txt", "--out", tmp_path / "picked")
    assert np.load(tmp_path / "picked" / "row.npy").tolist() == [3, 7, 11]


def test_the_pages_generated_points_are_placed_in_one_transform_as_in_one_per_generator():
    """The report page places every generator's points on the t-SNE map with one openTSNE
    ``transform``: each is placed against the map's points alone, so the joint call equals a
    call per generator."""
    from latentkit.analysis.report.page import _tsne

    rng = np.random.default_rng(3)
    cloud = rng.normal(size=(150, 12))
    centred = cloud - cloud.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2]
    others = {name: rng.normal(size=(25, 12)) * scale for name, scale in (("a", 0.5), ("b", 1.0), ("c", 2.0))}
    embedding, placed = _tsne(centred, axes, others, seed=0)
    assert [placed[name].shape for name in others] == [(25, 2)] * 3
    for name, points in others.items():
        alone_embedding, alone = _tsne(centred, axes, {name: points}, seed=0)
        np.testing.assert_array_equal(alone_embedding, embedding)
        np.testing.assert_allclose(alone[name], placed[name], atol=1e-9)
