"""prepare: synthetic faces, CelebA's folder and zip, crops, partitions, kills and concurrent tasks, the
training batches read from a store, and the decoding threads the CPUs allow."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import zarr
from fixtures.commands import cli, kill_when, start_cli
from fixtures.images import CORRUPT, GRAY, make_celeba
from fixtures.stores import assert_same_store, chunks_done

from latentkit.ingest.celeba import open_celeba
from latentkit.ingest.prepare import prepare_celeba, prepare_synthetic
from latentkit.ingest.synthetic import FACTOR_NAMES, render_faces, synthetic_factors
from latentkit.store.info import store_summary


def test_synthetic_image_depends_only_on_seed_and_index(tmp_path):
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    prepare_synthetic(out=a, n=50, chunk=16, seed=3)
    prepare_synthetic(out=b, n=30, chunk=7, seed=3)
    ga, gb = zarr.open_group(a), zarr.open_group(b)
    np.testing.assert_array_equal(ga["images"][:30], gb["images"][:])
    np.testing.assert_array_equal(ga["factors"][:30], gb["factors"][:])
    assert ga["factors"].shape == (50, len(FACTOR_NAMES))
    assert not np.array_equal(ga["images"][0], ga["images"][1])
    other, _ = synthetic_factors(4, 0, 1)
    assert not np.array_equal(render_faces(other), ga["images"][:1])


def test_synthetic_factors_are_standard_normal_and_drive_pixels():
    factors, partition = synthetic_factors(0, 0, 3000)
    assert abs(factors.mean()) < 0.05 and abs(factors.std() - 1) < 0.05
    assert 0.75 < np.mean(partition == 0) < 0.85
    # Skin tone is a factor: the face centre gets brighter with it.
    images = render_faces(factors[:500]).astype(float)
    centre = images[:, 44:52, 44:52].mean(axis=(1, 2, 3))
    skin = factors[:500, FACTOR_NAMES.index("skin_tone")]
    assert np.corrcoef(centre, skin)[0, 1] > 0.5


def test_celeba_folder_formats(celeba_folder, tmp_path):
    out = tmp_path / "c.zarr"
    prepare_celeba(src=celeba_folder, out=out, chunk=8)
    group = zarr.open_group(out)
    assert group["images"].shape == (40, 96, 96, 3)
    assert list(group["names"][:3]) == ["000001.jpg", "000002.jpg", "000003.jpg"]
    ok = group["ok"][:]
    assert not ok[CORRUPT - 1] and ok.sum() == 39
    assert not group["images"][CORRUPT - 1].any()
    gray = group["images"][GRAY - 1]
    assert np.array_equal(gray[..., 0], gray[..., 1]) and gray.any()
    expected = np.load(celeba_folder / "expected_attributes.npy")
    np.testing.assert_array_equal(group["attributes"][:], expected)
    assert len(group.attrs["attribute_names"]) == 40
    assert np.bincount(group["partition"][:]).tolist() == [24, 8, 8]
    summary = store_summary(out)
    assert summary["skipped"] == [f"{CORRUPT:06d}.jpg"]
    assert summary["partitions"] == {"train": 23, "valid": 8, "test": 8}


def test_crop_and_resize_match_pillow(celeba_folder, tmp_path):
    from PIL import Image

    from latentkit.ingest.decoding import decode_image

    data = (celeba_folder / "img_align_celeba" / "000001.jpg").read_bytes()
    with Image.open(celeba_folder / "img_align_celeba" / "000001.jpg") as image:
        rgb = image.convert("RGB")
    for size, box in ((96, (15, 40, 163, 188)), (32, (10, 20, 150, 200))):
        expected = np.asarray(rgb.crop(box).resize((size, size), Image.Resampling.BILINEAR))
        np.testing.assert_array_equal(decode_image(data, crop=box, size=size, draft=False), expected)
    # At most half the crop, the JPEG is decoded at reduced scale (DCT-domain averaging)
    # before the same bilinear resize: close to the full decode, not equal.
    out = tmp_path / "c.zarr"
    prepare_celeba(src=celeba_folder, out=out, size=32, crop=(10, 20, 150, 200))
    stored = zarr.open_group(out)["images"][0].astype(int)
    full = decode_image(data, crop=(10, 20, 150, 200), size=32, draft=False).astype(int)
    assert 0 < np.abs(stored - full).mean() < 4
    at_96 = tmp_path / "c96.zarr"
    prepare_celeba(src=celeba_folder, out=at_96, size=96)  # 96 > 148 / 2: decoded in full, exactly Pillow's
    np.testing.assert_array_equal(
        zarr.open_group(at_96)["images"][0], decode_image(data, crop=(15, 40, 163, 188), size=96, draft=False)
    )


def test_zip_equals_folder(celeba_folder, celeba_zip, tmp_path):
    a, b = tmp_path / "folder.zarr", tmp_path / "zip.zarr"
    prepare_celeba(src=celeba_folder, out=a, chunk=8)
    prepare_celeba(src=celeba_zip, out=b, chunk=8)
    assert_same_store(a, b, ignore_attrs=("input", "annotations", "partition_from"))  # they name the input's paths
    for store_path in (a, b):
        assert zarr.open_group(store_path).attrs["partition_from"].endswith("list_eval_partition.txt")


def test_one_decoding_thread_equals_several(celeba_folder, tmp_path):
    one, two = tmp_path / "one.zarr", tmp_path / "two.zarr"
    prepare_celeba(src=celeba_folder, out=one, chunk=16, workers=1)  # decodes on the calling thread
    prepare_celeba(src=celeba_folder, out=two, chunk=16, workers=2)
    assert_same_store(one, two)


def test_partition_falls_back_to_official_split(tmp_path):
    root = make_celeba(tmp_path / "c", n=6)
    (root / "list_eval_partition.txt").unlink()
    source = open_celeba(root)
    assert source.partition.tolist() == [0] * 6  # numbers below 162,770 are train


@pytest.mark.system
def test_sigkill_mid_chunk_then_rerun_equals_uninterrupted(tmp_path):
    root = make_celeba(tmp_path / "c", n=60)
    whole, killed = tmp_path / "whole.zarr", tmp_path / "killed.zarr"
    cli("prepare", "celeba", root, "--out", whole, "--chunk", "4")
    process = start_cli(
        "prepare", "celeba", root, "--out", killed, "--chunk", "4", env={"LATENTKIT_THROTTLE_S": "0.05"}
    )
    kill_when(process, lambda: chunks_done(killed) >= 3)
    group = zarr.open_group(killed)
    done = group["chunk_done"][:]
    assert 3 <= done.sum() < len(done)
    # The chunk being written when killed may hold images but must not count as done.
    cli("prepare", "celeba", root, "--out", killed, "--chunk", "4")
    assert_same_store(whole, killed)


@pytest.mark.system
def test_two_concurrent_tasks_equal_one(tmp_path):
    root = make_celeba(tmp_path / "c", n=40)
    one, two = tmp_path / "one.zarr", tmp_path / "two.zarr"
    cli("prepare", "celeba", root, "--out", one, "--chunk", "4")
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "latentkit", "prepare", "celeba", str(root), "--out", str(two), "--chunk", "4"],
            env={**os.environ, "SLURM_ARRAY_TASK_ID": str(t), "SLURM_ARRAY_TASK_COUNT": "2"},
        )
        for t in range(2)
    ]
    assert [w.wait(timeout=300) for w in workers] == [0, 0]
    assert_same_store(one, two)


def test_rerun_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "s.zarr"
    prepare_synthetic(out=out, n=10)
    result = cli("prepare", "synthetic", "--n", "10", "--size", "64", "--out", out, check=False)
    assert result.returncode == 2 and "size" in result.stderr


def _assert_one_line_error(result, *words):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0]


def test_bad_sources_give_one_line_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "notes.txt").write_text("not an image")
    no_images = tmp_path / "no_images.zip"
    with zipfile.ZipFile(no_images, "w") as z:
        z.writestr("readme.txt", "nothing here")
    cases = [
        (tmp_path / "missing", "does not exist"),
        (empty, "no images"),
        (texts, "no images"),
        (no_images, "no images"),
        (texts / "notes.txt", "neither"),
    ]
    for src, words in cases:
        _assert_one_line_error(cli("prepare", "celeba", src, "--out", tmp_path / "o.zarr", check=False), words)
    _assert_one_line_error(
        cli("prepare", "celeba", empty, "--out", tmp_path / "o.zarr", "--crop", "1,2", check=False), "--crop"
    )
    _assert_one_line_error(cli("info", tmp_path / "nothing.zarr", check=False), "no latentkit store")


def test_info_prints_summary(celeba_folder, tmp_path):
    out = tmp_path / "c.zarr"
    prepare_celeba(src=celeba_folder, out=out)
    text = cli("info", out).stdout
    assert "39 of 40" in text and "train 23" in text and f"{CORRUPT:06d}.jpg" in text


@pytest.mark.parametrize("partition, count", [("train", 23), ("valid", 8), (None, 39)])
def test_generator_batches_equal_stored_pixels(celeba_folder, tmp_path, partition, count):
    from latentkit.model.dataset import ZarrImageDataset

    out = tmp_path / "c.zarr"
    prepare_celeba(src=celeba_folder, out=out, chunk=8)
    stored = zarr.open_group(out)["images"][:]
    data = ZarrImageDataset(out, batch_size=5, partition=partition, seed=1)
    seen = []
    for i in range(len(data)):
        x, y = data[i]
        assert x.dtype == np.float32 and x is y or np.array_equal(x, y)
        rows = data.order[i * 5 : (i + 1) * 5]
        np.testing.assert_array_equal(x, stored[rows].astype(np.float32) * np.float32(1 / 255))  # the one scaling
        seen.extend(rows)
    assert len(seen) == count == len(set(seen)) and CORRUPT - 1 not in seen
    assert len(data.cache._chunks) <= 2


def test_shuffle_is_chunk_aligned_and_changes_per_epoch(tmp_path):
    from latentkit.model.dataset import ZarrImageDataset

    out = tmp_path / "s.zarr"
    prepare_synthetic(out=out, n=100, chunk=10)
    data = ZarrImageDataset(out, batch_size=10, partition=None, targets=False, seed=2)
    first = data.order.copy()
    chunk_ids = first // 10
    assert (np.diff(chunk_ids) != 0).sum() == 9  # each chunk read as one contiguous run
    assert sorted(first) == list(range(100)) and not np.array_equal(first, np.arange(100))
    data.on_epoch_end()
    assert not np.array_equal(first, data.order)
    data.set_epoch(0)
    np.testing.assert_array_equal(first, data.order)
    assert data[0].shape == (10, 96, 96, 3)


def test_prepare_bound_to_one_cpu_decodes_with_one_thread(tmp_path):
    """Issue 47: prepare sized its threads by every core of the machine; bound to one CPU (as a
    SLURM task given 1 of a node's CPUs) it says it decodes with one."""
    import os
    import subprocess
    import sys

    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (40, 40), (60 * i, 20, 200)).save(folder / f"{i}.png")
    first = min(os.sched_getaffinity(0))
    code = "import sys; from latentkit.cli.main import run; sys.exit(run())"
    bound = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "prepare",
            "images",
            str(folder),
            "--out",
            str(tmp_path / "s.zarr"),
            "--size",
            "32",
        ],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {first}),
    )
    assert bound.returncode == 0, bound.stderr
    assert "prepare: 1 decoding thread (the CPUs this process may use)" in bound.stdout + bound.stderr
