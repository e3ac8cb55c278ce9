"""Training throughput: the train job streaming from zarr vs ``fit`` on the same images in RAM.

    python bench/train_throughput.py [--n 2048] [--job ae-case1] [--epochs 2]

Both sides, interleaved over rounds, train the same model on the same train-partition images (batch from the spec),
each in its own subprocess so peak RSS is its own; images/s is taken from the last epoch,
after tracing. Prints both rates, their ratio (goal >= 0.9) and both peak RSS values.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import child

STREAMED = """
import json
from latentkit.monitor import peak_rss_mb
from latentkit.train import train
result = train(data={data!r}, run={run!r}, job={job!r}, overrides={{"train.epochs": {epochs}}})
print(json.dumps({{"images_per_s": result.history[-1]["images_per_s"], "peak_rss_mb": peak_rss_mb()}}))
"""

IN_RAM = """
import json, time
import keras, numpy as np
from latentkit.reading import select_rows, to_unit_float
from latentkit.models import build_model
from latentkit.monitor import peak_rss_mb
from latentkit.spec import load_spec
from latentkit.store import open_store
spec = load_spec({job!r})
group = open_store({data!r})
rows = select_rows(group, "train")
x = to_unit_float(group["images"].get_orthogonal_selection((rows,)))
keras.utils.set_random_seed(spec.train.seed)
model = build_model(spec.model, lr=spec.train.lr)
class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): self.start, self.batches = time.perf_counter(), 0
    def on_train_batch_end(self, batch, logs=None): self.batches += 1
    def on_epoch_end(self, epoch, logs=None): self.seconds = time.perf_counter() - self.start
timer = Timer()
steps = len(x) // spec.train.batch
x = x[: steps * spec.train.batch]  # whole batches, as the train job (steps_per_epoch would run dry in epoch 2)
model.fit(x, x, batch_size=spec.train.batch, epochs={epochs}, shuffle=True,
          callbacks=[timer], verbose=0)
assert timer.batches == steps, (timer.batches, steps)  # every epoch really ran all its steps
print(json.dumps({{"images_per_s": steps * spec.train.batch / timer.seconds, "peak_rss_mb": peak_rss_mb()}}))
"""




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2048, help="synthetic images in the store")
    parser.add_argument("--job", default="ae-case1")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved A/B rounds; best of each side is shown")
    args = parser.parse_args()
    from latentkit.prepare import prepare_synthetic

    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "data.zarr")
        prepare_synthetic(out=data, n=args.n)
        results = {"streamed": [], "in_ram": []}
        for round_ in range(args.rounds):  # interleaved, so drift in machine load hits both sides
            run = str(Path(tmp) / f"run{round_}")
            results["streamed"].append(child(STREAMED.format(data=data, run=run, job=args.job, epochs=args.epochs)))
            results["in_ram"].append(child(IN_RAM.format(data=data, job=args.job, epochs=args.epochs)))
        streamed, in_ram = (max(results[k], key=lambda r: r["images_per_s"]) for k in ("streamed", "in_ram"))
        for key in results:
            print(f"  {key:9s} rounds: " + ", ".join(f"{r['images_per_s']:.1f}" for r in results[key]) + " images/s")
    print(f"{args.job}, {args.n} synthetic images, last of {args.epochs} epochs, best of {args.rounds} rounds:")
    print(f"  train job, streamed from zarr  {streamed['images_per_s']:8.1f} images/s  peak RSS {streamed['peak_rss_mb']:,.0f} MB")
    print(f"  fit on images held in RAM      {in_ram['images_per_s']:8.1f} images/s  peak RSS {in_ram['peak_rss_mb']:,.0f} MB")
    print(f"  ratio streamed / in RAM        {streamed['images_per_s'] / in_ram['images_per_s']:.2f}  (goal >= 0.9)")


if __name__ == "__main__":
    main()
