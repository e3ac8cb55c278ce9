"""encode: every row through the trained encoder, the same latents in any chunk grid, after a kill or
split over tasks; a VAE's mu and logvar; bad input, the memory estimate and status."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr
from fixtures.commands import cli, kill_when, start_cli
from fixtures.runs import TINY_OVERRIDES
from fixtures.stores import assert_identical, chunks_done, read_latents

from latentkit.core.options import parse_size
from latentkit.ingest.prepare import prepare_synthetic
from latentkit.model.encode import encode, vae_noise
from latentkit.model.train import train


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("encode")
    data = root / "s32.zarr"
    prepare_synthetic(out=data, n=250, size=32, chunk=64)
    out = {"data": data}
    for kind, job in (("ae", "demo"), ("vae", "vae")):
        train(data=data, run=root / kind, job=job, overrides={**TINY_OVERRIDES, "train.epochs": 1})
        out[kind] = root / kind
    return out


@pytest.fixture(scope="module")
def reference(runs) -> Path:
    out = runs["ae"] / "reference.zarr"
    encode(run=runs["ae"], chunk=40, batch=16, out=out)
    return out


def test_encodes_every_row_with_the_trained_encoder(runs, reference):
    from latentkit.model import checkpoint
    from latentkit.model.networks import build_model
    from latentkit.model.spec import spec_from_dict

    z = zarr.open_group(reference, mode="r")["z"]
    assert z.shape == (250, 8) and z.chunks == (40, 8)
    saved, _ = checkpoint.load(runs["ae"] / "checkpoints")
    model = build_model(spec_from_dict(saved.meta["spec"]).model)
    checkpoint.restore(model, saved)
    images = zarr.open_group(runs["data"], mode="r")["images"][:7].astype("float32") / 255
    np.testing.assert_allclose(z[:7], np.asarray(model.encoder(images)), rtol=1e-4, atol=1e-5)


def test_another_chunk_and_batch_grid_give_identical_output(runs, reference):
    other = runs["ae"] / "chunk64.zarr"
    encode(run=runs["ae"], chunk=64, batch=16, out=other)
    assert zarr.open_group(other, mode="r")["z"].chunks == (64, 8)
    assert_identical(reference, other)


@pytest.mark.system
def test_sigkill_mid_chunk_then_rerun_is_identical(runs, reference):
    out = runs["ae"] / "killed.zarr"
    args = ["encode", "--run", runs["ae"], "--chunk", "40", "--batch", "16", "--out", out]
    process = start_cli(*args, env={"LATENTKIT_THROTTLE_S": "0.5"})
    kill_when(process, lambda: chunks_done(out) >= 2)
    assert 2 <= chunks_done(out) < 7
    result = cli(*args)
    assert "already done" in result.stdout
    assert_identical(reference, out)


@pytest.mark.system
def test_three_concurrent_tasks_are_identical(runs, reference):
    out = runs["ae"] / "tasks.zarr"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "latentkit",
                "encode",
                "--run",
                str(runs["ae"]),
                "--chunk",
                "40",
                "--batch",
                "16",
                "--out",
                str(out),
                "--task",
                str(t),
                "--tasks",
                "3",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for t in range(3)
    ]
    assert [w.wait(timeout=600) for w in workers] == [0, 0, 0]
    assert_identical(reference, out)


def test_vae_writes_mu_and_logvar_and_use_mu(runs):
    sampled, means = runs["vae"] / "z.zarr", runs["vae"] / "mu.zarr"
    encode(run=runs["vae"], chunk=100, batch=32, out=sampled)
    encode(run=runs["vae"], chunk=100, batch=32, out=means, use="mu")
    a, b = read_latents(sampled), read_latents(means)
    assert {"z", "mu", "logvar"} <= set(a)
    np.testing.assert_array_equal(b["z"], b["mu"])
    np.testing.assert_array_equal(a["mu"], b["mu"])
    eps = (a["z"] - a["mu"]) / np.exp(0.5 * a["logvar"])
    np.testing.assert_allclose(eps, np.clip(vae_noise(0, 0, 250, 8), -5, 5), rtol=1e-3, atol=1e-3)
    again = runs["vae"] / "z_chunk50.zarr"
    encode(run=runs["vae"], chunk=50, batch=32, out=again)
    assert_identical(sampled, again)


def test_encode_applies_the_runs_eps_factor_like_the_sampling_layer(runs, tmp_path):
    """One formula for z: encode's z with eps_factor 0.5 is what the Sampling layer would draw."""
    import keras

    from latentkit.model.networks import Sampling
    from latentkit.model.sampling import reparameterize

    run = tmp_path / "vae_half"
    train(
        data=runs["data"], run=run, job="vae", overrides={**TINY_OVERRIDES, "train.epochs": 1, "model.eps_factor": 0.5}
    )
    encode(run=run, chunk=100, batch=32)
    got = read_latents(run / "latents.zarr")
    expected = reparameterize(got["mu"], got["logvar"], vae_noise(0, 0, 250, 8), 0.5)
    assert got["z"].tobytes() == expected.tobytes()  # bitwise: the same function, the same noise
    spread = (got["z"] - got["mu"]) / np.exp(0.5 * got["logvar"])
    assert 0.4 < spread.std() < 0.6  # half of unit noise, not unit noise

    layer = Sampling(eps_factor=0.5, seed=3)
    zeros = np.zeros((4000, 8), np.float32)
    drawn = keras.ops.convert_to_numpy(layer([zeros, zeros]))
    assert 0.47 < drawn.std() < 0.53 and np.abs(drawn).max() <= 2.5  # clip(eps, -5, 5) * 0.5


def test_bad_input_is_one_line_and_leaves_outputs_untouched(runs, reference, tmp_path):
    before = read_latents(reference)
    mtime = (reference / "z" / "c" / "0" / "0").stat().st_mtime_ns
    big = tmp_path / "s64.zarr"
    prepare_synthetic(out=big, n=10, size=64)
    empty_run = tmp_path / "no_run"
    empty_run.mkdir()
    cases = [
        (["--run", empty_run, "--chunk", "10"], "no checkpoint"),
        (["--run", runs["ae"], "--chunk", "10", "--data", big, "--out", reference], "expects 32x32"),
        (["--run", runs["ae"], "--chunk", "0", "--out", reference], "--chunk must be a positive"),
        (["--run", runs["ae"], "--chunk", "-5", "--out", reference], "--chunk must be a positive"),
        (["--run", runs["ae"], "--chunk", "100", "--out", reference], "chunk=40"),
        (["--run", runs["ae"], "--chunk", "40", "--max-ram", "100M", "--out", tmp_path / "x.zarr"], "needs about"),
        (["--run", runs["ae"], "--chunk", "40", "--use", "mu", "--out", tmp_path / "y.zarr"], "needs a VAE"),
    ]
    for args, words in cases:
        result = cli("encode", *args, check=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and words in lines[0], (args, result.stderr)
    after = read_latents(reference)
    assert all(before[k].tobytes() == after[k].tobytes() for k in before)
    assert (reference / "z" / "c" / "0" / "0").stat().st_mtime_ns == mtime
    assert not (tmp_path / "x.zarr").exists() and not (tmp_path / "y.zarr").exists()


def test_max_ram_estimate_accepts_a_roomy_budget(runs, tmp_path):
    assert parse_size("1.5G", option="--max-ram") == int(1.5 * 2**30)
    assert parse_size("800M", option="--max-ram") == 800 * 2**20
    encode(run=runs["ae"], chunk=40, batch=16, out=tmp_path / "ok.zarr", max_ram="8G")


def test_status_reports_epochs_chunks_and_monitor(runs, tmp_path):
    out = runs["ae"] / "latents.zarr"
    encode(run=runs["ae"], chunk=100, batch=16, task=0, tasks=2)  # chunks 0 and 2 of 3
    text = cli("status", "--run", runs["ae"]).stdout
    assert "epoch 1 of 1 done" in text and "2 of 3 chunks done" in text and "missing [1]" in text
    assert "encode chunk" in text and "RSS" in text
    assert out.exists()
