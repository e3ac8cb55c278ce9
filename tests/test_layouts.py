"""CelebA in every layout users have, and any folder of images, built at test time."""

import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import zarr
from fixtures.commands import cli
from fixtures.images import ATTRIBUTES, CORRUPT, make_celeba
from PIL import Image

from latentkit.ingest.prepare import hash_split, prepare_celeba, prepare_images
from latentkit.store.info import store_summary

N = 24
LANDMARKS = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    """One CelebA look-alike (images + every annotation as txt and csv) and its expected arrays."""
    root = tmp_path_factory.mktemp("base")
    make_celeba(root, n=N)
    rng = np.random.default_rng(1)
    names = [f"{i:06d}.jpg" for i in range(1, N + 1)]
    identity = rng.integers(1, 10_178, N)
    landmarks = rng.integers(60, 160, (N, 10))
    partition = [int(line.split()[1]) for line in (root / "list_eval_partition.txt").read_text().splitlines()]
    attributes = np.load(root / "expected_attributes.npy")
    txt = root / "txt"
    txt.mkdir()
    shutil.move(root / "list_eval_partition.txt", txt)
    shutil.move(root / "list_attr_celeba.txt", txt)
    (txt / "identity_CelebA.txt").write_text("".join(f"{n} {i}\n" for n, i in zip(names, identity)))
    (txt / "list_landmarks_align_celeba.txt").write_text(
        f"{N}\n{LANDMARKS}\n" + "".join(f"{n} " + "  ".join(map(str, r)) + "\n" for n, r in zip(names, landmarks))
    )
    (txt / "list_bbox_celeba.txt").write_text(
        f"{N}\nimage_id x_1 y_1 width height\n" + "".join(f"{n} 95 71 226 313\n" for n in names)
    )
    csv = root / "csv"
    csv.mkdir()
    (csv / "list_eval_partition.csv").write_text(
        "image_id,partition\n" + "".join(f"{n},{p}\n" for n, p in zip(names, partition))
    )
    (csv / "list_attr_celeba.csv").write_text(
        "image_id,"
        + ",".join(ATTRIBUTES)
        + "\n"
        + "".join(f"{n}," + ",".join(map(str, r)) + "\n" for n, r in zip(names, attributes))
    )
    (csv / "list_landmarks_align_celeba.csv").write_text(
        "image_id,"
        + LANDMARKS.replace(" ", ",")
        + "\n"
        + "".join(f"{n}," + ",".join(map(str, r)) + "\n" for n, r in zip(names, landmarks))
    )
    (csv / "list_bbox_celeba.csv").write_text(
        "image_id,x_1,y_1,width,height\n" + "".join(f"{n},95,71,226,313\n" for n in names)
    )
    return {
        "root": root,
        "images": root / "img_align_celeba",
        "txt": txt,
        "csv": csv,
        "names": names,
        "partition": partition,
        "attributes": attributes,
        "identity": identity,
        "landmarks": landmarks,
    }


def _zip_folder(folder: Path, archive: Path, prefix: str) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{prefix}{path.relative_to(folder).as_posix()}")
    return archive


def _copy_images(base, to: Path) -> Path:
    shutil.copytree(base["images"], to)
    return to


def official(base, root: Path) -> Path:
    """The CelebA Google Drive folder: Img/img_align_celeba.zip, Anno/, Eval/."""
    (root / "Img").mkdir(parents=True)
    _zip_folder(base["images"], root / "Img" / "img_align_celeba.zip", "img_align_celeba/")
    (root / "Anno").mkdir()
    for name in (
        "list_attr_celeba.txt",
        "identity_CelebA.txt",
        "list_landmarks_align_celeba.txt",
        "list_bbox_celeba.txt",
    ):
        shutil.copy(base["txt"] / name, root / "Anno")
    (root / "Eval").mkdir()
    shutil.copy(base["txt"] / "list_eval_partition.txt", root / "Eval")
    return root


def kaggle(base, root: Path) -> Path:
    """The Kaggle copy unpacked: img_align_celeba/img_align_celeba/*.jpg and list_*.csv."""
    _copy_images(base, root / "img_align_celeba" / "img_align_celeba")
    for path in base["csv"].iterdir():
        shutil.copy(path, root)
    return root


def torchvision(base, root: Path) -> Path:
    _copy_images(base, root / "celeba" / "img_align_celeba")
    for path in base["txt"].iterdir():
        shutil.copy(path, root / "celeba")
    return root


def _expect(base, out: Path, *, landmarks=True, identity=True) -> None:
    group = zarr.open_group(out, mode="r")
    assert list(group["names"][:]) == base["names"]
    assert group["partition"][:].tolist() == base["partition"]
    np.testing.assert_array_equal(group["attributes"][:], base["attributes"])
    assert group.attrs["attribute_names"] == list(ATTRIBUTES)
    if identity:
        np.testing.assert_array_equal(group["identity"][:], base["identity"])
    if landmarks:
        np.testing.assert_array_equal(group["landmarks"][:], base["landmarks"])
        assert group.attrs["landmark_names"] == LANDMARKS.split()
    assert group["ok"][:].sum() == N - 1 and not group["ok"][CORRUPT - 1]


@pytest.fixture(scope="module")
def reference(base, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "ref.zarr"
    prepare_celeba(
        src=base["images"],
        out=out,
        chunk=8,
        partition_file=base["txt"] / "list_eval_partition.txt",
        attributes_file=base["txt"] / "list_attr_celeba.txt",
    )
    return out


def _same_pixels(a: Path, b: Path) -> None:
    np.testing.assert_array_equal(zarr.open_group(a, mode="r")["images"][:], zarr.open_group(b, mode="r")["images"][:])


@pytest.mark.parametrize(
    "layout, src",
    [
        ("official", lambda root: root / "Img" / "img_align_celeba.zip"),
        ("official", lambda root: root),
        ("kaggle", lambda root: root),
        ("kaggle", lambda root: root / "img_align_celeba" / "img_align_celeba"),
        ("kaggle-zip", lambda root: root / "archive.zip"),
        ("torchvision", lambda root: root),
        ("torchvision", lambda root: root / "celeba" / "img_align_celeba"),
    ],
)
def test_every_layout_puts_annotations_on_the_right_rows(base, reference, tmp_path, layout, src):
    root = tmp_path / layout
    if layout == "kaggle-zip":
        root.mkdir()
        _zip_folder(kaggle(base, tmp_path / "unpacked"), root / "archive.zip", "")
    else:
        {"official": official, "kaggle": kaggle, "torchvision": torchvision}[layout](base, root)
    out = tmp_path / "out.zarr"
    result = cli("prepare", "celeba", src(root), "--out", out, "--chunk", "8")
    _expect(base, out, identity=not layout.startswith("kaggle"))  # the Kaggle copy has no identity file
    _same_pixels(reference, out)
    for kind in ("partition", "attributes", "identity", "landmarks"):
        assert f"{kind}: " in result.stderr  # where each one came from, said out loud
    assert "boxes of the unaligned images" in result.stderr
    annotations = zarr.open_group(out, mode="r").attrs["annotations"]
    assert annotations["attributes"]["matched"] == N and annotations["bbox"]["from"]


@pytest.mark.parametrize("suffix, mode", [(".tar", "w"), (".tar.gz", "w:gz")])
def test_tar_and_tar_gz_equal_the_folder(base, reference, tmp_path, suffix, mode):
    archive = tmp_path / f"img_align_celeba{suffix}"
    with tarfile.open(archive, mode) as tar:
        tar.add(base["images"], arcname="img_align_celeba")
    for path in base["txt"].iterdir():
        shutil.copy(path, tmp_path)
    out = tmp_path / "out.zarr"
    prepare_celeba(src=archive, out=out, chunk=8)
    _expect(base, out)
    _same_pixels(reference, out)
    assert not list(tmp_path.glob("*.latentkit-unpacked.tar"))  # the unpacked copy of a .tar.gz is gone


def test_missing_annotations_are_reported_not_silent(base, tmp_path):
    src = _copy_images(base, tmp_path / "img_align_celeba")
    out = tmp_path / "out.zarr"
    result = cli("prepare", "celeba", src, "--out", out, "--chunk", "8")
    assert "no partition file: official split by file number" in result.stderr
    assert "no attributes file: attributes not stored" in result.stderr
    group = zarr.open_group(out, mode="r")
    assert group.attrs["partition_from"] == "official split by file number"
    assert group["attributes"].shape == (N, 0) and "identity" not in group and "landmarks" not in group
    info = cli("info", out).stdout
    assert "no partition file" in info and "no attributes file" in info
    assert store_summary(out)["annotations"]["partition"]["from"] is None


def test_mismatched_annotation_rows_warn_with_counts(base, tmp_path):
    src = _copy_images(base, tmp_path / "img_align_celeba")
    lines = (base["txt"] / "list_attr_celeba.txt").read_text().splitlines()
    kept = lines[:2] + lines[2:-3] + ["999999.jpg " + " ".join(["1"] * 40)]  # 3 images lose their row, 1 extra
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(kept) + "\n")
    out = tmp_path / "out.zarr"
    result = cli("prepare", "celeba", src, "--out", out)
    assert (
        "21 rows matched; 3 images have no row; 1 rows name no image found (first: 999999.jpg); "
        "its count line says 24 rows, it has 22" in result.stderr.replace("\n", " ").replace("  ", " ")
    )
    attributes = zarr.open_group(out, mode="r")["attributes"][:]
    assert not attributes[-3:].any() and (attributes[:-3] != 0).all()
    report = zarr.open_group(out, mode="r").attrs["annotations"]["attributes"]
    assert (report["images_without_row"], report["rows_without_image"], report["declared_count"]) == (3, 1, 24)


@pytest.mark.parametrize(
    "text, words",
    [
        ("24\nA B C\n000001.jpg 1 -1\n", "line 3 has 2 values, expected 3"),
        ("24\nA B\n000001.jpg 1 7\n", "expected values in"),
        ("24\n", "no header line"),
    ],
)
def test_malformed_annotation_file_is_one_clear_line(base, tmp_path, text, words):
    src = _copy_images(base, tmp_path / "img_align_celeba")
    bad = tmp_path / "attrs.txt"
    bad.write_text(text)
    result = cli("prepare", "celeba", src, "--out", tmp_path / "o.zarr", "--attributes-file", bad, check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert words in result.stderr and str(bad) in result.stderr


def _photo(size, seed):
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
    return (127 + 120 * np.sin(xx[..., None] / (7 + seed) + yy[..., None] / 11 + np.arange(3))).astype(np.uint8)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A user's folder: nested, mixed formats, modes and sizes, non-numeric names, junk."""
    root = tmp_path_factory.mktemp("photos") / "photos"
    (root / "holiday" / "day 2").mkdir(parents=True)
    Image.fromarray(_photo((640, 480), 1)).save(root / "holiday" / "beach.JPG", quality=92)
    Image.fromarray(_photo((300, 500), 2)).save(root / "holiday" / "day 2" / "portrait.png")
    Image.fromarray(_photo((200, 200), 3)).convert("L").save(root / "gray.jpg")
    Image.fromarray(_photo((150, 120), 4)).convert("CMYK").save(root / "cmyk.jpg")
    rgba = np.zeros((90, 90, 4), np.uint8)  # fully transparent: composited on white
    Image.fromarray(rgba, "RGBA").save(root / "transparent.png")
    Image.fromarray(_photo((64, 80), 5)[..., 0].astype(np.uint16) * 257).save(root / "sixteen.png")
    Image.fromarray(_photo((128, 96), 6)).save(root / "web.webp")
    Image.fromarray(_photo((40, 30), 7)).save(root / "Zeta ü.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (root / "notes.txt").write_text("not an image")
    return root


def test_prepare_images_handles_any_folder(photos, tmp_path):
    out = tmp_path / "p.zarr"
    result = cli("prepare", "images", photos, "--out", out, "--size", "32", "--chunk", "4")
    group = zarr.open_group(out, mode="r")
    names = list(group["names"][:])
    assert names == sorted(names) and len(names) == 9 and "holiday/day 2/portrait.png" in names
    assert "notes.txt" not in names and "1 other files ignored" in result.stderr
    ok = dict(zip(names, group["ok"][:]))
    assert not ok["broken.jpg"] and sum(ok.values()) == 8
    images = dict(zip(names, group["images"][:]))
    assert (images["transparent.png"] == 255).all()
    gray = images["gray.jpg"]
    assert np.array_equal(gray[..., 0], gray[..., 2]) and images["sixteen.png"].any()
    with Image.open(photos / "holiday" / "day 2" / "portrait.png") as image:  # center crop: the middle 300x300
        expected = np.asarray(image.convert("RGB").crop((0, 100, 300, 400)).resize((32, 32), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(images["holiday/day 2/portrait.png"], expected)
    np.testing.assert_array_equal(group["partition"][:], hash_split(names, (0.8, 0.1, 0.1)))
    assert "skipped    1: broken.jpg" in cli("info", out).stdout


def test_prepare_images_split_is_stable_when_files_are_added(photos, tmp_path):
    names = [f"img_{i:04d}.png" for i in range(2000)]
    parts = hash_split(names, (0.8, 0.1, 0.1))
    assert abs(np.mean(parts == 0) - 0.8) < 0.03 and abs(np.mean(parts == 1) - 0.1) < 0.02
    more = hash_split(names + ["new_1.png", "another.jpg"], (0.8, 0.1, 0.1))
    np.testing.assert_array_equal(more[:2000], parts)


def test_prepare_images_zip_equals_folder(photos, tmp_path):
    folder, packed = tmp_path / "f.zarr", tmp_path / "z.zarr"
    prepare_images(src=photos, out=folder, size=24, crop=(0, 0, 30, 30), chunk=4)
    prepare_images(
        src=_zip_folder(photos, tmp_path / "photos.zip", ""), out=packed, size=24, crop=(0, 0, 30, 30), chunk=4
    )
    a, b = zarr.open_group(folder, mode="r"), zarr.open_group(packed, mode="r")
    for key in ("images", "names", "ok", "partition"):
        np.testing.assert_array_equal(a[key][:], b[key][:])


def test_prepare_images_bad_input_is_one_line(photos, tmp_path):
    for args, words in (
        ((photos, "--split", "0.5,0.2"), "--split"),
        ((photos, "--crop", "middle"), "--crop"),
        ((tmp_path,), "no images"),
    ):
        result = cli("prepare", "images", *args, "--out", tmp_path / "o.zarr", check=False)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and words in result.stderr


def test_info_shows_the_images_as_float32_in_memory_beside_the_size_on_disk(tmp_path):
    """Post IX's arithmetic (170,000 images x 96 x 96 x 3 x 4 bytes: more than 20 GB as
    float32): N x H x W x 3 x 4 bytes of a store made here, in the JSON and in the text."""
    from latentkit.ingest.prepare import prepare_synthetic

    out = tmp_path / "s.zarr"
    prepare_synthetic(out=out, n=20, size=24, chunk=8)
    assert store_summary(out)["float32_bytes"] == 20 * 24 * 24 * 3 * 4 == 138_240
    lines = cli("info", out).stdout.splitlines()
    memory = next(line for line in lines if line.startswith("memory"))
    assert "0.13 MB as float32 (20 x 24 x 24 x 3 x 4 = 138,240 bytes)" in memory and "MB on disk" in memory
