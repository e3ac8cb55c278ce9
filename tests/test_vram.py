"""Memory: allocator settings before the backend loads, monitor fields (a job's own peak RSS, the GPU's),
--max-vram, out of memory.

No GPU here: the figures are checked to be present and n/a, and out-of-memory errors are the
backends' own exception types raised inside a real job process at a chosen step.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from fixtures.commands import cli
from fixtures.runs import TINY
from fixtures.stores import assert_identical

from latentkit.model import checkpoint
from latentkit.model.memory import count_params, estimate_train_mb
from latentkit.model.networks import build_model
from latentkit.model.spec import load_spec

SETTINGS = ("TF_FORCE_GPU_ALLOW_GROWTH", "XLA_PYTHON_CLIENT_PREALLOCATE")

# Runs the CLI and records the allocator variables at the moment a backend is first imported.
WATCH_IMPORTS = """
import atexit, json, os, sys
seen = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in ("tensorflow", "jax") and name not in seen:
            seen[name] = {k: os.environ.get(k) for k in %r}
        return None
sys.meta_path.insert(0, Watch())
atexit.register(lambda: open(os.environ["SEEN"], "w").write(json.dumps(seen)))
from latentkit.cli.main import main
sys.argv = ["latentkit", *sys.argv[1:]]
main()
""" % (SETTINGS,)  # noqa: UP031 (the code inside is full of braces)

# Run the CLI with the backend's own out-of-memory error raised in the FAIL_AT-th call of
# {factory}(...).{method}: the job's train function, or its encoder's predict_on_batch.
FAIL_NTH_CALL = """
import os, sys
import tensorflow as tf
import {module} as target
make = target.{factory}
def failing(*args, **kwargs):
    made = make(*args, **kwargs)
    {prepare}
    real, calls = made.{method}, [0]
    def wrapper(*inputs):
        calls[0] += 1
        if calls[0] == int(os.environ["FAIL_AT"]):
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[16,16,16,8]")
        return real(*inputs)
    made.{method} = wrapper
    return made
target.{factory} = failing
from latentkit.cli.main import main
sys.argv = ["latentkit", *sys.argv[1:]]
main()
"""
FAIL_TRAIN = FAIL_NTH_CALL.format(
    module="latentkit.model.fitting",
    factory="build_model",
    method="train_function",
    prepare="made.make_train_function()",
)
FAIL_ENCODE_CALL = FAIL_NTH_CALL.format(
    module="latentkit.model.encode", factory="uint8_encoder", method="predict_on_batch", prepare=""
)


def python(code: str, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.mark.parametrize(
    "backend, extra, user, expected",
    [
        ("tensorflow", [], {}, {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}),
        ("jax", [], {}, {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}),
        (
            "tensorflow",
            ["--vram-pool"],
            {},
            {"TF_FORCE_GPU_ALLOW_GROWTH": "false", "XLA_PYTHON_CLIENT_PREALLOCATE": "true"},
        ),
        (
            "jax",
            [],
            {"XLA_PYTHON_CLIENT_PREALLOCATE": "true"},  # the user's own setting wins
            {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "true"},
        ),
    ],
)
@pytest.mark.system
def test_allocator_settings_are_in_place_before_the_backend_loads(tiny_store, tmp_path, backend, extra, user, expected):
    seen = tmp_path / "seen.json"
    result = python(
        WATCH_IMPORTS,
        "train",
        "--data",
        tiny_store,
        "--run",
        tmp_path / "run",
        "--job",
        "demo",
        *TINY,
        "--epochs",
        "1",
        *extra,
        env={"KERAS_BACKEND": backend, "SEEN": str(seen), **user},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    recorded = json.loads(seen.read_text())
    assert backend in recorded  # the backend was loaded, and these were the variables at that moment
    for name in recorded:
        assert recorded[name] == expected, name


def test_monitor_lines_carry_backend_vram_fields_as_na_without_gpu(tiny_store, tmp_path):
    run = tmp_path / "run"
    cli("train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "1")
    cli("encode", "--run", run, "--chunk", "64", "--batch", "16")
    records = [json.loads(line) for line in (run / "monitor.jsonl").read_text().splitlines()]
    assert {r["job"] for r in records} == {"train", "encode"}
    for record in records:
        for key in ("vram_used_mb", "vram_total_mb", "vram_backend_mb", "vram_backend_peak_mb", "vram_peak_since"):
            assert key in record and record[key] is None, key
    status = cli("status", "--run", run).stdout
    assert "GPU      n/a" in status and "VRAM n/a" in status
    assert "allocator  on demand" in cli("env").stdout


@pytest.mark.parametrize("preset", ["ae-case1", "ae-case2", "vae", "demo"])
def test_parameter_counts_from_the_spec_match_keras(preset):
    spec = load_spec(preset).model
    model = build_model(spec)
    trainable = lambda m: int(sum(np.prod(v.shape) for v in m.trainable_variables))  # noqa: E731
    assert count_params(spec) == (trainable(model.encoder), trainable(model.decoder))


def test_max_vram_refuses_up_front_with_the_estimate(tiny_store, tmp_path):
    need, parts = estimate_train_mb(load_spec("ae-case1").model, 128)
    assert 100 < need < 4000 and set(parts) >= {"weights, gradients, Adam moments", "activations and their gradients"}
    assert estimate_train_mb(load_spec("ae-case1").model, 256)[0] > need  # grows with the batch
    refused = cli(
        "train", "--data", tiny_store, "--run", tmp_path / "r", "--job", "demo", *TINY, "--max-vram", "1M", check=False
    )
    assert refused.returncode == 2 and "over --max-vram 1M" in refused.stderr and "lower --batch" in refused.stderr
    assert not (tmp_path / "r" / "checkpoints").exists() and "Traceback" not in refused.stderr
    cli(
        "train",
        "--data",
        tiny_store,
        "--run",
        tmp_path / "r",
        "--job",
        "demo",
        *TINY,
        "--epochs",
        "1",
        "--max-vram",
        "2G",
    )
    refused = cli("encode", "--run", tmp_path / "r", "--chunk", "64", "--batch", "16", "--max-vram", "10K", check=False)
    assert refused.returncode == 2 and "an encoder call of batch 16" in refused.stderr


@pytest.mark.system
def test_out_of_memory_in_a_step_keeps_the_checkpoint_and_exits_71(tiny_store, tmp_path):
    args = ["train", "--data", tiny_store, "--job", "demo", *TINY, "--epochs", "2", "--checkpoint-every", "3"]
    cli(*args, "--run", tmp_path / "whole")
    run = tmp_path / "run"
    # 10 steps an epoch, 4 per call: call 3 begins at step 8, after the checkpoint at step 8 is written
    failed = python(FAIL_TRAIN, *args, "--run", run, env={"FAIL_AT": "3"})
    assert failed.returncode == 71, failed.stderr[-2000:]
    assert "out of GPU memory in a training step of batch 16" in failed.stderr and "--batch 8" in failed.stderr
    assert "checkpoint at epoch 1, step 8 is kept" in failed.stderr and "Traceback" not in failed.stderr
    saved, _ = checkpoint.load(run / "checkpoints")
    assert (saved.meta["epoch"], saved.meta["step"]) == (0, 8)
    cli(*args, "--run", run)
    whole, _ = checkpoint.load(tmp_path / "whole" / "checkpoints")
    resumed, _ = checkpoint.load(run / "checkpoints")
    for a, b in zip(whole.model, resumed.model):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.system
def test_out_of_memory_in_encode_keeps_finished_chunks_and_exits_71(tiny_store, tmp_path):
    run = tmp_path / "run"
    cli("train", "--data", tiny_store, "--run", run, "--job", "demo", *TINY, "--epochs", "1")
    cli("encode", "--run", run, "--chunk", "64", "--batch", "16", "--out", tmp_path / "whole.zarr")
    failed = python(
        FAIL_ENCODE_CALL, "encode", "--run", run, "--chunk", "64", "--batch", "16", env={"FAIL_AT": "7"}
    )  # 4 calls a chunk, plus one to trace: fails in chunk 1
    assert failed.returncode == 71, failed.stderr[-2000:]
    assert "out of GPU memory encoding batches of 16" in failed.stderr and "Traceback" not in failed.stderr
    status = cli("status", "--run", run).stdout
    assert "encode   1 of 4 chunks done" in status
    cli("encode", "--run", run, "--chunk", "64", "--batch", "16")
    assert_identical(run / "latents.zarr", tmp_path / "whole.zarr")


def test_peak_rss_is_the_jobs_own_not_the_process_that_started_it():
    """ru_maxrss carries over fork and exec: a job started by a big process (a pytest worker, a
    notebook kernel) read that process's peak as its own. peak_rss_mb reads the job's own."""
    import subprocess
    import sys

    from latentkit.machine.monitor import peak_rss_mb

    held = bytearray(800 * 2**20)  # touched: 800 MB resident in this process
    assert peak_rss_mb() > 800
    code = (
        "import resource, json\nfrom latentkit.machine.monitor import peak_rss_mb\n"
        "print(json.dumps([peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))"
    )
    own, inherited = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    del held
    assert own < 300 < 800 < inherited  # the kernel's figure would have been this process's 800 MB
