import signal
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, TINY_OVERRIDES, kill_when, run_cli, start_cli

from latentkit import checkpoint
from latentkit.errors import LatentkitError
from latentkit.models import build_model
from latentkit.prepare import prepare_synthetic
from latentkit.spec import load_spec
from latentkit.train import EXIT_INTERRUPTED, train

@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "s32.zarr"
    prepare_synthetic(out=path, n=240, size=32, chunk=64)
    return path


def weights(run: Path) -> list[np.ndarray]:
    saved, _ = checkpoint.load(run / "checkpoints")
    return saved.model


@pytest.mark.parametrize("preset, encoder_params", [("ae-case1", 2_747_968), ("ae-case2", 1_508_672),
                                                    ("vae", 5_107_521), ("vae-tiny-kl", 5_107_521),
                                                    ("demo", 318_528)])  # fmt: skip
def test_presets_build_with_expected_parameter_counts(preset, encoder_params):
    spec = load_spec(preset)
    model = build_model(spec.model)
    assert model.encoder.count_params() == encoder_params
    assert model.decoder.output_shape == (None, 96, 96, 3)
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
    result = train(data=tiny_store, run=tmp_path / "run", job="demo",
                   overrides={**TINY_OVERRIDES, "train.epochs": 4, "train.lr": 3e-3})  # fmt: skip
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 4 and all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.95 * losses[0]
    assert (tmp_path / "run" / "history.csv").read_text().count("\n") == 5
    assert (tmp_path / "run" / "samples" / "reconstructions_epoch004.png").exists()
    lines = (tmp_path / "run" / "monitor.jsonl").read_text().splitlines()
    assert len(lines) == 4 and '"rss_mb"' in lines[0] and '"vram_used_mb"' in lines[0]


def test_vae_trains_and_logs_kl(tiny_store, tmp_path):
    result = train(data=tiny_store, run=tmp_path / "vae", job="vae", overrides={**TINY_OVERRIDES, "train.epochs": 1})
    assert result.history[0]["kl"] > 0 and result.history[0]["loss"] > result.history[0]["reconstruction"]


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tiny_store, tmp_path):
    args = ["train", "--data", tiny_store, "--job", "demo", *TINY, "--epochs", "2", "--checkpoint-every", "3"]
    run_cli(*args, "--run", tmp_path / "whole")
    killed = tmp_path / "killed"
    process = start_cli(*args, "--run", killed, env={"LATENTKIT_THROTTLE_S": "0.3"})
    ckpt = killed / "checkpoints" / "latest.npz"
    kill_when(process, lambda: ckpt.exists() and ckpt.stat().st_mtime > 0)
    saved, _ = checkpoint.load(killed / "checkpoints")
    assert (saved.meta["epoch"], saved.meta["step"]) == (0, 3)  # mid-epoch: 10 steps per epoch
    run_cli(*args, "--run", killed)
    for a, b in zip(weights(tmp_path / "whole"), weights(killed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert (tmp_path / "whole" / "history.csv").read_text().splitlines()[0] == (killed / "history.csv").read_text().splitlines()[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1])
def test_stop_signal_checkpoints_and_exits_with_documented_status(tiny_store, tmp_path, sig):
    run = tmp_path / "run"
    process = start_cli("train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "3",
                        env={"LATENTKIT_THROTTLE_S": "0.2"})  # fmt: skip
    deadline = time.monotonic() + 120
    while not (run / "job.toml").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2)  # let it take a few steps
    process.send_signal(sig)
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == EXIT_INTERRUPTED, output
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] * 10 + saved.meta["step"] >= 1
    assert "checkpoint written" in output


def test_resume_with_shape_changing_spec_is_refused_and_epochs_extend(tiny_store, tmp_path):
    run = tmp_path / "run"
    run_cli("train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "1")
    refused = run_cli("train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--set", "model.z_dim=4",
                      check=False)  # fmt: skip
    assert refused.returncode == 2 and "model.z_dim: 8 -> 4" in refused.stderr and "Traceback" not in refused.stderr
    run_cli("train", "--data", tiny_store, "--run", run, "--epochs", "2")  # the run's own job.toml, extended
    saved, _ = checkpoint.load(run / "checkpoints")
    assert saved.meta["epoch"] == 2 and len(saved.meta["history"]) == 2


def test_corrupt_latest_checkpoint_falls_back_to_previous(tiny_store, tmp_path):
    run = tmp_path / "run"
    train(data=tiny_store, run=run, job="demo", overrides={**TINY_OVERRIDES, "train.epochs": 2})
    (run / "checkpoints" / "latest.npz").write_bytes(b"\0" * 100)
    saved, warning = checkpoint.load(run / "checkpoints")
    assert saved.path.name == "previous.npz" and "latest.npz" in warning
    result = run_cli("train", "--data", tiny_store, "--run", run, "--epochs", "2")
    assert "resuming" in result.stderr and "previous.npz" in result.stderr
    (run / "checkpoints" / "latest.npz").write_bytes(b"garbage")
    (run / "checkpoints" / "previous.npz").write_bytes(b"garbage")
    with pytest.raises(LatentkitError, match="no readable checkpoint"):
        checkpoint.load(run / "checkpoints")
    failed = run_cli("train", "--data", tiny_store, "--run", run, check=False)
    assert failed.returncode == 2 and "no readable checkpoint" in failed.stderr


def test_store_image_size_mismatch_is_a_clear_error(tiny_store, tmp_path):
    failed = run_cli("train", "--data", tiny_store, "--run", tmp_path / "r", "--job", "demo", check=False)
    assert failed.returncode == 2 and "expects 96x96x3" in failed.stderr
