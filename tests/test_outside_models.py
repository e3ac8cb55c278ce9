"""Your own model or vectors (issue 28): models built and saved by Keras in a process of their own
(``outside_models.py``, ``outside_build.py``), imported with ``latentkit import-model``; vectors
as .npy, shards and parquet with a labels file. Nothing downloaded."""

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import zarr
from fixtures.commands import cli, cli_in_a_fresh_process, kill_when, start_cli
from fixtures.stores import assert_identical, chunks_done
from PIL import Image

HERE = Path(__file__).resolve().parent

# name: (the files import-model is given, its options; {root} is the folder of the models)
CASES = {
    "functional": (["functional.keras"], []),  # encoder and decoder: sub-models named so
    "split": (["encoder.keras", "decoder.keras"], []),
    "encoder_only": (["encoder.keras"], []),
    "subclassed": (["subclassed.keras"], ["--custom-objects", "{root}/mymodels.py"]),  # a registered custom layer
    "vae": (["vae.keras"], ["--custom-objects", "{root}/mymodels.py"]),  # (mean, log-variance, z)
    "tanh": (["tanh.keras"], ["--input-range", "-1:1"]),
    "lambda": (["lambda.keras"], ["--unsafe"]),
    "factory": (["ae.weights.h5"], ["--factory", "{root}/mymodels.py:build_functional_ae"]),  # sub-models enc, dec
}


@pytest.fixture(scope="module")
def outside(tiny_store, tmp_path_factory) -> Path:
    """The models and each one's reference latents (its own encoder's predict on the store's images)."""
    root = tmp_path_factory.mktemp("outside")
    shutil.copy(HERE / "outside_models.py", root / "mymodels.py")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for extra in ([], ["jax"]):
        env["KERAS_BACKEND"] = "jax" if extra else "tensorflow"
        subprocess.run(
            [sys.executable, str(HERE / "outside_build.py"), str(root), str(tiny_store), *extra],
            check=True,
            env=env,
            capture_output=True,
            timeout=600,
        )
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_args(outside: Path, name: str) -> list:
    files, options = CASES[name]
    return [*(outside / f for f in files), *(o.format(root=outside) for o in options)]


@pytest.mark.system
@pytest.mark.parametrize("name", list(CASES))
def test_an_outside_model_encodes_as_its_own_encoder_and_resumes_after_a_kill(outside, tiny_store, tmp_path, name):
    run = tmp_path / "run"
    said = cli("import-model", *import_args(outside, name), "--run", run, "--data", tiny_store)
    record = json.loads((run / "model" / "import.json").read_text())
    assert [s["sha256"] for s in record["sources"]] == [sha256(outside / f) for f in CASES[name][0]]
    assert (record["kind"], record["z_dim"], record["image_size"]) == ("vae" if name == "vae" else "ae", 8, 32)
    assert record["has_decoder"] == (name != "encoder_only")
    if name == "lambda":
        assert "--unsafe: Keras' safe mode is off" in said.stderr

    # SIGKILL mid-encode (a fresh process), the same command again, against one uninterrupted run
    args = ["encode", "--run", run, "--chunk", "32", "--batch", "16"]
    process = start_cli(*args, env={"LATENTKIT_THROTTLE_S": "0.3"})
    kill_when(process, lambda: chunks_done(run / "latents.zarr") >= 2)
    assert 2 <= chunks_done(run / "latents.zarr") < 8
    assert "already done" in cli(*args).stdout
    whole, split = tmp_path / "whole.zarr", tmp_path / "split.zarr"  # uninterrupted in other chunks; two tasks
    cli("encode", "--run", run, "--chunk", "48", "--batch", "16", "--out", whole)
    for task in ("0", "1"):
        cli("encode", "--run", run, "--chunk", "32", "--batch", "16", "--out", split, "--task", task, "--tasks", "2")
    assert_identical(run / "latents.zarr", whole)
    assert_identical(run / "latents.zarr", split)

    latents, reference = zarr.open_group(run / "latents.zarr", mode="r"), np.load(outside / "reference.npz")
    if name == "vae":  # mean and log-variance are the encoder's; z is drawn as for latentkit's own VAEs
        from latentkit.model import reparameterize
        from latentkit.model.encode import vae_noise

        np.testing.assert_allclose(latents["mu"][:], reference["vae"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(latents["logvar"][:], reference["vae_logvar"], rtol=1e-5, atol=1e-6)
        noise = vae_noise(0, 0, 240, 8)
        np.testing.assert_allclose(
            latents["z"][:], reparameterize(latents["mu"][:], latents["logvar"][:], noise, 1.0), rtol=1e-6
        )
    else:
        np.testing.assert_allclose(latents["z"][:], reference[name], rtol=1e-5, atol=1e-6)

    # the page: with and without a decoder; the other cases need no page or figures
    report = ["--no-report", "--no-figures"] if name not in ("vae", "encoder_only") else []
    cli("analyze", "--run", run, "--no-tsne", "--no-kmeans", "--hit-draws", "2000", *report)
    assert json.loads((run / "analysis" / "report.json").read_text())["n"] == 240
    if report == []:
        assert (run / "analysis" / "report.html").stat().st_size > 100_000
    picture = tmp_path / "generated.png"
    generated = cli("generate", "--run", run, "--out", picture, "--n", "4")
    if name == "encoder_only":
        assert not picture.exists() and "has no decoder: no image written" in generated.stderr
        assert "hit fraction k=1.5" in generated.stdout
    else:
        assert Image.open(picture).size[0] >= 4 * 32


def test_a_vae_with_use_mu_and_reconstruct_interpolate_attributes_compare_status(outside, tiny_store, tmp_path):
    vae, ae = tmp_path / "vae", tmp_path / "ae"
    cli("import-model", *import_args(outside, "vae"), "--run", vae, "--data", tiny_store)
    cli("import-model", *import_args(outside, "functional"), "--run", ae, "--data", tiny_store)
    cli("encode", "--run", vae, "--chunk", "64", "--use", "mu")
    cli("encode", "--run", ae, "--chunk", "64")
    latents = zarr.open_group(vae / "latents.zarr", mode="r")
    assert latents["z"][:].tobytes() == latents["mu"][:].tobytes()
    assert "RMSE" in cli("reconstruct", "--run", vae, "--out", tmp_path / "r.png", "--n", "4").stdout
    cli("interpolate", "--run", vae, "--from", "0", "--to", "3", "--out", tmp_path / "i.png")
    cli("attributes", "--run", vae)
    assert json.loads((vae / "analysis" / "attributes.json").read_text())["labels"].startswith("synthetic factors")
    for run in (vae, ae):  # compare's own analysis of a run without one is test_generate's; here the runs are imported
        cli("analyze", "--run", run, "--no-tsne", "--no-kmeans", "--no-figures", "--no-report")
    cli("compare", vae, ae, "--out", tmp_path / "compare")
    kinds = [r["summary"]["kind"] for r in json.loads((tmp_path / "compare" / "report.json").read_text())["runs"]]
    assert kinds == ["vae", "ae"]
    status = cli("status", "--run", vae).stdout
    assert f"imported VAE from {outside / 'vae.keras'} (sha256 {sha256(outside / 'vae.keras')[:12]})" in status
    refused = cli("train", "--run", vae, "--data", tiny_store, check=False)
    assert refused.returncode == 2 and "holds an imported model" in refused.stderr


def test_a_rerun_of_the_same_import_is_done_and_another_is_refused(outside, tiny_store, tmp_path):
    run = tmp_path / "run"
    cli("import-model", *import_args(outside, "functional"), "--run", run, "--data", tiny_store)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert "nothing to do" in cli("import-model", *import_args(outside, "functional"), "--run", run).stderr
    for argv, words in (
        ([outside / "tanh.keras"], "holds another imported model"),
        ([outside / "functional.keras", "--input-range", "0:255"], "imported with --input-range 0:1"),
    ):
        refused = cli("import-model", *argv, "--run", run, check=False)
        assert refused.returncode == 2 and words in refused.stderr
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def one_line(result, words: str) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("latentkit:")]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines) == 1 and words in lines[0], result.stderr[-2000:]
    return lines[0]


def test_what_keras_cannot_load_or_latentkit_cannot_use_is_one_line_and_writes_nothing(outside, tiny_store, tmp_path):
    from latentkit.ingest.prepare import prepare_synthetic

    bigger = tmp_path / "s48.zarr"
    prepare_synthetic(out=bigger, n=16, size=48, chunk=16)
    junk = tmp_path / "junk.keras"  # a zip, but not a Keras archive
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("notes.txt", "not a model")
    run = tmp_path / "run"
    cases = [
        ([junk], "could not be loaded by Keras"),
        ([outside / "functional.keras", "--encoder", "nope"], "no sub-model of that name; it has: encoder"),
        ([outside / "functional.keras", "--data", bigger], "takes 32x32 images, the store holds 48x48"),
        ([outside / "lambda.keras"], "has a Lambda layer"),
        ([outside / "functional.keras", "--output", "mean"], "--output mean: the encoder's outputs are z"),
        ([outside / "vae.keras", "--custom-objects", outside / "mymodels.py", "--output", "7"], "--output 7"),
        ([outside / "ae.weights.h5", "--factory", f"{outside}/mymodels.py:nosuch"], "has no function nosuch"),
        ([outside / "subclassed.keras", "--custom-objects", "no_such_module"], "no module named 'no_such_module'"),
    ]
    for argv, words in cases:
        one_line(cli("import-model", *argv, "--run", run, check=False), words)
        assert not run.exists()
    # a class Keras does not know, in a fresh process (this one has imported mymodels by now)
    unknown_class, unknown_inside = cli_in_a_fresh_process(
        ["import-model", outside / "subclassed.keras", "--run", run],
        ["import-model", outside / "vae.keras", "--run", run],
    )
    one_line(unknown_class, "uses the class SubclassedAE, which Keras does not know: pass --custom-objects")
    one_line(unknown_inside, "uses the class Sampling, which Keras does not know")  # a class inside a sub-model
    # a layer that calls jax.numpy, saved under JAX, loaded under TensorFlow
    one_line(
        cli(
            "import-model",
            outside / "jax.keras",
            "--custom-objects",
            outside / "mymodels.py",
            "--run",
            run,
            check=False,
        ),
        "its layer JaxTanh calls jax functions directly",
    )
    assert not run.exists()
    # an imported run meets a store of another size at encode time
    cli("import-model", outside / "functional.keras", "--run", run)
    one_line(cli("encode", "--run", run, "--chunk", "16", check=False), "names no store of images: give --data")
    one_line(cli("encode", "--run", run, "--chunk", "16", "--data", bigger, check=False), "the model expects 32x32")
    assert not (run / "latents.zarr").exists()


def test_a_layer_never_built_gets_its_own_line():
    """Keras' own error for weights a layer never built (keras #18823), as load_model raises it."""
    import keras

    from latentkit.model.keras_files import pitfall

    try:
        keras.layers.Dense(3, name="head").load_own_variables({"0": np.zeros((2, 3)), "1": np.zeros(3)})
    except ValueError as error:
        line = pitfall(Path("m.keras"), error, {"custom_objects": None}, keras)
    assert line.startswith("m.keras: layer 'head' was never built") and "--factory" in line


def test_a_decoder_giving_another_range_is_warned(outside, tiny_store, tmp_path):
    said = cli("import-model", outside / "tanh.keras", "--run", tmp_path / "run", "--data", tiny_store)
    assert "looks like --input-range -1:1, not 0:1" in said.stderr


# -- your own vectors ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def vectors(tiny_ae, tmp_path_factory) -> dict[str, Path]:
    """One cloud as a run's latents, a .npy file, three shards, latentkit's parquet, a labels CSV."""
    root = tmp_path_factory.mktemp("vectors")
    z = zarr.open_group(tiny_ae / "latents.zarr", mode="r")["z"][:]
    np.save(root / "z.npy", z)
    (root / "shards").mkdir()
    for name, (start, stop) in zip(("part_2", "part_10", "part_11"), ((0, 50), (50, 130), (130, 240))):
        np.save(root / "shards" / f"{name}.npy", z[start:stop])  # natural order: 2 before 10
    cli("export", "--run", tiny_ae, "--format", "parquet", "--out", root / "z.parquet")
    with open(root / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["big", "side", "score", "note"])
        for i, row in enumerate(z):
            writer.writerow(
                [
                    int(row[0] > np.median(z[:, 0])),
                    "left" if row[1] > np.median(z[:, 1]) else "right",
                    f"{i * 0.1:.1f}",
                    f"note {i % 7}",
                ]
            )
    return {
        "zarr": tiny_ae / "latents.zarr",
        "npy": root / "z.npy",
        "shards": root / "shards",
        "parquet": root / "z.parquet",
        "labels": root / "labels.csv",
        "run": tiny_ae,
    }


def test_vectors_from_npy_shards_and_parquet_analyze_as_the_zarr_latents(vectors, tmp_path):
    reports = {}
    for kind in ("zarr", "npy", "shards", "parquet"):
        out = tmp_path / kind
        said = cli(
            "analyze",
            "--latents",
            vectors[kind],
            "--out",
            out,
            "--no-tsne",
            "--no-kmeans",
            "--no-figures",
            "--labels",
            vectors["labels"],
            "--hit-draws",
            "2000",
        )
        assert "no model with these vectors" in said.stdout
        assert "labels: left out note (text with 7 values)" in said.stderr
        reports[kind] = json.loads((out / "report.json").read_text())
        attributes = json.loads((out / "attributes.json").read_text())
        assert [a["name"] for a in attributes["attributes"]] == ["big", "side", "score"]
        best = {a["name"]: a["probe_accuracy"] for a in attributes["attributes"]}
        assert best["big"] > 0.9 and best["side"] > 0.9  # the labels are the first two components' signs
    for kind in ("npy", "shards", "parquet"):
        for key in ("n", "dim", "radius", "generators", "pca"):
            assert reports[kind][key] == reports["zarr"][key], (kind, key)


def test_a_labels_file_colours_the_report_and_feeds_attributes(vectors, tmp_path):
    run = shutil.copytree(vectors["run"], tmp_path / "run")
    cli("attributes", "--run", run, "--labels", vectors["labels"])
    assert json.loads((run / "analysis" / "attributes.json").read_text())["labels"].startswith("labels file labels.csv")
    cli("report", "--run", run, "--labels", vectors["labels"], "--points", "50")
    page = (run / "analysis" / "report.html").read_text()
    assert "side left" in page and "side right" in page and "big 1" in page


def test_bad_vectors_and_labels_are_one_line(vectors, tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros(10))
    np.save(tmp_path / "narrow.npy", np.zeros((5, 3)))
    (tmp_path / "mixed").mkdir()
    np.save(tmp_path / "mixed" / "a.npy", np.zeros((5, 4)))
    np.save(tmp_path / "mixed" / "b.npy", np.zeros((5, 3)))
    (tmp_path / "short.csv").write_text("a\n1\n2\n")
    out = ["--out", tmp_path / "out"]
    for argv, words in (
        (["--latents", tmp_path / "flat.npy"], "vectors are a 2-D array"),
        (["--latents", tmp_path / "mixed"], "shards must have the same width"),
        (["--latents", vectors["parquet"], "--column", "row"], "holds one number per row"),
        (["--latents", vectors["parquet"], "--column", "nope"], "--column nope"),
        (["--latents", vectors["npy"], "--column", "z"], "--column is for a parquet file"),
        (["--latents", vectors["npy"], "--labels", tmp_path / "short.csv"], "has 2 rows, the vectors 240"),
        (["--latents", vectors["npy"], "--labels", tmp_path / "flat.npy"], "give a .parquet or .csv file"),
    ):
        one_line(cli("analyze", *argv, *out, check=False), words)
        assert not (tmp_path / "out").exists()
