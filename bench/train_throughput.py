"""Training throughput: the train job's step path against its compute limit, per preset and backend.

    python bench/train_throughput.py [--n 4096] [--jobs ae-case1 vae] [--backends tensorflow jax]
                                     [--rounds 5] [--whole-job] [--in-ram] [--set train.FIELD=VALUE]

One subprocess per preset and backend builds the model once, then alternates, round by round
(this machine's speed drifts by tens of percent within minutes, so the sides must share it):

* **job**: an epoch through ``latentkit.model.fitting.train_steps`` — exactly what the train job runs
  per epoch: a ``fit`` over the zarr store, uint8 batches read ahead on a thread and scaled in
  the compiled step, ``steps_per_execution`` steps per call, metrics read at the end;
* **limit**: the same compiled train function (same model, optimizer, ``steps_per_execution``)
  called back to back on one batch already on the device: no reading, no host-side data path,
  no callbacks, ending with one device sync. Nothing a data path can do beats it.

It prints each round's images/s, the median ratio of the rounds (goal ≥ 0.95 on a CPU, ≥ 0.9
on a GPU), and peak RSS and VRAM (NVML; n/a without a GPU). ``--whole-job`` also runs
``latentkit.model.train.train`` end to end in its own process (last epoch's images/s: adds per-epoch
checkpoints, reconstructions and history); ``--in-ram`` ``fit`` on float32 images in RAM.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _common import child

WHOLE_JOB = """
import json
from latentkit.machine.monitor import peak_rss_mb, vram_mb
from latentkit.model.train import train
result = train(data={data!r}, run={run!r}, job={job!r}, overrides={overrides!r})
print(json.dumps({{"images_per_s": result.history[-1]["images_per_s"], "peak_rss_mb": peak_rss_mb(),
                  "vram_used_mb": vram_mb()[0]}}))
"""

INTERLEAVED = """
import itertools, json, time
import keras, numpy as np
from latentkit.model.dataset import ZarrImageDataset
from latentkit.model.networks import build_model
from latentkit.machine.monitor import peak_rss_mb, vram_mb
from latentkit.model.spec import load_spec
from latentkit.model.fitting import train_steps
spec = load_spec({job!r}, {overrides!r})
dataset = ZarrImageDataset({data!r}, batch_size=spec.train.batch, seed=spec.train.seed, drop_remainder=True)
keras.utils.set_random_seed(spec.train.seed)
model = build_model(spec.model, lr=spec.train.lr, precision=spec.train.precision,
                    steps_per_execution=spec.train.steps_per_execution)
per_call = model.steps_per_execution
calls = len(dataset) // per_call
steps = calls * per_call  # both sides run the same whole calls
if calls < 1:
    raise SystemExit(f"{{len(dataset)}} whole batches of {{spec.train.batch}} in the train partition, fewer than one "
                     f"compiled call ({{per_call}} steps): use a larger --n")
x = keras.ops.convert_to_tensor(dataset.batch_uint8(0))  # on the device, once
model.make_train_function()
if keras.backend.backend() == "tensorflow":
    import tensorflow as tf
    batches = iter(tf.data.Dataset.from_tensors((x,)).repeat())
    def limit(n):
        for _ in range(n):
            logs = model.train_function(batches)
        return float(logs["loss"])  # waits for the device
elif keras.backend.backend() == "jax":
    import sys
    sys.path.insert(0, {bench!r})
    from _common import jax_train_limit
    def limit(n):
        return jax_train_limit(model, x, n)
else:
    raise SystemExit("limit side: tensorflow or jax backend")
def job():
    dataset.set_epoch(0)
    train_steps(model, dataset, 0, steps)
warm = min(2, calls)  # calls, within the epoch: a short store has fewer than two
train_steps(model, dataset, 0, warm * per_call); limit(warm)  # trace and warm up both paths
rounds = []
for _ in range({rounds}):
    began = time.perf_counter(); job(); job_s = time.perf_counter() - began
    began = time.perf_counter(); limit(calls); limit_s = time.perf_counter() - began
    rounds.append((steps * spec.train.batch / job_s, steps * spec.train.batch / limit_s))
print(json.dumps({{"rounds": rounds, "peak_rss_mb": peak_rss_mb(), "vram_used_mb": vram_mb()[0], "steps": steps}}))
"""

IN_RAM = """
import json, time
import keras, numpy as np
from latentkit.store.reading import select_rows, to_unit_float
from latentkit.model.networks import build_model
from latentkit.machine.monitor import peak_rss_mb
from latentkit.model.spec import load_spec
from latentkit.store.layout import open_store
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
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (job epoch, then limit)")
    parser.add_argument("--batch", type=int, default=None, help="override the presets' batch (128)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="more spec overrides, e.g. train.precision=mixed_bfloat16",
    )
    parser.add_argument("--whole-job", action="store_true", help="also run the train job end to end (2 epochs)")
    parser.add_argument("--in-ram", action="store_true", help="also fit on float32 images in RAM (TensorFlow)")
    args = parser.parse_args()
    from latentkit.ingest.prepare import prepare_synthetic
    from latentkit.model.spec import load_spec, parse_set

    overrides = {**parse_set(args.set), **({"train.batch": args.batch} if args.batch else {})}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        stores: dict[int, str] = {}  # one store per image size the presets take (demo: 64 px, the studies: 96)
        for job in args.jobs:
            size = load_spec(job, overrides).model.image_size
            if size not in stores:
                stores[size] = str(Path(tmp) / f"data{size}.zarr")
                prepare_synthetic(out=stores[size], n=args.n, size=size)
            data = stores[size]
            for backend in args.backends:
                env = {"KERAS_BACKEND": backend}
                result = child(
                    INTERLEAVED.format(
                        data=data,
                        job=job,
                        overrides=overrides,
                        rounds=args.rounds,
                        bench=str(Path(__file__).resolve().parent),
                    ),
                    env=env,
                )
                ratios = [j / lim for j, lim in result["rounds"]]
                vram = result["vram_used_mb"]
                print(f"{job}, {backend}, {result['steps']} steps a round:")
                print("  job    " + ", ".join(f"{j:7.1f}" for j, _ in result["rounds"]) + " images/s")
                print("  limit  " + ", ".join(f"{lim:7.1f}" for _, lim in result["rounds"]) + " images/s")
                print(
                    "  ratio  " + ", ".join(f"{r:7.3f}" for r in ratios) + f"   median {statistics.median(ratios):.3f}"
                    f"   peak RSS {result['peak_rss_mb']:,.0f} MB   VRAM "
                    + ("n/a" if vram is None else f"{vram:,.0f} MB")
                )
                extra = {}
                if args.whole_job:
                    run = str(Path(tmp) / f"run-{job}-{backend}")
                    extra["whole"] = child(
                        WHOLE_JOB.format(data=data, run=run, job=job, overrides={**overrides, "train.epochs": 2}),
                        env=env,
                    )
                    print(f"  whole train job, last of 2 epochs: {extra['whole']['images_per_s']:.1f} images/s")
                if args.in_ram and backend == "tensorflow":
                    extra["in_ram"] = child(
                        IN_RAM.format(data=data, job=job, overrides={**overrides, "train.epochs": 2}), env=env
                    )
                    print(f"  fit on float32 in RAM: {extra['in_ram']['images_per_s']:.1f} images/s")
                rows.append(
                    (
                        job,
                        backend,
                        statistics.median(j for j, _ in result["rounds"]),
                        statistics.median(lim for _, lim in result["rounds"]),
                        statistics.median(ratios),
                    )
                )
                print(flush=True)
    print(
        f"{args.n} synthetic images, batch {overrides.get('train.batch', 'of the preset')}, {args.rounds} rounds, medians:"
    )
    print("| preset | backend | job images/s | limit images/s | job ÷ limit |\n| --- | --- | --- | --- | --- |")
    for job, backend, a, b, ratio in rows:
        print(f"| {job} | {backend} | {a:,.1f} | {b:,.1f} | **{ratio:.3f}** |")


if __name__ == "__main__":
    main()
