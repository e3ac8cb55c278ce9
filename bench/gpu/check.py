"""Every GPU figure latentkit needs, in one run (issue 30): the GPU check.

    python bench/gpu/check.py --out OUT [--wheelhouse bench/gpu/wheelhouse] [--budget 470]
    python bench/gpu/check.py --out OUT --cpu          # the same steps, small, on this CPU (a test)

Made for a machine lent for minutes: an NVIDIA GPU with Python 3.12 and JAX but no
TensorFlow, Keras, zarr or numcodecs, and no network. ``--wheelhouse``: the folder
``bench/gpu/wheelhouse.py`` builds here (latentkit's wheel and the cp312 manylinux wheels the
machine lacks); they are installed with ``pip --no-index`` into ``OUT/site`` first. Every step
runs in a process of its own on ``KERAS_BACKEND=jax`` with its own timeout, inside the whole
``--budget``; after each one OUT/gpu.json and OUT/gpu.md are rewritten, so the figures taken
so far are kept whatever happens next. Steps:

1. ``install``: the wheels, with no index (skipped without ``--wheelhouse``).
2. ``env``: ``latentkit env --json`` (GPU, VRAM, versions, what fits).
3. ``prepare``: a synthetic store of ``--images`` faces (200,000 at 96x96 on the GPU), timed.
4. ``train``: ae-case1 and vae (``--cpu``: demo) at batch 128 and 512, float32 and mixed_bfloat16: the train job's
   epoch (``fitting.train_steps`` over the store) against the compute limit (the same compiled
   step back to back on one batch on the device), interleaved rounds; with the backend's VRAM
   peak, NVML's reading and ``--max-vram``'s estimate for each.
5. ``encode``: the encode job at batch 256 and 1024, ``--chunk 20000``, against a direct
   ``predict_on_batch`` loop over images in RAM; the backend's peak beside the estimate.
6. ``oom``: out of GPU memory on purpose: a resumed train run whose allocator is capped far
   below one step (exit 71, the checkpoint byte-identical), and encode at a batch far beyond
   the card (exit 71, finished chunks kept). Skipped with ``--cpu`` (a CPU's out-of-memory is
   the kernel's OOM killer, not exit 71).
7. ``devices``: ``train --devices 1`` against no ``--devices``: the same weights.
8. ``demo``: ``latentkit demo``, timed.

Goals (BENCHMARKS.md): train job / limit >= 0.9 at batch 512; encode job / direct >= 0.9;
the ``--max-vram`` estimate within 25 % of the backend's measured peak.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# sizes: (GPU, --cpu)
SIZES = {
    "images": (200_000, 512),
    "train_images": (16_384, 256),
    "chunk": (20_000, 256),
    "train_batches": ((128, 512), (32,)),
    "encode_batches": ((256, 1024), (64, 128)),
    "rounds": (3, 1),
    "jobs": (("ae-case1", "vae"), ("demo",)),
    "small_size": (96, 64),  # the training store's image size: ae-case1's and vae's, or demo's
    "demo": ((), ("--n", "256", "--epochs", "1")),
}

TRAIN = """
import gc, itertools, json, sys, time
import jax, keras, numpy as np
sys.path.insert(0, {bench!r})
from _common import jax_train_limit  # the limit side, as bench/train_throughput.py measures it
from latentkit.machine.allocators import backend_memory
from latentkit.machine.monitor import peak_rss_mb, vram_mb
from latentkit.model.dataset import ZarrImageDataset
from latentkit.model.fitting import train_steps
from latentkit.model.memory import estimate_train_mb
from latentkit.model.networks import build_model
from latentkit.model.spec import load_spec
out = []
for job, batch, precision in itertools.product({jobs!r}, {batches!r}, ("float32", "mixed_bfloat16")):
    spec = load_spec(job, {{"train.batch": batch, "train.precision": precision}})
    dataset = ZarrImageDataset({data!r}, batch_size=batch, seed=0, drop_remainder=True)
    keras.utils.set_random_seed(0)
    model = build_model(spec.model, lr=spec.train.lr, precision=precision,
                        steps_per_execution=spec.train.steps_per_execution)
    per_call = model.steps_per_execution
    calls = len(dataset) // per_call
    if calls < 1:
        raise SystemExit(f"{{len(dataset)}} batches: fewer than one call of {{per_call}} steps")
    steps = calls * per_call
    x = keras.ops.convert_to_tensor(dataset.batch_uint8(0))
    model.make_train_function()
    def limit(n):
        return jax_train_limit(model, x, n)
    def epoch():
        dataset.set_epoch(0)
        train_steps(model, dataset, 0, steps)
    train_steps(model, dataset, 0, min(2, calls) * per_call); limit(min(2, calls))
    backend_memory(reset_peak=True)
    rounds = []
    for _ in range({rounds}):
        began = time.perf_counter(); epoch(); job_s = time.perf_counter() - began
        began = time.perf_counter(); limit(calls); limit_s = time.perf_counter() - began
        rounds.append([steps * batch / job_s, steps * batch / limit_s])
    memory = backend_memory(reset_peak=True)
    estimate = estimate_train_mb(spec.model, batch)[0]
    out.append({{"job": job, "batch": batch, "precision": precision, "rounds": rounds,
                "ratio": float(np.median([j / l for j, l in rounds])), "steps": steps,
                "vram_backend_peak_mb": memory["vram_backend_peak_mb"], "vram_nvml_mb": vram_mb()[0],
                "estimate_mb": estimate}})
    del model, dataset, x
    keras.backend.clear_session(); gc.collect()
print(json.dumps({{"combos": out, "peak_rss_mb": peak_rss_mb(), "devices": [str(d) for d in jax.devices()]}}))
"""

ENCODE = """
import json, time
import numpy as np
from latentkit.machine.allocators import backend_memory
from latentkit.machine.monitor import peak_rss_mb, vram_mb
from latentkit.model.codec import load_model
from latentkit.model.runs import read_run
from latentkit.model.encode import encode
from latentkit.model.memory import estimate_encode_mb
from latentkit.model.spec import spec_from_dict
from latentkit.store.layout import open_store
run, data, chunk = {run!r}, {data!r}, {chunk}
described = read_run(run)
model = load_model(run, described)
images = open_store(data)["images"]
x = images[:chunk].astype(np.float32) / 255
out = []
for batch in {batches!r}:
    backend_memory(reset_peak=True)
    began = time.perf_counter()
    encode(run=run, data=data, chunk=chunk, batch=batch, out=run + f"/latents-b{{batch}}.zarr")
    job = images.shape[0] / (time.perf_counter() - began)
    job_peak = backend_memory(reset_peak=True)["vram_backend_peak_mb"]
    model.encoder.predict_on_batch(x[:batch])
    began = time.perf_counter()
    for i in range(0, len(x) - batch + 1, batch):
        model.encoder.predict_on_batch(x[i : i + batch])
    direct = (len(x) // batch * batch) / (time.perf_counter() - began)
    out.append({{"batch": batch, "job_images_per_s": job, "direct_images_per_s": direct, "ratio": job / direct,
                "vram_backend_peak_mb": job_peak, "vram_nvml_mb": vram_mb()[0],
                "estimate_mb": estimate_encode_mb(spec_from_dict(described.saved.meta["spec"]).model, batch)[0]}})
print(json.dumps({{"batches": out, "images": int(images.shape[0]), "chunk": chunk, "peak_rss_mb": peak_rss_mb()}}))
"""

CHECKPOINT = """
import json
from latentkit.ingest.prepare import prepare_synthetic
from latentkit.model.fitting import write_checkpoint
from latentkit.model.networks import build_model
from latentkit.model.spec import load_spec
spec = load_spec("ae-case1")
write_checkpoint({run!r}, build_model(spec.model), spec, data={data!r}, epoch=1, step=0)
print(json.dumps({{"ok": True}}))
"""

WEIGHTS_EQUAL = """
import json
import numpy as np
from latentkit.model import checkpoint
a, _ = checkpoint.load({a!r}); b, _ = checkpoint.load({b!r})
same = len(a.model) == len(b.model) and all(np.array_equal(x, y) for x, y in zip(a.model, b.model))
worst = max(float(np.max(np.abs(x - y))) for x, y in zip(a.model, b.model))
print(json.dumps({{"equal": bool(same), "max_abs_difference": worst, "variables": len(a.model)}}))
"""


class Check:
    """The steps, their results and the two files they are kept in."""

    def __init__(self, out: Path, budget: float, env: dict[str, str]):
        self.out, self.deadline, self.env = out, time.monotonic() + budget, env
        self.results: dict[str, dict] = {}
        out.mkdir(parents=True, exist_ok=True)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, name: str, timeout: float, action) -> dict | None:
        """Run one step within its timeout and what is left of the budget; keep its result."""
        began = time.monotonic()
        allowed = min(timeout, self.left())
        if allowed < 5:
            self.keep(name, {"status": "skipped", "why": "the budget is spent"}, 0.0)
            return None
        try:
            result = action(allowed)
            entry = {"status": "ok", "result": result}
        except subprocess.TimeoutExpired:
            entry = {"status": "timeout", "why": f"over {allowed:.0f} s"}
        except Skip as why:
            entry = {"status": "skipped", "why": str(why)}
        except Exception as error:
            entry = {"status": "failed", "why": f"{type(error).__name__}: {str(error)[-1500:]}"}
        self.keep(name, entry, time.monotonic() - began)
        return entry.get("result")

    def keep(self, name: str, entry: dict, seconds: float) -> None:
        self.results[name] = {**entry, "seconds": round(seconds, 1)}
        tmp = self.out / "gpu.json.tmp"
        tmp.write_text(json.dumps(self.results, indent=1))
        os.replace(tmp, self.out / "gpu.json")
        tmp = self.out / "gpu.md.tmp"
        tmp.write_text(markdown(self.results))
        os.replace(tmp, self.out / "gpu.md")
        print(
            f"[{name}] {entry['status']} in {seconds:.1f} s" + (f": {entry['why'][:300]}" if "why" in entry else ""),
            flush=True,
        )

    def python(self, code: str, timeout: float, env: dict | None = None) -> dict:
        # cwd: OUT, never the repository's root, whose source tree would shadow the installed wheel
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.env, **(env or {})},
            cwd=self.out,
        )
        if done.returncode:
            lines = [line for line in done.stderr.splitlines() if not line.startswith(NOISE)]
            raise RuntimeError(f"exit {done.returncode}: " + "\n".join(lines)[-1500:])
        return json.loads(done.stdout.strip().splitlines()[-1])

    def latentkit(self, *args: str, timeout: float, env: dict | None = None, check: bool = True):
        done = subprocess.run(
            [sys.executable, "-m", "latentkit", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.env, **(env or {})},
            cwd=self.out,
        )
        if check and done.returncode:
            raise RuntimeError(f"latentkit {' '.join(map(str, args))}: exit {done.returncode}: {done.stderr[-1500:]}")
        return done


NOISE = ("I0000", "W0000", "E0000", "WARNING: All log messages")  # absl's lines, when TensorFlow is installed too


class Skip(Exception):
    pass


def markdown(results: dict[str, dict]) -> str:
    """The figures as BENCHMARKS.md shows them."""
    lines = ["# GPU check", "", "| step | status | seconds |", "| --- | --- | --- |"]
    lines += [
        f"| {name} | {r['status']}{': ' + r['why'][:120] if 'why' in r else ''} | {r['seconds']} |"
        for name, r in results.items()
    ]
    env = results.get("env", {}).get("result")
    if env:
        lines += [
            "",
            f"GPU: {env.get('gpu') or 'none'} ({_mb(env.get('vram_total_mb'))} MB); Keras backend "
            f"{env.get('keras_backend')}; CPU {env.get('cpu')} x {env.get('cpus')}; versions {env.get('versions')}",
        ]
    prepared = results.get("prepare", {}).get("result")
    if prepared:
        lines += [
            "",
            f"prepare: {prepared['images']:,} synthetic faces in {prepared['seconds']:.1f} s "
            f"({prepared['images'] / prepared['seconds']:,.0f} images/s)",
        ]
    train = results.get("train", {}).get("result")
    if train:
        lines += [
            "",
            "| preset | batch | precision | job images/s | limit images/s | job ÷ limit | backend peak MB | "
            "NVML MB | --max-vram estimate MB | estimate ÷ peak |",
            "| --- " * 10 + "|",
        ]
        for c in train["combos"]:
            job = sorted(j for j, _ in c["rounds"])[len(c["rounds"]) // 2]
            lim = sorted(l for _, l in c["rounds"])[len(c["rounds"]) // 2]  # noqa: E741
            peak = c["vram_backend_peak_mb"]
            lines.append(
                f"| {c['job']} | {c['batch']} | {c['precision']} | {job:,.0f} | {lim:,.0f} | **{c['ratio']:.3f}** "
                f"| {_mb(peak)} | {_mb(c['vram_nvml_mb'])} | {c['estimate_mb']:,.0f} | "
                f"{c['estimate_mb'] / peak:.2f} |"
                if peak
                else f"| {c['job']} | {c['batch']} | {c['precision']} | {job:,.0f} | {lim:,.0f} | **{c['ratio']:.3f}** "
                f"| n/a | {_mb(c['vram_nvml_mb'])} | {c['estimate_mb']:,.0f} | n/a |"
            )
    encode = results.get("encode", {}).get("result")
    if encode:
        lines += [
            "",
            f"encode, {encode['images']:,} images, --chunk {encode['chunk']}:",
            "",
            "| batch | job images/s | direct images/s | job ÷ direct | backend peak MB | estimate MB |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {b['batch']} | {b['job_images_per_s']:,.0f} | {b['direct_images_per_s']:,.0f} | **{b['ratio']:.3f}** | "
            f"{_mb(b['vram_backend_peak_mb'])} | {b['estimate_mb']:,.0f} |"
            for b in encode["batches"]
        ]
    for name in ("oom", "devices", "demo"):
        result = results.get(name, {}).get("result")
        if result:
            lines += ["", f"{name}: " + json.dumps(result)]
    return "\n".join(lines) + "\n"


def _mb(value) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="where gpu.json, gpu.md and the work go")
    parser.add_argument("--cpu", action="store_true", help="small sizes on this machine's CPU (JAX): the test")
    parser.add_argument("--wheelhouse", type=Path, help="install these wheels first (no index), into OUT/site")
    parser.add_argument("--budget", type=float, default=470.0, help="seconds for every step together")
    parser.add_argument("--only", nargs="+", help="run only these steps")
    args = parser.parse_args()
    pick = 1 if args.cpu else 0
    size = {key: value[pick] for key, value in SIZES.items()}
    out = args.out.resolve()
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("LATENTKIT_THROTTLE_S", None)
    if args.cpu:
        env["JAX_PLATFORMS"] = "cpu"
    check = Check(out, args.budget, env)
    wanted = lambda name: not args.only or name in args.only  # noqa: E731
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data, small = work / "data.zarr", work / "small.zarr"

    def install(timeout: float) -> dict:
        if args.wheelhouse is None:
            raise Skip("no --wheelhouse: latentkit and its dependencies are taken as installed")
        site = out / "site"
        shutil.rmtree(site, ignore_errors=True)
        wheels = sorted(glob.glob(str(args.wheelhouse / "*.whl")))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--no-index",
                "--no-deps",
                "--target",
                str(site),
                "--quiet",
                *wheels,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(done.stderr[-1500:])
        env["PYTHONPATH"] = str(site) + os.pathsep + env.get("PYTHONPATH", "")
        return {"wheels": len(wheels), "site": str(site)}

    def environment(timeout: float) -> dict:
        found = json.loads(check.latentkit("env", "--json", "--dir", work, timeout=timeout).stdout)
        version = check.python("import json, latentkit; print(json.dumps({'latentkit': latentkit.__file__}))", timeout)
        return {**found, **version}

    def prepare(timeout: float) -> dict:
        began = time.perf_counter()
        check.latentkit("prepare", "synthetic", "--n", size["images"], "--size", "96", "--out", data, timeout=timeout)
        seconds = time.perf_counter() - began
        check.latentkit(
            "prepare",
            "synthetic",
            "--n",
            size["train_images"],
            "--size",
            size["small_size"],
            "--out",
            small,
            timeout=timeout,
        )
        return {"images": size["images"], "seconds": seconds}

    def train(timeout: float) -> dict:
        return check.python(
            TRAIN.format(
                jobs=list(size["jobs"]),
                batches=list(size["train_batches"]),
                data=str(small),
                rounds=size["rounds"],
                bench=str(HERE.parent),
            ),
            timeout,
        )

    def encode(timeout: float) -> dict:
        run = work / "encode-run"
        check.python(CHECKPOINT.format(run=str(run), data=str(data)), timeout)
        return check.python(
            ENCODE.format(run=str(run), data=str(data), chunk=size["chunk"], batches=list(size["encode_batches"])),
            timeout,
        )

    def oom(timeout: float) -> dict:
        if args.cpu:
            raise Skip("no GPU: out of memory on a CPU is the kernel's OOM killer, not exit 71")
        run = work / "oom-run"
        check.latentkit(
            "train", "--data", small, "--run", run, "--job", size["jobs"][0], "--epochs", "1", timeout=timeout
        )
        latest = run / "checkpoints" / "latest.npz"
        before = sha256(latest)
        capped = {
            "XLA_PYTHON_CLIENT_ALLOCATOR": "bfc",
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
            "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.0005",
        }
        trained = check.latentkit(
            "train", "--data", small, "--run", run, "--epochs", "2", timeout=timeout, env=capped, check=False
        )
        encode_run = work / "encode-run"
        encoded = check.latentkit(
            "encode",
            "--run",
            encode_run,
            "--data",
            data,
            "--chunk",
            size["chunk"],
            "--batch",
            "200000",
            "--out",
            work / "oom-latents.zarr",
            timeout=timeout,
            check=False,
        )
        return {
            "train_exit": trained.returncode,
            "train_checkpoint_kept": sha256(latest) == before,
            "train_line": [line for line in trained.stderr.splitlines() if line.startswith("latentkit")][-1:],
            "encode_exit": encoded.returncode,
            "encode_line": [line for line in encoded.stderr.splitlines() if line.startswith("latentkit")][-1:],
        }

    def devices(timeout: float) -> dict:
        runs = {name: work / f"devices-{name}" for name in ("default", "one")}
        job = size["jobs"][0]
        check.latentkit(
            "train", "--data", small, "--run", runs["default"], "--job", job, "--epochs", "1", timeout=timeout
        )
        check.latentkit(
            "train",
            "--data",
            small,
            "--run",
            runs["one"],
            "--job",
            job,
            "--epochs",
            "1",
            "--devices",
            "1",
            timeout=timeout,
        )
        return check.python(
            WEIGHTS_EQUAL.format(a=str(runs["default"] / "checkpoints"), b=str(runs["one"] / "checkpoints")), timeout
        )

    def demo(timeout: float) -> dict:
        began = time.perf_counter()
        check.latentkit("demo", "--dir", work / "demo", *size["demo"], timeout=timeout)
        rows = json.loads((work / "demo" / "run" / "findings.json").read_text())["findings"]
        return {
            "seconds": round(time.perf_counter() - began, 1),
            "findings": len(rows),
            "holding": sum(row["holds"] is True for row in rows),
        }

    steps = [
        ("install", 120, install),
        ("env", 60, environment),
        ("prepare", 120, prepare),
        ("train", 200, train),
        ("encode", 150, encode),
        ("oom", 120, oom),
        ("devices", 120, devices),
        ("demo", 400, demo),
    ]
    for name, timeout, action in steps:
        if wanted(name):
            check.run(name, timeout, action)
    print(f"figures: {out / 'gpu.md'}")


if __name__ == "__main__":
    main()
