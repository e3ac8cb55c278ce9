"""Encode job: throughput against a direct in-memory call, and peak RSS flat in N.

    python bench/encode_memory.py [--chunk 4096] [--small-chunks 1] [--large-chunks 14] [--rounds 3] [--imported]

Same case-I encoder (ae-case1, z_dim 256; weights as initialised: speed and memory do not
depend on their values), same synthetic 96x96 images, batch 256. ``--imported``: the same
encoder and decoder saved as a user's encoder.keras + decoder.keras and brought in with
``import-model``: every side then runs the imported model.

1. Throughput, in one process, sides interleaved over rounds: the encode job on a store of
   2 chunks of --throughput-chunk vs ``predict_on_batch`` over the same images held as float32 in RAM (the direct
   call). Ratio job / direct (goal >= 0.9).
2. Peak RSS of the encode job (own subprocess each) at N = small and large chunk counts:
   ratio (goal <= 1.1, under 1.5 GB); RSS per chunk from monitor.jsonl: growth over the
   last 10 cycles after warm-up (goal <= 50 MB), the raw chunk 1 -> 10 change, and the slope.
3. The naive way (own subprocesses): every image as float32 in RAM, one ``model.predict``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from _common import child

THROUGHPUT = """
import json, time, shutil
import numpy as np
from latentkit.model.codec import load_model
from latentkit.model.encode import encode
from latentkit.store.layout import open_store
run, data, chunk, rounds = {run!r}, {data!r}, {chunk}, {rounds}
model = load_model(run)
x = open_store(data)["images"][:].astype(np.float32) / 255
def direct():
    model.encoder.predict_on_batch(x[:256])
    started = time.perf_counter()
    for i in range(0, len(x), 256):
        model.encoder.predict_on_batch(x[i : i + 256])
    return len(x) / (time.perf_counter() - started)
def job(r):
    out = run + f"/throughput{{r}}.zarr"
    before = len(open(run + "/monitor.jsonl").read().splitlines()) if __import__("os").path.exists(run + "/monitor.jsonl") else 0
    encode(run=run, data=data, chunk=chunk, batch=256, out=out)
    lines = [json.loads(l) for l in open(run + "/monitor.jsonl").read().splitlines()[before:]]
    return sum(l["rows"] for l in lines) / sum(l["rows"] / l["items_per_s"] for l in lines)
rates = {{"job": [], "direct": []}}
for r in range(rounds):
    rates["job"].append(job(r))
    rates["direct"].append(direct())
print(json.dumps(rates))
"""

PEAK = """
import json
from latentkit.model.encode import encode
from latentkit.machine.monitor import peak_rss_mb
encode(run={run!r}, data={data!r}, chunk={chunk}, batch=256, out={out!r})
print(json.dumps({{"peak_rss_mb": peak_rss_mb()}}))
"""

NAIVE = """
import json, time
import numpy as np
from latentkit.machine.monitor import peak_rss_mb
from latentkit.model.codec import load_model
from latentkit.store.layout import open_store
model = load_model({run!r})
x = open_store({data!r})["images"][:{n}].astype(np.float32) / 255
started = time.perf_counter()
model.encoder.predict(x, batch_size=256, verbose=0)
print(json.dumps({{"seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}}))
"""


def imported(tmp: Path, name: str) -> str:
    """The run's encoder and decoder saved as a user would (.keras files), imported into a new run."""
    from latentkit.model.codec import load_model
    from latentkit.model.import_model import import_model

    model = load_model(tmp / name)
    model.encoder.save(tmp / f"{name}-encoder.keras")
    model.decoder.save(tmp / f"{name}-decoder.keras")
    run = tmp / f"{name}-imported"
    import_model(sources=[tmp / f"{name}-encoder.keras", tmp / f"{name}-decoder.keras"], run=run)
    return str(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunk", type=int, default=4096)
    parser.add_argument("--small-chunks", type=int, default=1)
    parser.add_argument("--large-chunks", type=int, default=14)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--throughput-chunk",
        type=int,
        default=8192,
        help="chunk for the throughput side (2 chunks of it are encoded per round)",
    )
    parser.add_argument("--naive", type=int, nargs=2, default=(4096, 20480), help="two N for the naive way")
    parser.add_argument("--imported", action="store_true", help="the encoder as a user's model (import-model)")
    args = parser.parse_args()
    from latentkit.ingest.prepare import prepare_synthetic
    from latentkit.model.fitting import write_checkpoint
    from latentkit.model.networks import build_model
    from latentkit.model.spec import load_spec

    small, large = args.small_chunks * args.chunk, args.large_chunks * args.chunk
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        stores = {n: str(tmp / f"data{n}.zarr") for n in (small, large, 2 * args.throughput_chunk)}
        for n, path in stores.items():
            prepare_synthetic(out=path, n=n)
        spec = load_spec("ae-case1")
        runs = {}
        for name in ("throughput", "small", "large", "naive"):
            runs[name] = str(tmp / name)
            write_checkpoint(tmp / name, build_model(spec.model), spec, data=stores[large], epoch=1, step=0)
            if args.imported:
                runs[name] = imported(tmp, name)
        rates = child(
            THROUGHPUT.format(
                run=runs["throughput"],
                data=stores[2 * args.throughput_chunk],
                chunk=args.throughput_chunk,
                rounds=args.rounds,
            )
        )
        peaks = {
            n: child(PEAK.format(run=runs[name], data=stores[n], chunk=args.chunk, out=str(tmp / f"{name}.zarr")))
            for name, n in (("small", small), ("large", large))
        }
        cycles = [
            json.loads(line)["rss_mb"] for line in (Path(runs["large"]) / "monitor.jsonl").read_text().splitlines()
        ]
        naive = {n: child(NAIVE.format(run=runs["naive"], data=stores[large], n=n)) for n in args.naive}

    job, direct = np.median(rates["job"]), np.median(rates["direct"])
    print(
        f"case-I encoder (ae-case1{', imported' if args.imported else ''}), 96x96 synthetic images, "
        f"--chunk {args.chunk}, batch 256"
    )
    print(
        f"throughput ({args.rounds} interleaved rounds, {2 * args.throughput_chunk:,} images, "
        f"--chunk {args.throughput_chunk}):"
    )
    print(f"  encode job            {', '.join(f'{r:,.0f}' for r in rates['job'])} images/s (median {job:,.0f})")
    print(
        f"  direct predict_on_batch on float32 in RAM  {', '.join(f'{r:,.0f}' for r in rates['direct'])} "
        f"images/s (median {direct:,.0f})"
    )
    print(f"  ratio of medians job / direct  {job / direct:.2f}  (goal >= 0.9)")
    s, big = peaks[small]["peak_rss_mb"], peaks[large]["peak_rss_mb"]
    print(
        f"peak RSS: encode job N = {small:,}: {s:,.0f} MB, N = {large:,}: {big:,.0f} MB, ratio {big / s:.3f}"
        f"  (goal <= 1.1, under 1,536 MB)"
    )
    last = cycles[-11:]
    slope = np.polyfit(np.arange(len(last)), last, 1)[0] if len(last) > 1 else 0.0
    tenth = min(9, len(cycles) - 1)
    print(f"RSS per chunk (MB): {', '.join(f'{c:,.0f}' for c in cycles)}")
    print(
        f"  growth over the last {len(last) - 1} cycles (chunk {len(cycles) - len(last) + 1} -> {len(cycles)}): "
        f"{last[-1] - last[0]:+.0f} MB, slope {slope:+.1f} MB/chunk  (goal <= 50 MB); raw chunk 1 -> {tenth + 1} "
        f"incl. warm-up: {cycles[tenth] - cycles[0]:+.0f} MB"
    )
    (n1, n2) = args.naive
    a, b = naive[n1]["peak_rss_mb"], naive[n2]["peak_rss_mb"]
    print(
        f"naive: all float32 in RAM + one predict: N = {n1:,}: {a:,.0f} MB, N = {n2:,}: {b:,.0f} MB "
        f"({(b - a) * 1024 / (n2 - n1):,.0f} KB more per image), {n2 / naive[n2]['seconds']:,.0f} images/s"
    )


if __name__ == "__main__":
    main()
