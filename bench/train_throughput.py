"""Training throughput: the train job against its compute limit, per preset and Keras backend.

    python bench/train_throughput.py [--n 4096] [--jobs ae-case1 vae] [--backends tensorflow jax]
                                     [--epochs 2] [--rounds 2] [--in-ram]

Sides, interleaved over rounds, each in its own subprocess (own backend, own peak RSS):

* **job**: ``latentkit.train.train`` streaming the store (uint8 batches read ahead on a
  thread, one ``fit`` per stretch between checkpoints); images/s of its last epoch, after tracing.
* **limit**: the same compiled train function (same model, optimizer, ``steps_per_execution``)
  called back to back on one batch already on the device: no reading, no host-side data
  path, no callbacks; timed over as many steps as the job's epoch, after warm-up, ending with
  a device sync. Nothing a data path can do beats it.
* **in RAM** (``--in-ram``, TensorFlow only): ``fit`` on the same images as a float32 array.

Prints images/s per round, best job ÷ best limit (goal ≥ 0.95 on a CPU, ≥ 0.9 on a GPU), peak
RSS, and with a GPU the VRAM NVML reports (n/a without one).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import child

JOB = """
import json
from latentkit.monitor import peak_rss_mb, vram_mb
from latentkit.train import train
result = train(data={data!r}, run={run!r}, job={job!r}, overrides={overrides!r})
print(json.dumps({{"images_per_s": result.history[-1]["images_per_s"], "peak_rss_mb": peak_rss_mb(),
                  "vram_used_mb": vram_mb()[0]}}))
"""

LIMIT = """
import itertools, json, time
import keras, numpy as np
from latentkit.data import ZarrImageDataset
from latentkit.models import build_model
from latentkit.monitor import peak_rss_mb, vram_mb
from latentkit.spec import load_spec
spec = load_spec({job!r}, {overrides!r})
dataset = ZarrImageDataset({data!r}, batch_size=spec.train.batch, seed=spec.train.seed, drop_remainder=True)
steps = len(dataset)
keras.utils.set_random_seed(spec.train.seed)
model = build_model(spec.model, lr=spec.train.lr, precision=spec.train.precision,
                    steps_per_execution=spec.train.steps_per_execution)
calls = -(-steps // model.steps_per_execution)
x = keras.ops.convert_to_tensor(dataset.batch_uint8(0))  # on the device, once
model.make_train_function()
if keras.backend.backend() == "tensorflow":
    import tensorflow as tf
    batches = iter(tf.data.Dataset.from_tensors((x,)).repeat())
    def run(n):
        for _ in range(n):
            logs = model.train_function(batches)
        return float(logs["loss"])  # waits for the device
elif keras.backend.backend() == "jax":
    import jax
    state = model._get_jax_state(trainable_variables=True, non_trainable_variables=True, optimizer_variables=True,
                                 metrics_variables=True, purge_model_variables=True)
    batches = itertools.repeat((x,))
    def run(n):
        global state
        for _ in range(n):
            logs, state = model.train_function(state, batches)
        return float(jax.block_until_ready(logs)["loss"])
else:
    raise SystemExit("limit side: tensorflow or jax backend")
run(max(2, calls // 4))  # trace and warm up
start = time.perf_counter()
loss = run(calls)
seconds = time.perf_counter() - start
print(json.dumps({{"images_per_s": calls * model.steps_per_execution * spec.train.batch / seconds,
                  "peak_rss_mb": peak_rss_mb(), "vram_used_mb": vram_mb()[0], "loss": loss}}))
"""

IN_RAM = """
import json, time
import keras, numpy as np
from latentkit.reading import select_rows, to_unit_float
from latentkit.models import build_model
from latentkit.monitor import peak_rss_mb
from latentkit.spec import load_spec
from latentkit.store import open_store
spec = load_spec({job!r}, {overrides!r})
group = open_store({data!r})
x = to_unit_float(group["images"].get_orthogonal_selection((select_rows(group, "train"),)))
keras.utils.set_random_seed(spec.train.seed)
model = build_model(spec.model, lr=spec.train.lr)
steps = len(x) // spec.train.batch
x = x[: steps * spec.train.batch]
class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None): self.seconds = time.perf_counter() - self.start
timer = Timer()
model.fit(x, x, batch_size=spec.train.batch, epochs=spec.train.epochs, shuffle=True, callbacks=[timer], verbose=0)
print(json.dumps({{"images_per_s": steps * spec.train.batch / timer.seconds, "peak_rss_mb": peak_rss_mb(),
                  "vram_used_mb": None}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4096, help="synthetic images in the store (80%% train)")
    parser.add_argument("--jobs", nargs="+", default=["ae-case1", "vae"])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--epochs", type=int, default=2, help="job side: images/s of the last epoch")
    parser.add_argument("--batch", type=int, default=None, help="override the presets' batch (128)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; best of each side is shown")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="more spec overrides, e.g. train.precision=mixed_bfloat16")  # fmt: skip
    parser.add_argument("--in-ram", action="store_true", help="also fit on float32 images in RAM (TensorFlow)")
    args = parser.parse_args()
    from latentkit.prepare import prepare_synthetic
    from latentkit.spec import parse_set

    overrides = {"train.epochs": args.epochs, **parse_set(args.set)}
    if args.batch:
        overrides["train.batch"] = args.batch
    sides = {"job": JOB, "limit": LIMIT} | ({"in RAM": IN_RAM} if args.in_ram else {})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "data.zarr")
        prepare_synthetic(out=data, n=args.n)
        for job in args.jobs:
            for backend in args.backends:
                results: dict[str, list[dict]] = {side: [] for side in sides}
                for round_ in range(args.rounds):  # interleaved: drift in machine load hits every side
                    for side, code in sides.items():
                        if side == "in RAM" and backend != "tensorflow":
                            continue
                        run = str(Path(tmp) / f"run-{job}-{backend}-{round_}")
                        results[side].append(child(code.format(data=data, run=run, job=job, overrides=overrides),
                                                   env={"KERAS_BACKEND": backend}))  # fmt: skip
                best = {side: max(r, key=lambda x: x["images_per_s"]) for side, r in results.items() if r}
                print(f"{job}, {backend}:")
                for side, r in results.items():
                    if r:
                        vram = best[side]["vram_used_mb"]
                        print(f"  {side:7s} " + ", ".join(f"{x['images_per_s']:7.1f}" for x in r) + " images/s"
                              f"   peak RSS {best[side]['peak_rss_mb']:,.0f} MB   VRAM "
                              + ("n/a" if vram is None else f"{vram:,.0f} MB"))  # fmt: skip
                ratio = best["job"]["images_per_s"] / best["limit"]["images_per_s"]
                print(f"  job / limit {ratio:.3f}", flush=True)
                rows.append((job, backend, best["job"]["images_per_s"], best["limit"]["images_per_s"], ratio))
    print(f"\n{args.n} synthetic images, batch {overrides.get('train.batch', 'preset')}, best of {args.rounds} rounds:")
    print("| preset | backend | job images/s | limit images/s | job ÷ limit |\n| --- | --- | --- | --- | --- |")
    for job, backend, a, b, ratio in rows:
        print(f"| {job} | {backend} | {a:,.1f} | {b:,.1f} | **{ratio:.3f}** |")


if __name__ == "__main__":
    main()
