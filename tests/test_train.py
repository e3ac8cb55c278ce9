"""Training: the presets' networks, resume after a kill or a stop signal, mixed precision, the history
and its curves, runs started from a kept checkpoint, overfitting, and decoders of other shapes."""

import csv
import re
import signal
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from fixtures.commands import cli, kill_when, run_cli, start_cli
from fixtures.runs import TINY, TINY_OVERRIDES
from PIL import Image

from latentkit.core import INTERRUPTED_EXIT
from latentkit.core.errors import LatentkitError
from latentkit.model import checkpoint
from latentkit.model.dataset import ZarrImageDataset
from latentkit.model.encode import encode
from latentkit.model.networks import build_model
from latentkit.model.spec import load_spec
from latentkit.model.train import train


def weights(run: Path) -> list[np.ndarray]:
    saved, _ = checkpoint.load(run / "checkpoints")
    return saved.model


@pytest.mark.parametrize(
    "preset, encoder_params",
    [
        ("ae-case1", 2_747_968),
        ("ae-case2", 1_508_672),
        ("vae", 5_107_521),
        ("vae-tiny-kl", 5_107_521),
        ("demo", 1_141_952),
    ],
)
def test_presets_build_with_expected_parameter_counts(preset, encoder_params):
    spec = load_spec(preset)
    model = build_model(spec.model)
    assert model.encoder.count_params() == encoder_params
    size = spec.model.image_size  # 96 for the studies, 64 for the demo
    assert model.decoder.output_shape == (None, size, size, 3)
    assert model.is_vae == preset.startswith("vae")


def test_vae_extra_dense_roughly_halves_the_encoder():
    plain = build_model(load_spec("vae").model).encoder.count_params()
    extra = build_model(load_spec("vae", {"model.extra_dense": True}).model).encoder.count_params()
    assert 0.45 < extra / plain < 0.6


def test_vae_mu_only_switch_takes_effect_on_next_call():
    spec = load_spec("vae", {k: v for k, v in TINY_OVERRIDES.items() if k.startswith("model.")})
    model = build_model(spec.model)
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    predict = lambda: [np.asarray(t) for t in model.encoder.predict_on_batch(x)]  # noqa: E731 a cached traced function
    mu, logvar, z = predict()
    assert not np.allclose(z, mu)
    model.set_mu_only(True)
    mu2, _, z2 = predict()
    np.testing.assert_array_equal(z2, mu2)
    np.testing.assert_array_equal(np.asarray(model.encode(x)[2]), np.asarray(model.encode(x)[0]))
    model.set_mu_only(False)
    assert not np.allclose(predict()[2], mu)


def test_short_run_lowers_the_loss(tiny_store, tmp_path):
    result = train(
        data=tiny_store,
        run=tmp_path / "run",
        job="demo",
        overrides={**TINY_OVERRIDES, "train.epochs": 4, "train.lr": 3e-3},
    )
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 4 and all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.95 * losses[0]
    assert (tmp_path / "run" / "history.csv").read_text().count("\n") == 5
    assert (tmp_path / "run" / "samples" / "reconstructions_epoch004.png").exists()
    lines = (tmp_path / "run" / "monitor.jsonl").read_text().splitlines()
    assert len(lines) == 4 and '"rss_mb"' in lines[0] and '"vram_used_mb"' in lines[0]


def test_vae_trains_and_logs_kl(tiny_store, tmp_path):
    result = train(data=tiny_store, run=tmp_path / "vae", job="vae", overrides={**TINY_OVERRIDES, "train.epochs": 1})
    assert result.history[0]["kl"] > 0 and result.history[0]["loss"] > result.history[0]["reconstruction"]


@pytest.mark.system  # a fresh process on the other backend
def test_a_jax_run_trains_encodes_and_is_measured_without_loading_tensorflow(tiny_store, tmp_path):
    """Keras seeds TensorFlow whenever it is installed (for tf.data); latentkit's seed leaves it
    unloaded on JAX (``latentkit.model.backend.set_random_seed``), and nothing else loads it: train,
    encode and analyze with the model's re-encoding and reconstructions run without it."""
    import json
    import os
    import subprocess
    import sys

    run = tmp_path / "run"
    commands = [
        ["train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "1"],
        ["encode", "--run", run],
        ["analyze", "--run", run, "--no-tsne", "--no-kmeans", "--no-figures", "--no-report", "--hit-draws", "2000"],
    ]
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from fixtures.commands import cli; "
        "[cli(*c) for c in json.loads(sys.argv[2])]; "
        "print(json.dumps(sorted(m for m in ('jax', 'tensorflow') if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent), json.dumps([[str(a) for a in c] for c in commands])],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == ["jax"]
    assert "reconstruction" in json.loads((run / "analysis" / "report.json").read_text())


@pytest.mark.system
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tiny_store, tmp_path, backend):
    """The mid-epoch checkpoint is written from inside fit (on JAX, after copying the state
    back from the device): killed there and resumed, the run ends as an uninterrupted one."""
    env = {"KERAS_BACKEND": backend}
    args = ["train", "--data", tiny_store, "--job", "demo", *TINY, "--epochs", "2", "--checkpoint-every", "3"]
    run_cli(*args, "--run", tmp_path / "whole", env=env)
    killed = tmp_path / "killed"
    process = start_cli(*args, "--run", killed, env={**env, "LATENTKIT_THROTTLE_S": "0.3"})
    ckpt = killed / "checkpoints" / "latest.npz"
    kill_when(process, lambda: ckpt.exists() and ckpt.stat().st_mtime > 0)
    saved, _ = checkpoint.load(killed / "checkpoints")
    # mid-epoch (10 steps per epoch), at the first compiled call's boundary past step 3 (4 steps per call)
    assert (saved.meta["epoch"], saved.meta["step"], saved.meta["backend"]) == (0, 4, backend)
    run_cli(*args, "--run", killed, env=env)
    for a, b in zip(weights(tmp_path / "whole"), weights(killed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    whole, resumed = (checkpoint.load(r / "checkpoints")[0].meta["history"] for r in (tmp_path / "whole", killed))
    np.testing.assert_allclose([h["loss"] for h in whole], [h["loss"] for h in resumed], rtol=1e-5)


@pytest.mark.system
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1])
def test_stop_signal_checkpoints_and_exits_with_documented_status(tiny_store, tmp_path, sig):
    run = tmp_path / "run"
    process = start_cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        run,
        "--job",
        "demo",
        *TINY,
        "--epochs",
        "3",
        env={"LATENTKIT_THROTTLE_S": "0.2"},
    )
    deadline = time.monotonic() + 120
    while not (run / "job.toml").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2)  # let it take a few steps
    process.send_signal(sig)
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == INTERRUPTED_EXIT, output
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] * 10 + saved.meta["step"] >= 1
    assert "checkpoint written" in output


def test_resume_with_shape_changing_spec_is_refused_and_epochs_extend(tiny_store, tmp_path):
    run = tmp_path / "run"
    cli("train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "1")
    refused = cli(
        "train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--set", "model.z_dim=4", check=False
    )
    assert refused.returncode == 2 and "model.z_dim: 8 -> 4" in refused.stderr and "Traceback" not in refused.stderr
    cli("train", "--data", tiny_store, "--run", run, "--epochs", "2")  # the run's own job.toml, extended
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] == 2 and len(saved.meta["history"]) == 2


def test_corrupt_latest_checkpoint_falls_back_to_previous(tiny_store, tmp_path):
    run = tmp_path / "run"
    train(data=tiny_store, run=run, job="demo", overrides={**TINY_OVERRIDES, "train.epochs": 2})
    (run / "checkpoints" / "latest.npz").write_bytes(b"\0" * 100)
    saved, warning = checkpoint.load(run / "checkpoints")
    assert saved.path.name == "previous.npz" and "latest.npz" in warning
    result = cli("train", "--data", tiny_store, "--run", run, "--epochs", "2")
    assert "resuming" in result.stderr and "previous.npz" in result.stderr
    (run / "checkpoints" / "latest.npz").write_bytes(b"garbage")
    (run / "checkpoints" / "previous.npz").write_bytes(b"garbage")
    with pytest.raises(LatentkitError, match="no readable checkpoint"):
        checkpoint.load(run / "checkpoints")
    failed = cli("train", "--data", tiny_store, "--run", run, check=False)
    assert failed.returncode == 2 and "no readable checkpoint" in failed.stderr


def test_store_image_size_mismatch_is_a_clear_error(tiny_store, tmp_path):
    failed = cli("train", "--data", tiny_store, "--run", tmp_path / "r", "--job", "demo", check=False)
    assert failed.returncode == 2 and "the model expects 64x64: prepare a store with --size 64" in failed.stderr


def test_job_equals_a_step_by_step_float32_loop(tiny_store, tmp_path):
    """uint8 batches scaled in the step, fit per stretch, 3 steps per call: the same training as
    calling train_on_batch on float32 batches one step at a time (the job's loop before)."""
    overrides = {**TINY_OVERRIDES, "train.epochs": 2, "train.checkpoint_every": 4, "train.steps_per_execution": 3}
    result = train(data=tiny_store, run=tmp_path / "run", job="demo", overrides=overrides)
    spec = load_spec("demo", overrides)
    keras.utils.set_random_seed(spec.train.seed)
    model = build_model(spec.model, lr=spec.train.lr)
    dataset = ZarrImageDataset(tiny_store, batch_size=spec.train.batch, seed=spec.train.seed, drop_remainder=True)
    losses = []
    for epoch in range(2):
        dataset.set_epoch(epoch)
        losses.append([model.train_on_batch(*dataset[i], return_dict=True)["loss"] for i in range(len(dataset))])
    for a, b in zip(weights(tmp_path / "run"), [np.asarray(v) for v in model.variables]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose([h["loss"] for h in result.history], np.mean(losses, axis=1), rtol=1e-4)


@pytest.mark.system
def test_signal_mid_stretch_resumes_equal_to_uninterrupted(tiny_store, tmp_path):
    args = [
        "train",
        "--data",
        tiny_store,
        "--job",
        "demo",
        *TINY,
        "--epochs",
        "2",
        "--checkpoint-every",
        "100",
        "--set",
        "train.steps_per_execution=3",
    ]
    cli(*args, "--run", tmp_path / "whole")
    run = tmp_path / "stopped"
    process = start_cli(*args, "--run", run, env={"LATENTKIT_THROTTLE_S": "0.25"})
    deadline = time.monotonic() + 120
    while not (run / "job.toml").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(3)
    process.send_signal(signal.SIGUSR2)
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == INTERRUPTED_EXIT, output
    saved, _ = checkpoint.load(run / "checkpoints")
    assert 0 < saved.meta["epoch"] * 10 + saved.meta["step"] < 20  # stopped mid-run, not at a checkpoint
    assert saved.meta["sums"][3] == saved.meta["step"]  # every step taken was counted
    cli(*args, "--run", run)
    for a, b in zip(weights(tmp_path / "whole"), weights(run)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_float32_loss_and_encodes(tiny_store, tmp_path, precision):
    overrides = {**TINY_OVERRIDES, "train.epochs": 2, "train.precision": precision, "train.lr": 3e-3}
    result = train(data=tiny_store, run=tmp_path / "run", job="demo", overrides=overrides)
    assert all(np.isfinite(h["loss"]) for h in result.history) and result.history[1]["loss"] < result.history[0]["loss"]
    model = build_model(load_spec("demo", overrides).model, precision=precision)
    assert model.decoder.output.dtype == "float32"  # the loss sees float32 images
    assert all(v.dtype == "float32" for v in model.trainable_variables)  # mixed: float32 weights
    saved, _ = checkpoint.load(tmp_path / "run" / "checkpoints")
    assert all(w.dtype == np.float32 for w in saved.model)
    out = encode(run=tmp_path / "run", chunk=64, batch=16)  # a float32 model from mixed weights
    z = np.asarray(__import__("zarr").open_group(out.out, mode="r")["z"][:])
    assert np.isfinite(z).all()


def test_bad_precision_is_a_clear_error(tiny_store, tmp_path):
    failed = cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        tmp_path / "r",
        "--job",
        "demo",
        *TINY,
        "--set",
        "train.precision=fp8",
        check=False,
    )
    assert failed.returncode == 2 and "train.precision must be one of" in failed.stderr


def _tensorboard_steps(run: Path, side: str) -> dict[str, list[int]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    board = EventAccumulator(str(run / "tensorboard" / side), size_guidance={"scalars": 0, "images": 0})
    board.Reload()
    tags = board.Tags()
    steps = {tag: [e.step for e in board.Scalars(tag)] for tag in tags["scalars"]}
    steps.update({tag: [e.step for e in board.Images(tag)] for tag in tags["images"]})
    return steps


@pytest.mark.system
def test_tensorboard_events_and_curves_survive_a_sigkill_and_rerun(tiny_store, tmp_path):
    """One scalar per epoch and tag, train and valid, no step twice or out of order after a kill
    mid-epoch 2 and a rerun; the loss curve with its valid line is redrawn each epoch."""
    run = tmp_path / "run"
    args = ["train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "3"]
    process = start_cli(*args, env={"LATENTKIT_THROTTLE_S": "0.3"})
    first = run / "tensorboard" / "train" / "events.out.tfevents.000001.latentkit"
    deadline = time.monotonic() + 300
    while not first.exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(1.5)  # a few steps into epoch 2
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not (run / "tensorboard" / "train" / "events.out.tfevents.000002.latentkit").exists()
    run_cli(*args)
    for side, tags in (
        ("train", {"loss", "loss/reconstruction", "loss/kl", "speed/images_per_s", "reconstructions (top: originals)"}),
        ("valid", {"loss", "loss/reconstruction", "loss/kl"}),
    ):
        steps = _tensorboard_steps(run, side)
        assert set(steps) == tags and all(s == [1, 2, 3] for s in steps.values()), (side, steps)
    history = list(csv.DictReader((run / "history.csv").open()))
    assert [h["epoch"] for h in history] == ["1", "2", "3"] and all(float(h["val_loss"]) > 0 for h in history)
    assert Image.open(run / "samples" / "training.png").size[0] > 400


def test_validation_loss_is_the_checkpoints_loss_on_the_held_out_images(tiny_store, tmp_path):
    """history's val_loss of the last epoch, against a direct evaluation of the saved VAE on the
    same held-out images: one pass, numpy's binary cross-entropy, z = mu."""
    from latentkit.model.codec import load_model
    from latentkit.model.epoch_measures import validation_images
    from latentkit.model.runs import read_run
    from latentkit.model.spec import spec_from_dict

    run = tmp_path / "run"
    cli("train", "--data", tiny_store, "--run", run, "--job", "vae", *TINY, "--epochs", "2")
    described = read_run(run)
    model = load_model(run, described)
    spec = spec_from_dict(described.saved.meta["spec"])
    x = validation_images(tiny_store, spec).astype(np.float64) / 255.0
    mu, logvar, _ = (np.asarray(t, np.float64) for t in model.encoder(x.astype(np.float32), training=False))
    x_hat = np.clip(np.asarray(model.decoder(mu.astype(np.float32), training=False), np.float64), 1e-7, 1 - 1e-7)
    bce = -(x * np.log(x_hat) + (1 - x) * np.log(1 - x_hat)).mean(axis=-1).sum(axis=(1, 2)).mean()
    kl = -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar), axis=1).mean()
    last = checkpoint.load(run / "checkpoints")[0].meta["history"][-1]
    np.testing.assert_allclose([last["val_reconstruction"], last["val_kl"]], [bce, kl], rtol=1e-3)
    np.testing.assert_allclose(last["val_loss"], bce + spec.model.kl_factor * kl, rtol=1e-3)


def _as_if_trained_at(kept: Path, run: Path, *, lr: float | None = None, kl_factor: float | None = None) -> Path:
    """A run whose latest checkpoint is ``kept`` as if it had been trained at ``lr`` and
    ``kl_factor`` all along: the rate stored in the optimizer's state and the spec rewritten.
    Resumed, it trains on at those settings by the restore alone (no --from involved)."""
    from latentkit.model.spec import spec_from_dict, to_toml

    with np.load(kept) as data:
        arrays = dict(data)
    meta = __import__("json").loads(str(arrays["meta"]))
    spec = spec_from_dict(
        meta["spec"], {**({"train.lr": lr} if lr else {}), **({"model.kl_factor": kl_factor} if kl_factor else {})}
    )
    if lr:
        old = meta["spec"]["train"]["lr"]
        rate = [
            k
            for k, a in arrays.items()
            if k.startswith("optimizer/") and a.shape == () and a.dtype.kind == "f" and np.isclose(a, old)
        ]
        assert len(rate) == 1, rate  # the optimizer's learning-rate variable
        arrays[rate[0]] = np.asarray(lr, arrays[rate[0]].dtype)
    meta["spec"] = spec.to_dict()
    arrays["meta"] = np.array(__import__("json").dumps(meta))
    (run / "checkpoints").mkdir(parents=True)
    np.savez(run / "checkpoints" / "latest.npz", **arrays)
    (run / "job.toml").write_text(to_toml(spec))
    return run


@pytest.mark.parametrize("backend", ["tensorflow", pytest.param("jax", marks=pytest.mark.system)])
def test_a_run_started_from_a_kept_checkpoint_trains_at_its_new_rate_and_kl_factor(tiny_store, tmp_path, backend):
    """Issue 45: the rate restored with the optimizer's state used to win over --lr. Now a
    continuation at the same rate is the original run; one at a lower rate (or another KL
    factor) differs from it and equals the checkpoint resumed as if trained at that setting."""
    from fixtures.commands import cli_in_a_fresh_process

    def latentkit(*commands):
        if backend == "tensorflow":
            return [cli(*c) for c in commands]
        done = cli_in_a_fresh_process(*commands, env={"KERAS_BACKEND": backend})
        assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
        return done

    train_ = lambda run, *more: ["train", "--data", tiny_store, "--run", tmp_path / run, *more]  # noqa: E731
    latentkit(train_("a", "--job", "vae", *TINY, "--epochs", "2", "--lr", "0.002", "--keep-epochs", "1"))
    kept = tmp_path / "a" / "checkpoints" / "epoch_0001.npz"
    _as_if_trained_at(kept, tmp_path / "low_ref", lr=1e-4)
    _as_if_trained_at(kept, tmp_path / "kl_ref", kl_factor=0.01)
    said = latentkit(
        train_("same", "--from", kept, "--lr", "0.002"),
        train_("low", "--from", kept, "--lr", "0.0001"),
        train_("kl", "--from", kept, "--set", "model.kl_factor=0.01"),
        train_("low_ref", "--epochs", "2"),
        train_("kl_ref", "--epochs", "2"),
    )
    assert "train.lr: 0.002 -> 0.0001" in said[1].stderr and "model.kl_factor: 5.0 -> 0.01" in said[2].stderr
    w = {run: weights(tmp_path / run) for run in ("a", "same", "low", "kl", "low_ref", "kl_ref")}
    same = lambda x, y: all(np.array_equal(a, b) for a, b in zip(w[x], w[y]))  # noqa: E731
    assert same("a", "same") and not same("same", "low") and not same("same", "kl")
    assert same("low", "low_ref") and same("kl", "kl_ref")
    assert checkpoint.load(tmp_path / "low" / "checkpoints")[0].meta["started_from"] == str(kept.resolve())


def test_from_into_a_run_of_its_own_and_garbage_options_on_a_finished_run_are_refused(tiny_store, tmp_path):
    """--from starts a new run: pointed at a run that exists it is refused (the same command
    run again resumes its own run); options are checked before 'nothing to do'."""
    train_ = lambda run, *more: cli("train", "--data", tiny_store, "--run", tmp_path / run, *more, check=False)  # noqa: E731
    assert train_("a", "--job", "demo", *TINY, "--epochs", "1", "--keep-epochs", "1").returncode == 0
    kept = tmp_path / "a" / "checkpoints" / "epoch_0001.npz"
    before = (tmp_path / "a" / "checkpoints" / "latest.npz").read_bytes()
    into_own = train_("a", "--from", kept, "--lr", "0.0001", "--epochs", "2")
    assert into_own.returncode == 2 and "--from starts a new run" in into_own.stderr
    assert len(into_own.stderr.strip().splitlines()) == 1 and into_own.stderr.startswith("latentkit:")
    assert (tmp_path / "a" / "checkpoints" / "latest.npz").read_bytes() == before
    for option, value in (("--max-vram", "@@"), ("--devices", "@@"), ("--devices", "0")):
        garbage = train_("a", option, value)  # finished at its 1 epoch: it used to say 'nothing to do', exit 0
        assert garbage.returncode == 2 and option in garbage.stderr, (option, garbage.stderr)
    assert train_("b", "--from", kept, "--epochs", "2").returncode == 0
    again = train_("b", "--from", kept, "--epochs", "3")  # the same branch, trained on
    assert again.returncode == 0 and checkpoint.load(tmp_path / "b" / "checkpoints")[0].meta["epoch"] == 3


@pytest.mark.parametrize("kl_factor", [0.5, 0.0])
def test_history_holds_the_loss_per_pixel_and_the_kl_weighted_and_unweighted(tiny_store, tmp_path, kl_factor):
    """Issue 45: the quantities as the posts report them. kl_weighted is kl_factor times the
    unweighted kl of the same row (so the loss is reconstruction + kl_weighted), the per-pixel
    columns times the 32 x 32 pixels are the summed ones, for training and validation alike; a
    KL factor of 0 still records the KL (it used to read 0). The first line names the parameters."""
    run = tmp_path / "run"
    result = cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        run,
        "--job",
        "vae",
        *TINY,
        "--epochs",
        "1",
        "--set",
        f"model.kl_factor={kl_factor}",
    )
    model = build_model(load_spec("vae", {**TINY_OVERRIDES, "model.kl_factor": kl_factor}).model)
    encoder, decoder = model.encoder.count_params(), model.decoder.count_params()
    assert (
        f"model: encoder {encoder:,} parameters, decoder {decoder:,}, total {encoder + decoder:,}" in result.stderr
    ), result.stderr
    assert result.stderr.count("model: encoder") == 1
    (row,) = [{k: float(v) for k, v in r.items()} for r in csv.DictReader((run / "history.csv").open())]
    for side in ("", "val_"):
        assert row[f"{side}kl"] > 0
        assert row[f"{side}kl_weighted"] == kl_factor * row[f"{side}kl"]
        assert row[f"{side}loss_per_pixel"] * 32 * 32 == pytest.approx(row[f"{side}loss"], rel=1e-12)
        per_pixel = row[f"{side}reconstruction_per_pixel"]
        assert per_pixel * 32 * 32 == pytest.approx(row[f"{side}reconstruction"], rel=1e-12)
        assert row[f"{side}loss"] == pytest.approx(row[f"{side}reconstruction"] + row[f"{side}kl_weighted"], rel=1e-5)
    assert 0 < row["reconstruction_per_pixel"] < 1  # a binary cross-entropy of [0, 1] images, mean per value


def test_compare_shows_the_last_epochs_loss_per_pixel_and_kl_weighted(tiny_ae):
    from latentkit.analysis.compare import summarise
    from latentkit.analysis.report.files import read_report
    from latentkit.core import RunPaths

    paths = RunPaths.of(tiny_ae)
    summary = summarise(paths, read_report(paths.analysis / "report.json"))
    last = list(csv.DictReader(paths.history.open()))[-1]
    assert summary["final_loss_per_pixel"] == float(last["loss_per_pixel"])
    assert summary["final_loss_per_pixel"] * 32 * 32 == pytest.approx(summary["final_loss"], rel=1e-12)
    assert summary["final_reconstruction_per_pixel"] == float(last["reconstruction_per_pixel"])
    assert summary["final_kl_weighted"] == summary["final_kl"] == 0.0  # an AE


def _noise_store(tiny_store: Path, to: Path, *, train: int) -> Path:
    """``tiny_store`` copied, its images replaced by uniform noise: ``train`` training images and 48
    valid ones. Nothing is common to learn but the noise of each training image, so the model overfits."""
    import shutil

    import zarr

    shutil.copytree(tiny_store, to)
    group = zarr.open_group(to, mode="r+")
    partition = np.full(group["partition"].shape, 2, np.uint8)
    partition[:train], partition[train : train + 48] = 0, 1
    group["partition"][:] = partition
    group["images"][:] = np.random.default_rng(0).integers(0, 256, group["images"].shape, dtype=np.uint8)
    return to


def test_the_epoch_line_shows_the_loss_and_validation_loss_of_history(tiny_store, tmp_path):
    """Issue 46: each epoch's row shows history.csv's loss and val_loss (summed over the pixels, as
    the legend says); best.npz holds the epoch of the lowest validation loss."""
    run = tmp_path / "run"
    said = cli(
        "train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "2", "--keep-every", "1"
    ).stderr
    assert "loss, val loss: summed over an image's pixels, mean over the images" in said and "single step" not in said
    rows = {
        int(m[1]): (float(m[2]), float(m[3]))
        for m in re.finditer(r"^ *epoch (\d+) +\S+ +\S+ +(\S+) +(\S+) ", said, re.M)
    }
    history = list(csv.DictReader((run / "history.csv").open()))
    assert sorted(rows) == [1, 2], said
    for row in history:
        np.testing.assert_allclose(rows[int(row["epoch"])], [float(row["loss"]), float(row["val_loss"])], rtol=1e-5)
    best = min(history, key=lambda row: float(row["val_loss"]))["epoch"]
    kept = checkpoint.read_kept(run / "checkpoints" / "best.npz")
    assert kept.meta["epoch"] == int(best)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(kept.model, checkpoint.read_kept(checkpoint.kept_path(run / "checkpoints", int(best))).model)
    )


def test_an_overfitting_run_warns_once_and_trains_on_from_its_best_epoch(tiny_store, tmp_path):
    """Issue 46: 16 training images of noise: the validation loss rises while the training loss
    falls. One warning as it begins names the best validation epoch and its best.npz; that file
    holds the epoch's weights, and a run --from it trains on exactly as the original run did."""
    data = _noise_store(tiny_store, tmp_path / "noise.zarr", train=16)
    args = ["--job", "demo", *TINY, "--set", "model.z_dim=32", "--lr", "0.003", "--keep-every", "1"]
    said = cli("train", "--data", data, "--run", tmp_path / "a", *args, "--epochs", "6").stderr
    warnings = [line for line in said.splitlines() if "overfitting" in line]
    assert len(warnings) == 1, said
    history = list(csv.DictReader((tmp_path / "a" / "history.csv").open()))
    best = int(min(history, key=lambda row: float(row["val_loss"]))["epoch"])
    kept = tmp_path / "a" / "checkpoints" / "best.npz"
    assert f"the best validation epoch was {best} (val_loss" in warnings[0] and f"--from {kept} " in warnings[0]
    epoch_file = lambda e: checkpoint.kept_path(tmp_path / "a" / "checkpoints", e)  # noqa: E731
    assert all(
        np.array_equal(a, b)
        for a, b in zip(checkpoint.read_kept(kept).model, checkpoint.read_kept(epoch_file(best)).model)
    )
    cli("train", "--data", data, "--run", tmp_path / "b", "--from", kept, "--epochs", str(best + 1))
    assert all(
        np.array_equal(a, b) for a, b in zip(weights(tmp_path / "b"), checkpoint.read_kept(epoch_file(best + 1)).model)
    )


def test_overfitting_is_a_rise_of_the_validation_loss_while_the_training_loss_falls(tmp_path):
    """The rule on a history: said at the third rise in a row (not at the fourth), again at a new
    onset; not where the training loss rose too; the best epoch is the lowest validation loss."""
    from latentkit.model.advice import RISING_EPOCHS, overfitting

    def history(valid, train=None):
        train = train or [100 - e for e in range(len(valid))]
        return [{"epoch": e + 1, "loss": t, "val_loss": v} for e, (t, v) in enumerate(zip(train, valid))]

    valid = [10, 8, 7, 7.5, 8, 9, 9.5, 6, 6.5, 7, 8]
    said = {len(h): overfitting(h, best=tmp_path / "best.npz") for h in (history(valid)[:n] for n in range(1, 12))}
    assert RISING_EPOCHS == 3 and [n for n, found in said.items() if found] == [6, 11]
    assert (said[6]["since"], said[6]["best_epoch"], said[6]["best_val_loss"]) == (4, 3, 7)
    assert (said[11]["since"], said[11]["best_epoch"], said[11]["best_checkpoint"]) == (9, 8, None)
    assert overfitting(history(valid[:6], [50, 49, 48, 47, 48, 49]), best=tmp_path / "best.npz") is None
    # the 1,797 digits: a fall of 150 from epoch 1, then 330.41 -> 331.22 (noise: it fell again); not said
    digits = [480.76, 400.0, 330.41, 330.94, 331.06, 331.22]
    assert overfitting(history(digits), best=tmp_path / "best.npz") is None
    assert overfitting(history(digits[:5] + [333.0]), best=tmp_path / "best.npz") is not None  # 2.59 > 1.50


def test_a_single_step_epoch_says_so_and_suggests_a_batch(tiny_store, tmp_path):
    """Issue 46: 188 training images at batch 128 are one step an epoch (60 left out): the run says
    so and suggests a batch of about ten steps."""
    said = cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        tmp_path / "run",
        "--job",
        "demo",
        *TINY,
        "--batch",
        "128",
        "--epochs",
        "1",
    ).stderr
    assert (
        "an epoch is a single step here (188 training images at batch 128, 60 of them left out of each epoch)" in said
    )
    assert "train a new --run with --batch 16 (11 steps an epoch)" in said


def test_a_best_epoch_whose_copy_a_kill_prevented_is_kept_on_resume(tiny_store, tmp_path):
    """best.npz is copied after the epoch's checkpoint: a run killed between the two (here: the
    copy removed) makes it when it resumes, from the checkpoint it resumes from."""
    data = _noise_store(tiny_store, tmp_path / "noise.zarr", train=16)
    run = tmp_path / "run"
    cli(
        "train",
        "--data",
        data,
        "--run",
        run,
        "--job",
        "demo",
        *TINY,
        "--lr",
        "0.003",
        "--epochs",
        "1",
        "--keep-every",
        "1",
    )
    (run / "checkpoints" / "best.npz").unlink()
    cli("train", "--data", data, "--run", run, "--epochs", "2")
    history = list(csv.DictReader((run / "history.csv").open()))
    assert float(history[1]["val_loss"]) > float(history[0]["val_loss"])  # epoch 1 stays the best
    kept, first = (checkpoint.read_kept(run / "checkpoints" / name) for name in ("best.npz", "epoch_0001.npz"))
    assert kept.meta["epoch"] == 1 and all(np.array_equal(a, b) for a, b in zip(kept.model, first.model))


def test_the_probe_radius_per_epoch_is_the_kept_checkpoints_and_a_run_can_start_from_one(tiny_store, tmp_path):
    import csv

    from fixtures.commands import cli
    from fixtures.runs import TINY_OVERRIDES

    from latentkit.model import checkpoint
    from latentkit.model.codec import Codec
    from latentkit.model.epoch_measures import probe_images
    from latentkit.model.networks import build_model
    from latentkit.model.spec import spec_from_dict
    from latentkit.model.train import train
    from latentkit.store import to_unit_float

    run = tmp_path / "run"
    result = train(
        data=tiny_store,
        run=run,
        job="vae",
        overrides={**TINY_OVERRIDES, "train.epochs": 3, "train.keep_epochs": [1], "train.keep_every": 2},
    )
    assert sorted(p.name for p in (run / "checkpoints").glob("epoch_*.npz")) == ["epoch_0001.npz", "epoch_0002.npz"]
    rows = list(csv.DictReader((run / "history.csv").read_text().splitlines()))
    assert len(rows) == 3 and all(float(r["probe_radius_mean"]) > 0 for r in rows)
    images = to_unit_float(probe_images(tiny_store))
    for epoch in (1, 2):  # the radius recorded is the kept checkpoint's encodings' radius
        kept = checkpoint.read_kept(run / "checkpoints" / f"epoch_{epoch:04d}.npz")
        model = build_model(spec_from_dict(kept.meta["spec"]).model)
        checkpoint.restore(model, kept, optimizer=False)
        radius = np.linalg.norm(Codec(model).encode(images).astype(np.float64), axis=1)
        assert float(rows[epoch - 1]["probe_radius_mean"]) == pytest.approx(radius.mean(), rel=1e-5)
        assert result.history[epoch - 1]["probe_radius_std"] == pytest.approx(radius.std(), rel=1e-4)
    with Image.open(run / "samples" / "training.png") as image:
        assert image.size[1] > 500  # the probe radius under the loss: two rows of panels
    # back to epoch 1 with another learning rate, in a new run
    branch = tmp_path / "branch"
    done = cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        branch,
        "--from",
        run / "checkpoints" / "epoch_0001.npz",
        "--lr",
        "0.0001",
        "--epochs",
        "2",
    )
    assert "starting from" in done.stderr + done.stdout
    saved, _ = checkpoint.load(branch / "checkpoints")
    assert saved.meta["epoch"] == 2 and saved.meta["spec"]["train"]["lr"] == 0.0001
    assert saved.meta["history"][0] == result.history[0]  # epoch 1 is the original run's
    refused = cli("train", "--data", tiny_store, "--run", tmp_path / "new", "--from", run / "nothing.npz", check=False)
    assert refused.returncode == 2 and "no such checkpoint file" in refused.stderr and not (tmp_path / "new").exists()
    shape = cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        tmp_path / "new",
        "--from",
        run / "checkpoints" / "epoch_0001.npz",
        "--set",
        "model.z_dim=4",
        check=False,
    )
    assert shape.returncode == 2 and "model.z_dim" in shape.stderr and not (tmp_path / "new").exists()


def test_a_decoder_with_resize_convolutions_and_residual_blocks_trains_and_its_size_is_estimated(tiny_store, tmp_path):
    from fixtures.runs import TINY_OVERRIDES

    from latentkit.model.memory import count_params
    from latentkit.model.networks import build_model
    from latentkit.model.spec import load_spec
    from latentkit.model.train import train

    overrides = {**TINY_OVERRIDES, "model.upsampling": "resize", "model.residual_blocks": 2, "train.epochs": 1}
    spec = load_spec("demo", overrides)
    model = build_model(spec.model)
    layers = [type(layer).__name__ for layer in model.decoder.layers]
    assert "Conv2DTranspose" not in layers and layers.count("UpSampling2D") == 2 and layers.count("Add") == 2
    assert count_params(spec.model)[1] == model.decoder.count_params()
    assert model.decoder(np.zeros((1, spec.model.z_dim), np.float32)).shape == (1, 32, 32, 3)
    result = train(data=tiny_store, run=tmp_path / "run", job="demo", overrides=overrides)
    assert result.epoch == 1 and np.isfinite(result.history[0]["loss"])
    assert load_spec("demo").model.upsampling == "transpose" and load_spec("demo").model.residual_blocks == 0
    with pytest.raises(Exception, match="model.upsampling must be one of transpose, resize"):
        load_spec("demo", {"model.upsampling": "bilinear"})
