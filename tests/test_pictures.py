"""Pictures of the data, not of its first rows, in words that fit any images (issue 46, items 4
and 5): scikit-learn's handwritten digits written as a folder sorted by class (digits/0/,
digits/1/, ...), prepared as a user would, and a tiny model trained one epoch on them; and your own
photos reconstructed, cropped and resized as prepare does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import zarr
from fixtures.commands import cli
from fixtures.runs import TINY_OVERRIDES
from PIL import Image

PER_CLASS = 30  # 300 digits: a class's images are 30 consecutive rows
PAD, SIDE = 2, 32  # the grid's white gap and the tiles' side (the tiny model's 32 px)


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> dict:
    """The digits as PNGs sorted by class, their store (32 px), and a tiny AE trained one epoch
    and encoded."""
    from sklearn.datasets import load_digits

    from latentkit.model.encode import encode
    from latentkit.model.train import train

    root = tmp_path_factory.mktemp("digits")
    found = load_digits()
    for label in range(10):
        folder = root / "digits" / str(label)
        folder.mkdir(parents=True)
        for k, i in enumerate(np.flatnonzero(found.target == label)[:PER_CLASS]):
            Image.fromarray((found.images[i] * 255 / 16).astype(np.uint8)).save(folder / f"{k:03d}.png")
    store = root / "digits.zarr"
    said = cli("prepare", "images", root / "digits", "--out", store, "--size", str(SIDE), "--chunk", "64")
    run = root / "run"
    train(data=store, run=run, job="demo", overrides={**TINY_OVERRIDES, "train.epochs": 1})
    encode(run=run, chunk=64)
    group = zarr.open_group(store, mode="r")
    images = group["images"][:]
    return {
        "root": root,
        "store": store,
        "run": run,
        "prepared": said,
        "images": images,
        "labels": np.array([int(name.split("/")[0]) for name in group["names"][:]]),
        "row_of": {image.tobytes(): row for row, image in enumerate(images)},
        "partition": group["partition"][:],
    }


def tiles(path: Path) -> np.ndarray:
    """A grid PNG cut back into its tiles: (rows, columns, SIDE, SIDE, 3) uint8."""
    picture = np.asarray(Image.open(path).convert("RGB"))
    rows, columns = (picture.shape[0] - PAD) // (SIDE + PAD), (picture.shape[1] - PAD) // (SIDE + PAD)
    step = SIDE + PAD
    return np.array(
        [
            [
                picture[PAD + r * step : PAD + r * step + SIDE, PAD + c * step : PAD + c * step + SIDE]
                for c in range(columns)
            ]
            for r in range(rows)
        ]
    )


def test_a_reconstruction_grid_of_a_class_sorted_folder_shows_several_classes(digits, tmp_path):
    """The first 16 rows of the folder are all zeros; the grid's 16 originals are a seeded
    sample across it (store order): several classes, the same ones for the same seed."""
    assert set(digits["labels"][:16]) == {0}  # what the first rows would have shown
    said = cli("reconstruct", "--run", digits["run"], "--partition", "all", "--n", "16", "--out", tmp_path / "a.png")
    assert "wrote 16 originals" in said.stdout
    grid = tiles(tmp_path / "a.png")
    assert grid.shape[:2] == (4, 8)  # two pairs of rows: originals, then their reconstructions
    rows = [digits["row_of"][tile.tobytes()] for tile in grid[0::2].reshape(-1, SIDE, SIDE, 3)]
    assert rows == sorted(rows) and len(set(rows)) == 16  # store order, each image once
    assert len(set(digits["labels"][rows])) >= 5
    cli("reconstruct", "--run", digits["run"], "--partition", "all", "--n", "16", "--out", tmp_path / "b.png")
    np.testing.assert_array_equal(tiles(tmp_path / "b.png"), grid)  # same seed, same picture
    cli(
        "reconstruct",
        "--run",
        digits["run"],
        "--partition",
        "all",
        "--n",
        "16",
        "--seed",
        "1",
        "--out",
        tmp_path / "c.png",
    )
    other = [digits["row_of"][tile.tobytes()] for tile in tiles(tmp_path / "c.png")[0::2].reshape(-1, SIDE, SIDE, 3)]
    assert other != rows


def test_each_reconstruction_stays_under_its_original_when_the_last_row_is_short(digits, tmp_path):
    """20 images in rows of 8: the third pair of rows holds 4 originals and their 4
    reconstructions, white beyond; each reconstruction is the model's of the original above it."""
    from latentkit.analysis.report.decoded import reconstruct
    from latentkit.model.opened import OpenedRun
    from latentkit.store import to_unit_float

    result = reconstruct(run=digits["run"], out=tmp_path / "r.png", n=20, partition="all")
    grid = tiles(tmp_path / "r.png")
    assert grid.shape[:2] == (6, 8) and result["n"] == 20
    originals, rebuilt = grid[0::2], grid[1::2]
    assert (originals[2, 4:] == 255).all() and (rebuilt[2, 4:] == 255).all()  # the short pair: white beyond 4
    shown = np.concatenate([originals[0], originals[1], originals[2, :4]])
    np.testing.assert_array_equal(shown, digits["images"][result["rows"]])
    expected = OpenedRun.of(digits["run"]).codec(mu_only=False).reconstruct(to_unit_float(shown))
    expected = np.clip(np.rint(expected * 255), 0, 255)
    below = np.concatenate([rebuilt[0], rebuilt[1], rebuilt[2, :4]]).astype(np.float64)
    assert np.abs(below - expected).max() <= 1  # each under its own original (rounding aside)
    assert np.abs(below - np.roll(expected, 1, axis=0)).max() > 1  # one tile off would show


def test_a_demo_style_grid_of_a_class_sorted_folder_samples_the_valid_partition(digits, tmp_path):
    """Without --partition: the valid partition, sampled across (rows from several classes, all valid)."""
    from latentkit.analysis.report.decoded import reconstruct
    from latentkit.store import PARTITIONS

    result = reconstruct(run=digits["run"], out=tmp_path / "v.png", n=8)
    assert (digits["partition"][result["rows"]] == PARTITIONS["valid"]).all()
    assert len(set(digits["labels"][result["rows"]])) >= 4


def test_interpolation_ends_are_drawn_across_the_partition_not_its_first_rows(digits, tmp_path):
    from latentkit.store import PARTITIONS

    said = cli("interpolate", "--run", digits["run"], "--steps", "4", "--out", tmp_path / "i.png")
    start, stop = (int(v) for v in re.search(r"from row (\d+) to row (\d+)", said.stdout).groups())
    assert start != stop and {start, stop} != {0, 1}
    assert (digits["partition"][[start, stop]] == PARTITIONS["valid"]).all()
    assert digits["labels"][start] != digits["labels"][stop]
    again = cli("interpolate", "--run", digits["run"], "--steps", "4", "--out", tmp_path / "j.png")
    assert f"from row {start} to row {stop}" in again.stdout  # the same seed draws the same ends
    given = cli("interpolate", "--run", digits["run"], "--from", "3", "--steps", "4", "--out", tmp_path / "k.png")
    assert "from row 3 to row " in given.stdout and "to row 3 " not in given.stdout
    picture = tiles(tmp_path / "i.png")
    assert picture.shape[:2] == (1, 6)  # the two originals at the ends of 4 decoded steps
    assert digits["row_of"][picture[0, 0].tobytes()] == start and digits["row_of"][picture[0, -1].tobytes()] == stop


def test_plane_chooses_zooms_whose_windows_hold_points_on_small_data(digits, tmp_path):
    """300 digits: the default zooms stop where a window still holds points; the studies' x50
    asked for is said to be nearly empty, why, and how deep to go instead."""
    from latentkit.analysis.plane import NEARLY_EMPTY, STUDY_ZOOMS, deepest_zoom, default_zooms

    said = cli("plane", "--run", digits["run"], "--out", tmp_path / "auto")
    report = json.loads((tmp_path / "auto" / "plane_pcs_0-1.json").read_text())
    zooms = [row["zoom"] for row in report["zooms"]]
    assert zooms[0] == 1 and 2 < zooms[-1] < 50 and len(zooms) == 3
    assert all(row["points"] >= NEARLY_EMPTY for row in report["zooms"]), report["zooms"]
    assert "nearly empty" not in said.stderr and f"for {report['n']:,} points" in said.stderr
    asked = cli("plane", "--run", digits["run"], "--out", tmp_path / "asked", "--zoom", "1,10,50")
    deep = json.loads((tmp_path / "asked" / "plane_pcs_0-1.json").read_text())["zooms"][-1]
    assert deep["points"] < NEARLY_EMPTY
    line = next(line for line in asked.stderr.splitlines() if "zoom x50" in line)
    assert "nearly empty" in line and "fitted normal" in line and "or less holds about 50" in line
    # many points: the studies' zooms, unchanged
    assert default_zooms(deepest_zoom(20_000, np.zeros(2), np.eye(2), np.zeros(2), 4.0)) == STUDY_ZOOMS


def test_the_words_say_images_unless_the_store_is_of_faces(digits, tmp_path):
    """noun(): images for the digits (store, latents, run), faces for CelebA, the synthetic faces
    and a folder prepared with --faces (also said on a rerun); the report page says so."""
    from fixtures.images import make_celeba

    from latentkit.analysis.analyze import AnalyzeOptions, analyze
    from latentkit.analysis.report.page import write_page
    from latentkit.core import JobEvents
    from latentkit.ingest.prepare import prepare_celeba, prepare_synthetic
    from latentkit.store import noun

    run = digits["run"]
    assert [noun(where) for where in (digits["store"], run / "latents.zarr", run)] == ["images"] * 3
    assert noun(tmp_path / "nothing") == "images"
    prepare_synthetic(out=tmp_path / "s.zarr", n=8, size=16, chunk=8)
    prepare_celeba(src=make_celeba(tmp_path / "celeba", n=6), out=tmp_path / "c.zarr", size=16, chunk=8)
    assert noun(tmp_path / "s.zarr") == noun(tmp_path / "c.zarr") == "faces"
    cli("prepare", "images", digits["root"] / "digits" / "7", "--out", tmp_path / "f.zarr", "--size", "16", "--faces")
    cli("prepare", "images", digits["root"] / "digits" / "7", "--out", tmp_path / "g.zarr", "--size", "16")
    assert (noun(tmp_path / "f.zarr"), noun(tmp_path / "g.zarr")) == ("faces", "images")
    cli("prepare", "images", digits["root"] / "digits" / "7", "--out", tmp_path / "g.zarr", "--size", "16", "--faces")
    assert noun(tmp_path / "g.zarr") == "faces"  # said later: the store learns it

    class Said(JobEvents):
        lines: list[str] = []

        def start(self, description, total, done=0, unit="items"):
            self.lines.append(description)

    analyze(
        latents=run / "latents.zarr",
        out=run / "analysis",
        options=AnalyzeOptions(tsne=False, kmeans=False, figures=False, generator_samples=500),
    )
    write_page(run, points=40, events=Said())
    assert "report: 40 images on the map" in Said.lines


def test_reconstruct_takes_your_own_photos_cropped_and_resized_as_prepare_does(tiny_ae, tmp_path):
    from fixtures.commands import cli

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(11)
    Image.fromarray(rng.integers(0, 255, (90, 120, 3), np.uint8)).save(photos / "a_wide.jpg")
    Image.fromarray(rng.integers(0, 255, (64, 64), np.uint8)).save(photos / "b_grey.png")
    (photos / "c_broken.jpg").write_bytes(b"not a jpeg")
    (photos / "notes.txt").write_text("not an image")
    result = cli("reconstruct", "--run", tiny_ae, "--images", photos, "--out", tmp_path / "mine.png")
    assert "wrote 2 originals" in result.stdout and "c_broken.jpg: not a readable image" in result.stderr
    with Image.open(tmp_path / "mine.png") as image:
        assert image.size == (2 * 34 + 2, 2 * 34 + 2)  # two 32 px originals over their reconstructions
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = cli("reconstruct", "--run", tiny_ae, "--images", empty, "--out", tmp_path / "none.png", check=False)
    assert refused.returncode == 2 and "holds no image" in refused.stderr and not (tmp_path / "none.png").exists()
