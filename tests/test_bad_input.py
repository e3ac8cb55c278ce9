"""Bad input for every verb (issue 25): one `latentkit:` line naming the culprit, a documented exit
status, no traceback, every file that was there byte-identical, and nothing new written.

The table runs in process (``fixtures.commands.cli``); a few run as real subprocesses to prove the entry
point, that a refused command never imports Keras, and that root meets a read-only folder as a
user would.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fixtures.commands import cli
from fixtures.runs import TINY, copy_run

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def bad(tiny_store, tiny_ae, tmp_path_factory):
    """A good store and an encoded, analyzed run, damaged copies of them, and a user's own files."""
    import zarr
    from PIL import Image

    root = tmp_path_factory.mktemp("bad")
    run = copy_run(tiny_ae, root / "run")
    paths = {"store": tiny_store, "run": run, "missing": root / "nothing-here", "file": root / "a-file.txt"}
    paths["file"].write_text("not a folder\n")
    paths["userdir"] = root / "my-notes"  # a user's own folder: latentkit must never write into it
    paths["userdir"].mkdir()
    (paths["userdir"] / "notes.txt").write_text("mine\n")
    paths["userpng"] = paths["userdir"] / "holiday.png"  # a user's own picture: never replaced unasked
    Image.new("RGB", (8, 8), (200, 30, 30)).save(paths["userpng"])
    (paths["userdir"] / "not-a-picture.png").write_text("a file named like a picture\n")
    paths["pngdir"] = root / "folder.png"  # a folder where a picture's name is expected
    paths["pngdir"].mkdir()
    paths["badtoml"] = root / "broken.toml"
    paths["badtoml"].write_text("[model\nz_dim = 3\n")
    paths["empty"] = root / "empty"
    paths["empty"].mkdir()
    paths["corrupt"] = root / "corrupt-photos"  # files named like images that are not
    paths["corrupt"].mkdir()
    for i in range(5):
        (paths["corrupt"] / f"{i}.jpg").write_bytes(b"\xff\xd8 not a JPEG at all" * (i + 1))
    paths["photos"] = root / "small-photos"  # real 40x30 JPEGs: any box past 40x30 is outside them
    paths["photos"].mkdir()
    for i in range(5):
        Image.new("RGB", (40, 30), (40 * i, 90, 160)).save(paths["photos"] / f"{i}.jpg")
    for name, damage in (("broken", "meta"), ("holed", "chunk"), ("newer", "format")):
        copy = root / f"{name}.zarr"
        shutil.copytree(tiny_store, copy)
        if damage == "meta":
            (copy / "zarr.json").write_text('{"zarr_format": 3, "node_type": "gro')
        elif damage == "chunk":
            shutil.rmtree(copy / "images" / "c" / "1")
        else:
            zarr.open_group(copy, mode="r+").attrs["format_version"] = 99
        paths[name] = copy
    partial = root / "partial-run"
    shutil.copytree(run, partial)
    zarr.open_group(partial / "latents.zarr", mode="r+")["chunk_done"][2] = 0
    paths["partial"] = partial
    paths["bare"] = copy_run(tiny_ae, root / "bare-run", trained_only=True)  # trained, not encoded nor analyzed
    nan = root / "nan.zarr"
    z = zarr.create_array(nan, shape=(100, 4), chunks=(50, 4), dtype="float32")
    values = np.ones((100, 4), np.float32)
    values[77, 2] = np.nan
    z[:] = values
    paths["nan"] = nan
    paths["fakemodel"] = root / "photo.keras"  # a JPEG named like a model
    Image.new("RGB", (8, 8)).save(paths["fakemodel"], format="JPEG")
    paths["zipmodel"] = root / "zipped.keras"  # passes the archive check; refused before Keras loads it
    import zipfile

    with zipfile.ZipFile(paths["zipmodel"], "w") as archive:
        archive.writestr("config.json", "{}")
    paths["weights"] = root / "ae.weights.h5"
    paths["weights"].write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    paths["savedmodel"] = root / "saved-model"
    paths["savedmodel"].mkdir()
    (paths["savedmodel"] / "saved_model.pb").write_bytes(b"\x08\x01")
    paths["vae_args"] = ["--job", "vae", *TINY]  # the same shape options, another kind of model
    return paths


OUT = "{tmp}/out"
RUN = ["--run", "{run}"]
BAD_INPUT = [  # (id, argv with {placeholders}, words the one line must hold)
    # usage
    ("unknown-command", ["bogus"], "No such command"),
    ("unknown-option", ["encode", "--run", "{run}", "--bogus"], "No such option: --bogus"),
    ("missing-required-option", ["train"], "Missing option"),
    # prepare
    ("prepare-n-out-of-range", ["prepare", "synthetic", "--n", "0", "--out", "{tmp}/x.zarr"], "--n"),
    ("prepare-size-too-small", ["prepare", "synthetic", "--size", "4", "--out", "{tmp}/x.zarr"], "--size"),
    ("prepare-chunk-zero", ["prepare", "synthetic", "--n", "100", "--chunk", "0", "--out", "{tmp}/x.zarr"], "--chunk"),
    (
        "prepare-task-outside-tasks",
        ["prepare", "synthetic", "--n", "100", "--task", "3", "--tasks", "2", "--out", "{tmp}/x.zarr"],
        "--task",
    ),
    (
        "prepare-negative-seed",
        ["prepare", "synthetic", "--n", "100", "--seed", "-1", "--out", "{tmp}/x.zarr"],
        "--seed",
    ),
    (
        "prepare-over-another-store",
        ["prepare", "synthetic", "--n", "100", "--size", "32", "--chunk", "64", "--out", "{store}"],
        "use another --out",
    ),
    (
        "prepare-over-latents",
        ["prepare", "synthetic", "--n", "100", "--size", "32", "--out", "{run}/latents.zarr"],
        "latents.zarr",
    ),
    (
        "prepare-into-a-users-folder",
        ["prepare", "synthetic", "--n", "100", "--size", "32", "--out", "{userdir}"],
        "not a latentkit store",
    ),
    ("prepare-out-is-a-file", ["prepare", "synthetic", "--n", "100", "--size", "32", "--out", "{file}"], "is a file"),
    (
        "prepare-out-under-a-file",
        ["prepare", "synthetic", "--n", "100", "--out", "{file}/x.zarr"],
        "a file is in the way",
    ),
    ("prepare-celeba-missing", ["prepare", "celeba", "{missing}", "--out", "{tmp}/x.zarr"], "nothing-here"),
    ("prepare-celeba-file-not-folder", ["prepare", "celeba", "{file}", "--out", "{tmp}/x.zarr"], "a-file.txt"),
    ("prepare-celeba-empty", ["prepare", "celeba", "{empty}", "--out", "{tmp}/x.zarr"], "empty"),
    ("prepare-celeba-bad-crop", ["prepare", "celeba", "{empty}", "--crop", "1,2,3", "--out", "{tmp}/x.zarr"], "--crop"),
    ("prepare-images-missing", ["prepare", "images", "{missing}", "--out", "{tmp}/x.zarr"], "nothing-here"),
    ("prepare-images-empty", ["prepare", "images", "{empty}", "--out", "{tmp}/x.zarr"], "empty"),
    (
        "prepare-images-file-not-folder",
        ["prepare", "images", "{file}", "--out", "{tmp}/x.zarr"],
        "neither a folder, a zip nor a tar",
    ),
    ("prepare-images-all-corrupt", ["prepare", "images", "{corrupt}", "--out", "{tmp}/x.zarr"], "none of the 5 images"),
    (
        "prepare-images-crop-outside",
        ["prepare", "images", "{photos}", "--crop", "0,0,100,100", "--out", "{tmp}/x.zarr"],
        "--crop 0,0,100,100 does not fit",
    ),
    (
        "prepare-images-bad-split",
        ["prepare", "images", "{photos}", "--split", "0.5,0.6", "--out", "{tmp}/x.zarr"],
        "--split",
    ),
    (
        "prepare-images-into-a-users-folder",
        ["prepare", "images", "{photos}", "--out", "{userdir}"],
        "not a latentkit store",
    ),
    # info, presets, upgrade
    ("info-missing", ["info", "{missing}"], "no latentkit store"),
    ("info-file", ["info", "{file}"], "no latentkit store"),
    ("info-users-folder", ["info", "{userdir}"], "no latentkit store"),
    ("info-broken-metadata", ["info", "{broken}"], "metadata cannot be read"),
    ("info-missing-chunk-file", ["info", "{holed}"], "chunk 1 of images is marked done but its file"),
    ("info-newer-format", ["info", "{newer}"], "newer than this latentkit reads"),
    ("info-on-latents", ["info", "{run}/latents.zarr"], "not images"),
    ("presets-unknown", ["presets", "nosuch"], "nosuch"),
    ("upgrade-missing", ["upgrade", "{missing}"], "nothing-here"),
    ("upgrade-users-folder", ["upgrade", "{userdir}"], "no latentkit store"),
    # train
    ("train-data-missing", ["train", "--data", "{missing}", "--run", "{tmp}/r", *TINY], "no latentkit store"),
    ("train-data-is-a-file", ["train", "--data", "{file}", "--run", "{tmp}/r"], "no latentkit store"),
    ("train-data-is-latents", ["train", "--data", "{run}/latents.zarr", "--run", "{tmp}/r", *TINY], "not images"),
    ("train-broken-store", ["train", "--data", "{broken}", "--run", "{tmp}/r", *TINY], "metadata cannot be read"),
    ("train-holed-store", ["train", "--data", "{holed}", "--run", "{tmp}/r", *TINY], "is damaged"),
    ("train-run-of-another-model", ["train", "--data", "{store}", "--run", "{run}", "{vae_args}"], "another spec"),
    ("train-run-is-a-file", ["train", "--data", "{store}", "--run", "{file}", *TINY], "is a file, not a folder"),
    (
        "train-run-is-a-users-folder",
        ["train", "--data", "{store}", "--run", "{userdir}", *TINY],
        "holds files latentkit did not write",
    ),
    (
        "train-mirror-is-a-users-folder",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--mirror", "{userdir}"],
        "--mirror",
    ),
    ("train-unknown-preset", ["train", "--data", "{store}", "--run", "{tmp}/r", "--job", "nosuch"], "nosuch"),
    ("train-job-not-toml", ["train", "--data", "{store}", "--run", "{tmp}/r", "--job", "{badtoml}"], "not valid TOML"),
    (
        "train-spec-out-of-range",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--set", "model.z_dim=0"],
        "z_dim",
    ),
    (
        "train-set-not-a-number",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--set", "model.z_dim=abc"],
        "model.z_dim must be a whole number, got 'abc'",
    ),
    (
        "train-set-misspelt-field",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--set", "model.zdim=16"],
        "did you mean model.z_dim?",
    ),
    (
        "train-set-without-value",
        ["train", "--data", "{store}", "--run", "{tmp}/r", "--set", "model.z_dim"],
        "--set takes SECTION.FIELD=VALUE",
    ),
    (
        "train-set-unknown-section",
        ["train", "--data", "{store}", "--run", "{tmp}/r", "--set", "mdl.z_dim=4"],
        "--set mdl.z_dim",
    ),
    (
        "train-max-vram-not-a-size",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--max-vram", "lots"],
        "--max-vram takes a size",
    ),
    ("train-batch-zero", ["train", "--data", "{store}", "--run", "{tmp}/r", "--batch", "0"], "--batch"),
    ("train-epochs-zero", ["train", "--data", "{store}", "--run", "{tmp}/r", "--epochs", "0"], "--epochs"),
    (
        "train-keep-epochs-not-numbers",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--keep-epochs", "a"],
        "--keep-epochs takes numbers",
    ),
    (
        "train-keep-epochs-fraction",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--keep-epochs", "2.5"],
        "whole epochs",
    ),
    (
        "train-from-missing",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--from", "{missing}"],
        "no such checkpoint file",
    ),
    (
        "train-from-not-a-checkpoint",
        ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--from", "{file}"],
        "not a readable latentkit checkpoint",
    ),
    ("train-negative-lr", ["train", "--data", "{store}", "--run", "{tmp}/r", *TINY, "--lr", "-0.1"], "train.lr"),
    # encode
    ("encode-missing-run", ["encode", "--run", "{missing}"], "no run at"),
    ("encode-run-is-a-file", ["encode", "--run", "{file}"], "no run at"),
    ("encode-run-is-a-users-folder", ["encode", "--run", "{userdir}"], "train the run first"),
    ("encode-chunk-zero", ["encode", *RUN, "--chunk", "0"], "--chunk"),
    ("encode-batch-zero", ["encode", *RUN, "--batch", "0", "--out", "{tmp}/z.zarr"], "--batch"),
    ("encode-use-unknown", ["encode", *RUN, "--use", "sigma", "--out", "{tmp}/z.zarr"], "--use"),
    ("encode-task-outside-tasks", ["encode", *RUN, "--task", "2", "--tasks", "2"], "--task"),
    (
        "encode-max-ram-not-a-size",
        ["encode", *RUN, "--max-ram", "plenty", "--out", "{tmp}/z.zarr"],
        "--max-ram takes a size",
    ),
    ("encode-max-ram-too-small", ["encode", *RUN, "--max-ram", "1M", "--out", "{tmp}/z.zarr"], "over --max-ram 1M"),
    ("encode-data-missing", ["encode", *RUN, "--data", "{missing}", "--out", "{tmp}/z.zarr"], "no latentkit store"),
    ("encode-data-is-latents", ["encode", *RUN, "--data", "{run}/latents.zarr", "--out", "{tmp}/z.zarr"], "not images"),
    ("encode-broken-store", ["encode", *RUN, "--data", "{broken}", "--out", "{tmp}/z.zarr"], "metadata cannot be read"),
    ("encode-over-other-latents", ["encode", *RUN, "--chunk", "32"], "--restart-stale"),
    ("encode-out-is-a-file", ["encode", *RUN, "--out", "{file}"], "is a file"),
    ("encode-out-is-a-users-folder", ["encode", *RUN, "--out", "{userdir}"], "not a latentkit store"),
    (
        "encode-out-is-the-image-store",
        ["encode", *RUN, "--out", "{store}", "--chunk", "64"],
        "holds images, not latents",
    ),
    (
        "encode-restart-stale-over-the-image-store",
        ["encode", *RUN, "--out", "{store}", "--restart-stale"],
        "holds images, not latents",
    ),
    (
        "prepare-over-latents-kind",
        ["prepare", "synthetic", "--n", "240", "--size", "32", "--chunk", "64", "--out", "{run}/latents.zarr"],
        "holds latents (z-points), not images",
    ),
    ("encode-mirror-is-a-users-folder", ["encode", *RUN, "--out", "{tmp}/z.zarr", "--mirror", "{userdir}"], "--mirror"),
    # status
    ("status-missing", ["status", "--run", "{missing}"], "nothing-here"),
    ("status-file", ["status", "--run", "{file}"], "a-file.txt"),
    ("status-users-folder", ["status", "--run", "{userdir}"], "is not a run directory"),
    ("status-negative-last", ["status", *RUN, "--last", "-1"], "--last"),
    # analyze
    ("analyze-partial-latents", ["analyze", "--run", "{partial}"], "incomplete"),
    ("analyze-nan-latents", ["analyze", "--latents", "{nan}", "--out", OUT], "NaN"),
    ("analyze-missing", ["analyze", "--latents", "{missing}", "--out", OUT], "no latents"),
    ("analyze-missing-run", ["analyze", "--run", "{missing}"], "nothing-here: not a run directory"),
    ("analyze-both-sources", ["analyze", *RUN, "--latents", "{nan}"], "exactly one"),
    ("analyze-latents-without-out", ["analyze", "--latents", "{nan}"], "--latents needs --out"),
    ("analyze-image-store", ["analyze", "--latents", "{store}", "--out", OUT], "without a 'z' array"),
    ("analyze-pairs-outside", ["analyze", *RUN, "--out", OUT, "--pairs", "0:99"], "--pairs 0:99"),
    ("analyze-pairs-not-pairs", ["analyze", *RUN, "--out", OUT, "--pairs", "0-1"], "--pairs takes I:J"),
    ("analyze-bins-too-few", ["analyze", *RUN, "--out", OUT, "--bins", "5"], "--bins"),
    ("analyze-out-is-a-file", ["analyze", *RUN, "--out", "{file}"], "is a file, not a folder"),
    ("analyze-out-is-a-users-folder", ["analyze", *RUN, "--out", "{userdir}"], "holds files latentkit did not write"),
    ("analyze-pc-pairs-outside", ["analyze", *RUN, "--out", OUT, "--pc-pairs", "0:99"], "--pc-pairs 0:99"),
    ("analyze-trim-not-numbers", ["analyze", *RUN, "--out", OUT, "--trim", "1.5,x"], "--trim takes numbers"),
    ("analyze-uniform-b-zero", ["analyze", *RUN, "--out", OUT, "--uniform-b", "0,1"], "--uniform-b takes positive"),
    ("analyze-kmeans-k-one", ["analyze", *RUN, "--out", OUT, "--kmeans-k", "1-5"], "--kmeans-k takes whole numbers"),
    (
        "analyze-kmeans-k-step-zero",
        ["analyze", *RUN, "--out", OUT, "--kmeans-k", "2-80:0"],
        "or 2-80:2 (2, 4, ..., 80)",
    ),
    (
        "analyze-tsne-iterations-too-few",
        ["analyze", *RUN, "--out", OUT, "--tsne-iterations", "100"],
        "--tsne-iterations",
    ),
    ("analyze-pc-fits-not-numbers", ["analyze", *RUN, "--out", OUT, "--pc-fits", "first"], "--pc-fits takes whole"),
    ("analyze-hit-draws-too-few", ["analyze", *RUN, "--out", OUT, "--hit-draws", "10"], "--hit-draws"),
    # plane
    ("plane-both-sources", ["plane", *RUN, "--latents", "{nan}"], "exactly one"),
    ("plane-latents-without-out", ["plane", "--latents", "{nan}"], "--latents needs --out"),
    ("plane-pcs-outside", ["plane", *RUN, "--out", OUT, "--pcs", "0:99"], "--pcs takes two different"),
    ("plane-pcs-and-axes", ["plane", *RUN, "--pcs", "0:1", "--axes", "0:1"], "one of --pcs"),
    ("plane-two-pairs", ["plane", *RUN, "--pcs", "0:1,2:3"], "one pair"),
    ("plane-zoom-below-one", ["plane", *RUN, "--out", OUT, "--zoom", "0.5,2"], "--zoom takes factors of at least 1"),
    ("plane-centre-not-two", ["plane", *RUN, "--out", OUT, "--centre", "1"], "--centre takes x,y"),
    ("plane-out-is-a-users-folder", ["plane", *RUN, "--out", "{userdir}"], "holds files latentkit did not write"),
    # lattice
    ("lattice-missing-run", ["lattice", "--run", "{missing}"], "no run at"),
    ("lattice-n-one", ["lattice", *RUN, "--n", "1"], "--n"),
    ("lattice-span-zero", ["lattice", *RUN, "--span", "0"], "--span must be positive"),
    ("lattice-plane-unknown", ["lattice", *RUN, "--plane", "tsne"], "--plane takes pca"),
    ("lattice-out-not-a-picture", ["lattice", *RUN, "--out", "{tmp}/lattice.txt"], "picture name"),
    ("lattice-out-a-users-file", ["lattice", *RUN, "--out", "{file}"], "picture name"),
    # explore
    ("explore-missing-run", ["explore", "--run", "{missing}"], "no run at"),
    ("explore-not-encoded", ["explore", "--run", "{bare}"], "has no latents"),
    ("explore-partial-latents", ["explore", "--run", "{partial}"], "incomplete"),
    ("explore-port-outside", ["explore", *RUN, "--port", "70000"], "--port"),
    ("explore-sample-too-few", ["explore", *RUN, "--sample", "5"], "--sample"),
    # flow
    ("flow-missing-run", ["flow", "--run", "{missing}"], "has no latents"),
    ("flow-lr-zero", ["flow", *RUN, "--lr", "0"], "--lr must be positive"),
    ("flow-epochs-zero", ["flow", *RUN, "--epochs", "0"], "--epochs"),
    ("flow-partial-latents", ["flow", "--run", "{partial}"], "incomplete"),
    # findings
    ("findings-missing-run", ["findings", "--run", "{missing}"], "no run at"),
    ("findings-before-analyze", ["findings", "--run", "{bare}"], "run `latentkit analyze --run"),
    ("findings-users-folder", ["findings", "--run", "{userdir}"], "train the run first"),
    # report
    ("report-missing-run", ["report", "--run", "{missing}"], "no run at"),
    ("report-before-analyze", ["report", "--run", "{bare}"], "run `latentkit analyze --run"),
    ("report-too-few-points", ["report", *RUN, "--points", "3"], "--points"),
    # generate, reconstruct, interpolate
    ("generate-missing-run", ["generate", "--run", "{missing}", "--out", "{tmp}/g.png"], "no run at"),
    ("generate-unknown-method", ["generate", *RUN, "--method", "cubes", "--out", "{tmp}/g.png"], "--method"),
    ("generate-n-zero", ["generate", *RUN, "--n", "0", "--out", "{tmp}/g.png"], "--n"),
    (
        "generate-negative-b",
        ["generate", *RUN, "--method", "uniform", "--b", "-1", "--out", "{tmp}/g.png"],
        "--b must be positive",
    ),
    ("generate-negative-seed", ["generate", *RUN, "--seed", "-3", "--out", "{tmp}/g.png"], "--seed"),
    ("generate-over-a-users-picture", ["generate", *RUN, "--out", "{userpng}"], "--force"),
    ("generate-over-a-users-file", ["generate", *RUN, "--out", "{userdir}/not-a-picture.png"], "--force"),
    ("generate-not-a-picture-name", ["generate", *RUN, "--out", "{tmp}/g.txt"], ".png, .jpg"),
    ("generate-out-is-a-folder", ["generate", *RUN, "--out", "{pngdir}"], "is a folder"),
    ("generate-out-under-a-file", ["generate", *RUN, "--out", "{file}/g.png"], "is a file"),
    (
        "generate-attribute-before-attributes",
        ["generate", *RUN, "--attribute", "skin_tone", "--out", "{tmp}/g.png"],
        "latentkit attributes",
    ),
    (
        "generate-walk-steps-one",
        ["generate", *RUN, "--attribute", "skin_tone", "--steps", "1", "--out", "{tmp}/g.png"],
        "--steps",
    ),
    ("reconstruct-missing-run", ["reconstruct", "--run", "{missing}", "--out", "{tmp}/r.png"], "no run at"),
    (
        "reconstruct-unknown-partition",
        ["reconstruct", *RUN, "--partition", "holdout", "--out", "{tmp}/r.png"],
        "holdout",
    ),
    ("reconstruct-n-zero", ["reconstruct", *RUN, "--n", "0", "--out", "{tmp}/r.png"], "--n"),
    ("reconstruct-images-missing", ["reconstruct", *RUN, "--images", "{missing}", "--out", "{tmp}/r.png"], "--images"),
    ("reconstruct-over-a-users-picture", ["reconstruct", *RUN, "--out", "{userpng}"], "--force"),
    ("interpolate-outside", ["interpolate", *RUN, "--to", "99999", "--out", "{tmp}/i.png"], "outside the store"),
    ("interpolate-negative-row", ["interpolate", *RUN, "--from", "-1", "--out", "{tmp}/i.png"], "--from"),
    ("interpolate-steps-one", ["interpolate", *RUN, "--steps", "1", "--out", "{tmp}/i.png"], "--steps"),
    ("interpolate-over-a-users-picture", ["interpolate", *RUN, "--out", "{userpng}"], "--force"),
    ("interpolate-missing-run", ["interpolate", "--run", "{missing}", "--out", "{tmp}/i.png"], "no run at"),
    # attributes, compare
    ("attributes-missing-run", ["attributes", "--run", "{missing}"], "nothing-here"),
    ("attributes-unknown-show", ["attributes", *RUN, "--show", "Smiling"], "Smiling"),
    ("attributes-probe-sample-tiny", ["attributes", *RUN, "--probe-sample", "2"], "--probe-sample"),
    ("attributes-data-is-latents", ["attributes", *RUN, "--data", "{run}/latents.zarr"], "not images"),
    ("compare-one-run", ["compare", "{run}", "--out", "{tmp}/c"], "at least two"),
    ("compare-not-a-run", ["compare", "{run}", "{empty}", "--out", "{tmp}/c"], "not a run directory"),
    ("compare-missing-run", ["compare", "{run}", "{missing}", "--out", "{tmp}/c"], "nothing-here"),
    ("compare-grid-n-zero", ["compare", "{run}", "{run}", "--grid-n", "0", "--out", "{tmp}/c"], "--grid-n"),
    ("compare-out-is-a-file", ["compare", "{run}", "{run}", "--out", "{file}/c"], "is a file, not a folder"),
    (
        "compare-out-is-a-users-folder",
        ["compare", "{run}", "{run}", "--out", "{userdir}"],
        "holds files latentkit did not write",
    ),
    # export
    ("export-bad-format", ["export", *RUN, "--format", "csv", "--out", "{tmp}/e"], "--format"),
    ("export-missing-run", ["export", "--run", "{missing}", "--format", "npy", "--out", "{tmp}/e"], "nothing-here"),
    ("export-partial-latents", ["export", "--run", "{partial}", "--format", "npy", "--out", "{tmp}/e"], "incomplete"),
    (
        "export-unknown-column",
        ["export", *RUN, "--format", "npy", "--columns", "z,colour", "--out", "{tmp}/e"],
        "colour",
    ),
    (
        "export-unknown-partition",
        ["export", *RUN, "--format", "npy", "--partition", "holdout", "--out", "{tmp}/e"],
        "holdout",
    ),
    ("export-over-a-users-file", ["export", *RUN, "--format", "npy", "--out", "{file}"], "exists"),
    (
        "export-projector-too-many",
        ["export", *RUN, "--format", "projector", "--sample", "200000", "--out", OUT],
        "the projector loads no more",
    ),
    (
        "export-projector-into-a-users-folder",
        ["export", *RUN, "--format", "projector", "--out", "{userdir}"],
        "holds files latentkit did not write",
    ),
    ("export-projector-partial", ["export", "--run", "{partial}", "--format", "projector", "--out", OUT], "incomplete"),
    (
        "export-rows-not-numbers",
        ["export", *RUN, "--format", "npy", "--rows", "{file}", "--out", OUT],
        "give row numbers",
    ),
    (
        "export-rows-missing-file",
        ["export", *RUN, "--format", "npy", "--rows", "{missing}", "--out", OUT],
        "cannot be read",
    ),
    ("export-over-a-users-folder", ["export", *RUN, "--format", "npy", "--out", "{userdir}"], "exists"),
    # stage, sync
    ("stage-missing", ["stage", "{missing}", "{tmp}/s"], "nothing-here"),
    ("stage-over-a-users-file", ["stage", "{file}", "{userdir}/notes.txt"], "--force"),
    ("stage-folder-into-a-users-folder", ["stage", "{photos}", "{userdir}"], "holds files latentkit did not write"),
    ("stage-file-onto-a-folder", ["stage", "{file}", "{empty}"], "is a folder"),
    ("sync-missing", ["sync", "{missing}", "{tmp}/m"], "nothing-here"),
    ("sync-source-is-a-file", ["sync", "{file}", "{tmp}/m"], "not a directory"),
    ("sync-into-a-users-folder", ["sync", "{run}", "{userdir}"], "holds files latentkit did not write"),
    ("sync-onto-a-file", ["sync", "{run}", "{file}"], "is a file"),
    # demo, slurm
    ("demo-n-too-small", ["demo", "--dir", "{tmp}/d", "--n", "10"], "--n"),
    ("demo-dir-is-a-file", ["demo", "--dir", "{file}"], "is a file, not a folder"),
    ("demo-dir-is-a-users-folder", ["demo", "--dir", "{userdir}"], "holds files latentkit did not write"),
    ("demo-epochs-zero", ["demo", "--dir", "{tmp}/d", "--epochs", "0"], "--epochs"),
    (
        "slurm-submit-missing-source",
        ["slurm", "submit", "--run", "{tmp}/r", "--data", "{tmp}/d.zarr", "--from", "{missing}", "--dry-run"],
        "nothing-here",
    ),
    (
        "slurm-submit-two-sources",
        [
            "slurm",
            "submit",
            "--run",
            "{tmp}/r",
            "--data",
            "{tmp}/d.zarr",
            "--from",
            "{empty}",
            "--synthetic",
            "5",
            "--dry-run",
        ],
        "exactly one of",
    ),
    (
        "slurm-submit-no-source",
        ["slurm", "submit", "--run", "{tmp}/r", "--data", "{tmp}/d.zarr", "--dry-run"],
        "exactly one of",
    ),
    # import-model: refused before Keras loads
    ("import-model-not-a-model", ["import-model", "{fakemodel}", "--run", "{tmp}/r"], "is not a Keras model file"),
    ("import-model-no-such-file", ["import-model", "{tmp}/none.keras", "--run", "{tmp}/r"], "no model file"),
    ("import-model-text-file", ["import-model", "{file}", "--run", "{tmp}/r"], "give a .keras or .h5 model file"),
    (
        "import-model-three-files",
        ["import-model", "{zipmodel}", "{zipmodel}", "{zipmodel}", "--run", "{tmp}/r"],
        "got 3",
    ),
    ("import-model-savedmodel", ["import-model", "{savedmodel}", "--run", "{tmp}/r"], "TensorFlow SavedModel"),
    ("import-model-weights-without-factory", ["import-model", "{weights}", "--run", "{tmp}/r"], "--factory"),
    (
        "import-model-bad-factory",
        ["import-model", "{weights}", "--factory", "nocolon", "--run", "{tmp}/r"],
        "MODULE:FUNCTION",
    ),
    (
        "import-model-bad-range",
        ["import-model", "{zipmodel}", "--input-range", "0:2", "--run", "{tmp}/r"],
        "--input-range",
    ),
    ("import-model-into-a-trained-run", ["import-model", "{zipmodel}", "--run", "{run}"], "a run latentkit trained"),
    (
        "import-model-into-a-users-folder",
        ["import-model", "{zipmodel}", "--run", "{userdir}"],
        "holds files latentkit did not write",
    ),
    (
        "import-model-missing-custom-module",
        ["import-model", "{zipmodel}", "--custom-objects", "{tmp}/none.py", "--run", "{tmp}/r"],
        "no such file",
    ),
    ("import-model-bad-data", ["import-model", "{zipmodel}", "--data", "{broken}", "--run", "{tmp}/r"], "broken.zarr"),
    # your own vectors
    ("analyze-vectors-not-a-format", ["analyze", "--latents", "{file}", "--out", OUT], "give latents.zarr, a .npy"),
    (
        "analyze-labels-missing",
        ["analyze", "--latents", "{run}/latents.zarr", "--labels", "{tmp}/none.csv", "--out", OUT],
        "no labels file",
    ),
    ("analyze-column-without-latents", ["analyze", *RUN, "--column", "z"], "--column is for a parquet file's vectors"),
    ("attributes-labels-wrong-rows", ["attributes", *RUN, "--labels", "{badtoml}"], "give a .parquet or .csv"),
    ("report-labels-missing", ["report", *RUN, "--labels", "{tmp}/none.csv"], "no labels file"),
    (
        "slurm-submit-unknown-preset",
        [
            "slurm",
            "submit",
            "--run",
            "{tmp}/r",
            "--data",
            "{tmp}/d.zarr",
            "--synthetic",
            "50",
            "--job",
            "nosuch",
            "--dry-run",
        ],
        "nosuch",
    ),
    (
        "slurm-submit-into-a-users-folder",
        ["slurm", "submit", "--run", "{userdir}", "--data", "{tmp}/d.zarr", "--synthetic", "50", "--dry-run"],
        "holds files latentkit did not write",
    ),
    (
        "slurm-submit-zero-tasks",
        [
            "slurm",
            "submit",
            "--run",
            "{tmp}/r",
            "--data",
            "{tmp}/d.zarr",
            "--synthetic",
            "50",
            "--encode-tasks",
            "0",
            "--dry-run",
        ],
        "--encode-tasks",
    ),
]

WATCHED = ("store", "run", "bare", "partial", "nan", "userdir", "photos", "corrupt", "empty", "pngdir")


def digest(bad: dict) -> dict[str, str]:
    """Every file that was there before (the run's own lock files aside: a refused command may
    take a run's lock), and no new file beside the user's."""
    roots = [bad[name] for name in WATCHED] + [bad["file"].parent]
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for root in roots
        for p in sorted(Path(root).rglob("*"))
        if p.is_file() and not (p.name.endswith(".lock") and "locks" in p.parts)
    }


def expand(argv: list[str], bad: dict, tmp: Path) -> list[str]:
    args = []
    for arg in argv:
        if arg == "{vae_args}":
            args += bad["vae_args"]
        else:
            args.append(arg.format(tmp=tmp, **{k: v for k, v in bad.items() if k != "vae_args"}))
    return args


def latentkit_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("latentkit:")]


@pytest.mark.parametrize("argv,words", [pytest.param(a, w, id=i) for i, a, w in BAD_INPUT])
def test_bad_input_gives_one_line_and_changes_nothing(bad, tmp_path, argv, words):
    before = digest(bad)
    result = cli(*expand(argv, bad, tmp_path), check=False)
    lines = latentkit_lines(result.stderr)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert len(lines) == 1 and words in lines[0], result.stderr[-3000:]
    assert digest(bad) == before
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []  # nothing new, not even a folder


def test_every_verb_has_bad_input_in_the_table():
    from latentkit.cli.main import command

    verbs = set()
    for name, sub in command().commands.items():
        verbs |= {f"{name} {s}" for s in sub.commands} if hasattr(sub, "commands") else {name}
    tried = {" ".join(argv[:2]) if argv[0] in ("prepare", "slurm") else argv[0] for _, argv, _ in BAD_INPUT}
    assert verbs - tried <= {"env"}, verbs - tried  # env takes nothing a user can get wrong but --dir (below)
    assert len(BAD_INPUT) >= 100


def test_every_bad_input_is_refused_before_keras_loads(bad, tmp_path):
    """A refused command answers in a fraction of a second, not after TensorFlow's ~10 s import:
    each bad input runs in a child forked from a process that has the CLI but no backend."""
    argvs = [expand(argv, bad, tmp_path / name) for name, argv, _ in BAD_INPUT]
    probe = subprocess.run(
        [sys.executable, str(HERE / "keras_probe.py")],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    results = json.loads(probe.stdout)
    assert len(results) == len(BAD_INPUT) and all(r["code"] == 2 for r in results), [
        (name, r["code"]) for (name, _, _), r in zip(BAD_INPUT, results) if r["code"] != 2
    ]
    assert [name for (name, _, _), r in zip(BAD_INPUT, results) if r["keras"]] == []


def test_the_real_entry_point_says_one_line_and_the_backend_stays_quiet(bad, tmp_path):
    """Through the console script: a refusal, and a command that loads TensorFlow and decodes
    (its C++ start-up lines, absl and CUDA probing, stay off the screen)."""
    exe = Path(sys.executable).with_name("latentkit")
    refused = subprocess.run(
        [str(exe), "generate", "--run", str(bad["run"]), "--out", str(bad["userpng"])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2 and latentkit_lines(refused.stderr) == [refused.stderr.strip()], refused.stderr
    made = tmp_path / "g.jpg"
    done = subprocess.run(
        [str(exe), "generate", "--run", str(bad["run"]), "--out", str(made), "--n", "4"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # no absl/cudart/cuInit lines
    assert made.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG, as its name says
    again = cli("generate", "--run", bad["run"], "--out", made, "--n", "4", check=False)  # no process of its own needed
    assert again.returncode == 0, again.stderr  # latentkit's own picture is replaced without --force


ROOT_AS_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
READ_ONLY = [  # a destination inside a folder this user may not write
    ["prepare", "synthetic", "--n", "64", "--size", "32", "--out", "{ro}/x.zarr"],
    ["train", "--data", "{store}", "--run", "{ro}/run", *TINY],
    ["encode", "--run", "{run}", "--out", "{ro}/z.zarr"],
    ["analyze", "--run", "{run}", "--out", "{ro}/analysis"],
    ["generate", "--run", "{run}", "--out", "{ro}/g.png"],
    ["export", "--run", "{run}", "--format", "npy", "--out", "{ro}/e"],
    ["stage", "{file}", "{ro}/copy.txt"],
    ["sync", "{run}", "{ro}/mirror"],
    ["compare", "{run}", "{run}", "--out", "{ro}/c"],
    ["demo", "--dir", "{ro}/d"],
]


def test_a_read_only_folder_is_one_line_and_nothing_is_written(bad, tmp_path):
    """Permission denied, as a user meets it (root drops the capability that ignores file modes):
    every verb that writes refuses up front, in one line naming the folder."""
    ro = tmp_path / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: a read-only folder cannot be met here")
        prefix = ROOT_AS_USER
    for argv in READ_ONLY:
        args = [a.format(ro=ro, **{k: v for k, v in bad.items() if k != "vae_args"}) for a in argv]
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "latentkit", *args], capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr, (argv, result.stderr)
        assert latentkit_lines(result.stderr) == [
            f"latentkit: error: permission denied: cannot write in {ro}: choose a folder you can write"
        ], result.stderr
        assert list(ro.iterdir()) == [], argv


def test_a_picture_latentkit_wrote_is_replaced_and_a_users_only_with_force(bad, tmp_path):
    from PIL import Image

    from latentkit.model.images import made_by_latentkit

    ours = tmp_path / "grid.webp"
    cli("generate", "--run", bad["run"], "--method", "normal", "--n", "4", "--out", ours)
    assert made_by_latentkit(ours) and Image.open(ours).format == "WEBP"
    cli("generate", "--run", bad["run"], "--method", "normal", "--n", "4", "--seed", "1", "--out", ours)  # ours: fine
    theirs = tmp_path / "holiday.png"
    shutil.copy(bad["userpng"], theirs)
    refused = cli("reconstruct", "--run", bad["run"], "--n", "2", "--out", theirs, check=False)
    assert refused.returncode == 2 and "pass --force to replace it" in refused.stderr
    assert theirs.read_bytes() == bad["userpng"].read_bytes()
    cli("reconstruct", "--run", bad["run"], "--n", "2", "--out", theirs, "--force")
    assert made_by_latentkit(theirs)


def test_folders_latentkit_made_are_written_again_and_marked(bad, tmp_path):
    """A rerun writes into the folders it made (resume); each carries the mark that says so."""
    from latentkit.core import MARK

    for _ in range(2):
        cli("sync", bad["run"], tmp_path / "mirror")
        cli("stage", bad["photos"], tmp_path / "staged")
        cli(
            "analyze",
            "--latents",
            bad["run"] / "latents.zarr",
            "--out",
            tmp_path / "analysis",
            "--no-tsne",
            "--no-kmeans",
            "--no-mixture",
            "--no-figures",
            "--nn-sample",
            "0",
        )
    for folder in ("mirror", "staged", "analysis"):
        assert (tmp_path / folder / MARK).exists(), folder


def test_help_reads_as_plain_text_in_pipeline_order():
    """No boxes cut at 80 columns, no <int range> or <bool>: click's plain layout, commands in the
    order a study meets them, each with its whole first sentence."""
    from latentkit.cli.main import ORDER

    root = cli("--help").stdout
    commands = root.split("Commands:")[1]
    assert "╭" not in root and "<" not in root and "..." not in commands and "…" not in root, root
    listed = [line.split()[0] for line in commands.splitlines() if line[:3].strip()]
    assert listed == list(ORDER)
    assert "train         Train an AE/VAE; rerun to resume mid-epoch\n" in root
    train = cli("train", "-h").stdout
    assert "--epochs N" in train and "--data PATH" in train and "<" not in train, train
    assert "(default: the spec's)" in train
    presets = cli("presets").stdout
    assert all(line.endswith(".") for line in presets.splitlines()), presets  # whole sentences
    from latentkit.analysis.generators import METHODS

    generate = " ".join(cli("generate", "-h").stdout.split())
    methods = generate[generate.index("--method TEXT") : generate.index("--b X")]
    assert [m for m in METHODS if f" {m} " not in methods.replace("|", " ")] == [], methods  # every generator named


def test_output_to_a_file_gets_plain_progress_lines(tmp_path):
    """Not on a terminal (a SLURM log): no bar, a plain line every LATENTKIT_PROGRESS_S seconds."""
    result = cli(
        "prepare",
        "synthetic",
        "--n",
        "3000",
        "--size",
        "48",
        "--chunk",
        "250",
        "--out",
        tmp_path / "s.zarr",
        env={"LATENTKIT_PROGRESS_S": "0"},
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("prepare: ")]
    assert len(lines) >= 3 and lines[-1].startswith("prepare: 3,000/3,000 (done in "), result.stderr
    assert "%" in lines[0] and "left)" in lines[0]
    assert "\r" not in result.stderr and "\x1b" not in result.stderr  # no redraws, no colours


def test_status_before_any_epoch_finished_says_so(bad, tmp_path):
    import json as _json

    from latentkit.model import checkpoint

    run = copy_run(bad["run"], tmp_path / "run", trained_only=True)
    saved, _ = checkpoint.load(run / "checkpoints")
    meta = _json.loads(_json.dumps(saved.meta))
    meta["history"] = []  # a checkpoint taken mid-epoch 1 (Ctrl-C): no epoch has a loss yet
    checkpoint.save(run / "checkpoints", meta=meta, model_variables=saved.model, optimizer_variables=saved.optimizer)
    line = [x for x in cli("status", "--run", run).stdout.splitlines() if x.startswith("train")][0]
    assert "no epoch finished yet" in line and "nan" not in line, line
