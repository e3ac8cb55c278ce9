"""The report page, report.html (issue 27): written by analyze, opened in a real browser, its map's placed points."""

import io
import time

import numpy as np
import pytest
from fixtures.commands import cli
from fixtures.runs import copy_run
from PIL import Image


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


def test_a_run_analyzed_in_full_loads_its_model_once(tiny_ae, tmp_path, monkeypatch):
    """``analyze --run`` re-encodes generated points and reconstructs images with the run's
    model, then draws the page's reconstructions with it: the run is opened once
    (``OpenedRun``), so the checkpoint is loaded once for both."""
    from latentkit.analysis.analyze import AnalyzeOptions
    from latentkit.analysis.jobs import analyze_run
    from latentkit.model import codec

    loads, load = [], codec.load_model

    def counted(*args, **kwargs):
        loads.append(args[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(codec, "load_model", counted)
    run = copy_run(tiny_ae, tmp_path / "run")
    options = AnalyzeOptions(kmeans=False, figures=False, nn_sample=0, generator_samples=500)
    done = analyze_run(run=run, options=options)
    assert "reencoding" in done.report and "reconstruction" in done.report  # the model measured...
    assert done.page is not None and done.page.exists()  # ...and drew the page
    assert loads == [run]


def test_an_analysis_written_elsewhere_says_why_it_has_no_page(tiny_ae, tmp_path):
    """The page shows a run's own analysis: ``analyze --run RUN --out DIR`` writes none, and says so."""
    run, elsewhere = copy_run(tiny_ae, tmp_path / "run"), tmp_path / "elsewhere"
    quick = ["--no-tsne", "--no-kmeans", "--no-figures", "--no-quality", "--hit-draws", "2000"]
    said = cli("analyze", "--run", run, "--out", elsewhere, *quick)
    assert (elsewhere / "report.json").exists() and not (elsewhere / "report.html").exists()
    assert f"no report.html: the interactive page shows a run's own analysis ({run / 'analysis'})" in said.stderr


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
