"""Stores and latents as the ecosystem opens them: xarray, plain npy and parquet exports."""

import json
import subprocess

import numpy as np
import pytest
import zarr
from fixtures.commands import cli, kill_when, start_cli
from fixtures.images import ATTRIBUTES, make_celeba
from fixtures.runs import TINY_OVERRIDES

from latentkit.ingest.prepare import prepare_celeba, prepare_synthetic
from latentkit.ingest.synthetic import FACTOR_NAMES
from latentkit.model.encode import encode
from latentkit.model.train import train

xr = pytest.importorskip("xarray")


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("interop")
    data = root / "s32.zarr"
    prepare_synthetic(out=data, n=250, size=32, chunk=64)
    train(data=data, run=root / "vae", job="vae", overrides={**TINY_OVERRIDES, "train.epochs": 1})
    encode(run=root / "vae", chunk=50, batch=25)
    return root / "vae", data


def open_dataset(path):
    return xr.open_zarr(path, consolidated=False)


def test_xarray_opens_an_image_store_with_factor_labels(vae_run):
    _, data = vae_run
    ds, group = open_dataset(data), zarr.open_group(data, mode="r")
    assert ds["images"].dims == ("image", "y", "x", "channel")
    assert ds["factors"].dims == ("image", "factor") and ds["partition"].dims == ("image",)
    assert list(ds["factor"].values) == list(FACTOR_NAMES)
    np.testing.assert_array_equal(ds["images"][:40].values, group["images"][:40])
    np.testing.assert_array_equal(
        ds["factors"].sel(factor="skin_tone").values, group["factors"][:, FACTOR_NAMES.index("skin_tone")]
    )
    valid = ds["factors"].where(ds["partition"] == 1, drop=True)
    assert len(valid) == int((group["partition"][:] == 1).sum())


def test_xarray_opens_a_celeba_store_with_attribute_labels(tmp_path):
    out = tmp_path / "c.zarr"
    prepare_celeba(src=make_celeba(tmp_path / "c", n=20), out=out, chunk=8)
    ds, group = open_dataset(out), zarr.open_group(out, mode="r")
    assert list(ds["attribute"].values) == list(ATTRIBUTES)
    np.testing.assert_array_equal(
        ds["attributes"].sel(attribute="Smiling").values, group["attributes"][:, ATTRIBUTES.index("Smiling")]
    )
    assert list(ds["names"].values) == list(group["names"][:])


def test_xarray_opens_a_vaes_latents(vae_run):
    run, _ = vae_run
    ds, group = open_dataset(run / "latents.zarr"), zarr.open_group(run / "latents.zarr", mode="r")
    for key in ("z", "mu", "logvar"):
        assert ds[key].dims == ("image", "latent")
        np.testing.assert_array_equal(ds[key].values, group[key][:])
    assert ds["ok"].dims == ("image",) and ds["chunk_done"].dims == ("chunk",)


def test_upgrade_gives_an_old_store_its_dimension_names(vae_run, tmp_path):
    import shutil

    _, data = vae_run
    old = tmp_path / "old.zarr"
    shutil.copytree(data, old)
    for meta in old.glob("*/zarr.json"):  # what format 1 wrote: no dimension names, no label arrays
        doc = json.loads(meta.read_text())
        doc.pop("dimension_names", None)
        meta.write_text(json.dumps(doc))
    shutil.rmtree(old / "factor")
    group = zarr.open_group(old, mode="r+")
    group.attrs["format_version"] = 1
    with pytest.raises(Exception, match="dimension_names"):
        open_dataset(old)
    before = group["images"][:]
    result = cli("upgrade", old)
    assert "images: dimensions image, y, x, channel" in result.stdout and "factor: labels" in result.stdout
    ds = open_dataset(old)
    np.testing.assert_array_equal(ds["images"].values, before)
    assert list(ds["factor"].values) == list(FACTOR_NAMES)
    assert zarr.open_group(old, mode="r").attrs["format_version"] == 2
    assert "already current" in cli("upgrade", old).stdout


def test_export_npy_of_a_partition_equals_the_selected_rows(vae_run, tmp_path):
    run, data = vae_run
    out = tmp_path / "valid"
    result = cli(
        "export",
        "--run",
        run,
        "--format",
        "npy",
        "--partition",
        "valid",
        "--columns",
        "row,names,z,mu,factors",
        "--out",
        out,
    )
    group, latents = zarr.open_group(data, mode="r"), zarr.open_group(run / "latents.zarr", mode="r")
    rows = np.flatnonzero((group["partition"][:] == 1) & latents["ok"][:])
    np.testing.assert_array_equal(np.load(out / "row.npy"), rows)
    np.testing.assert_array_equal(np.load(out / "z.npy"), latents["z"][:][rows])
    np.testing.assert_array_equal(np.load(out / "mu.npy"), latents["mu"][:][rows])
    np.testing.assert_array_equal(np.load(out / "factors.npy"), group["factors"][:][rows])
    assert list(np.load(out / "names.npy")) == list(group["names"][:][rows])
    assert json.loads((out / "columns.json").read_text())["labels"]["factors"] == list(FACTOR_NAMES)
    assert f"exported {len(rows)} rows" in result.stdout


def test_export_parquet_equals_the_selected_rows(vae_run, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    run, data = vae_run
    out = tmp_path / "train.parquet"
    cli(
        "export",
        "--run",
        run,
        "--format",
        "parquet",
        "--partition",
        "train",
        "--columns",
        "row,names,partition,z,factors",
        "--out",
        out,
    )
    table = pq.read_table(out)
    group, latents = zarr.open_group(data, mode="r"), zarr.open_group(run / "latents.zarr", mode="r")
    rows = np.flatnonzero((group["partition"][:] == 0) & latents["ok"][:])
    np.testing.assert_array_equal(table["row"].to_numpy(), rows)
    np.testing.assert_array_equal(np.stack(table["z"].to_numpy(zero_copy_only=False)), latents["z"][:][rows])
    np.testing.assert_array_equal(
        table["skin_tone"].to_numpy(), group["factors"][:][rows, FACTOR_NAMES.index("skin_tone")]
    )
    assert set(table["partition"].to_numpy()) == {0}


@pytest.mark.system
@pytest.mark.parametrize("fmt, name", [("npy", "killed"), ("parquet", "killed.parquet")])
def test_an_export_killed_mid_way_leaves_no_file_under_its_final_name(vae_run, tmp_path, fmt, name):
    run, _ = vae_run
    out = tmp_path / name
    process = start_cli(
        "export",
        "--run",
        run,
        "--format",
        fmt,
        "--columns",
        "row,z,mu,logvar",
        "--out",
        out,
        env={"LATENTKIT_THROTTLE_S": "0.3"},
    )
    kill_when(process, lambda: any(p.name.startswith(f".{name}.") for p in tmp_path.iterdir()))
    assert not out.exists()
    cli("export", "--run", run, "--format", fmt, "--columns", "row,z,mu,logvar", "--out", out)
    assert out.exists()


def test_export_that_would_not_fit_is_refused_up_front(vae_run, tmp_path):
    run, _ = vae_run
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        result = cli(
            "export",
            "--run",
            run,
            "--format",
            "npy",
            "--columns",
            "row,names,z,mu,logvar",
            "--out",
            small / "all",
            check=False,
        )
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "MB free" in result.stderr and not any(small.iterdir())
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_export_bad_columns_and_partition_are_one_line(vae_run, tmp_path):
    run, _ = vae_run
    for args, words in (
        (("--columns", "z,attributes"), "attributes not in this run"),
        (("--partition", "holdout"), "--partition"),
        (("--format", "csv"), "--format"),
    ):
        full = {"--format": "npy", **dict([args])}
        options = [x for k, v in full.items() for x in (k, v)]
        result = cli("export", "--run", run, *options, "--out", tmp_path / "x", check=False)
        assert result.returncode == 2 and words in result.stderr, result.stderr
