"""Data-parallel scaling of the train job (JAX backend): images/s on 1, 2, 4 devices and 2 processes.

    python bench/parallel_scaling.py [--n 2048] [--job demo] [--epochs 2] [--host-devices 1 2 4]

Without a GPU the devices are the CPU split by ``XLA_FLAGS=--xla_force_host_platform_device_count``
and the processes talk over gloo on localhost: on a 2-core machine this measures what data
parallelism costs (collectives, sharded input), not a speed-up. On a GPU node run it with
``--host-devices`` left out and ``--gpus 1 2 4 8``. Images/s are the last epoch's, global batch
fixed (the preset's).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

TRAIN = """
import json
from latentkit.model.train import train
result = train(data={data!r}, run={run!r}, job={job!r}, overrides={{"train.epochs": {epochs}}}, devices={devices!r})
print(json.dumps({{"images_per_s": result.history[-1]["images_per_s"]}}))
"""


def run(code: str, env: dict[str, str], processes: int = 1) -> float:
    """Images/s of process 0 of ``processes`` started together (Keras' distribution variables)."""
    port = None
    if processes > 1:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    children = []
    for i in range(processes):
        extra = (
            {}
            if port is None
            else {
                "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
                "KERAS_DISTRIBUTION_NUM_PROCESSES": str(processes),
                "KERAS_DISTRIBUTION_PROCESS_ID": str(i),
            }
        )
        children.append(
            subprocess.Popen(
                [sys.executable, "-c", code],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, **env, **extra},
            )
        )
    outputs = [c.communicate() for c in children]
    if any(c.returncode for c in children):
        raise SystemExit("\n".join(err[-2000:] for _, err in outputs))
    return json.loads(outputs[0][0].strip().splitlines()[-1])["images_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2048)
    parser.add_argument("--job", default="demo")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--host-devices", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--gpus", type=int, nargs="*", default=[], help="device counts on a GPU machine")
    parser.add_argument("--processes", type=int, default=2, help="also this many processes of one device (0: skip)")
    args = parser.parse_args()
    from latentkit.ingest.prepare import prepare_synthetic

    base = {"KERAS_BACKEND": "jax"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "data.zarr")
        prepare_synthetic(out=data, n=args.n)

        def code(name: str, devices) -> str:
            return TRAIN.format(data=data, run=str(Path(tmp) / name), job=args.job, epochs=args.epochs, devices=devices)

        for count in args.host_devices:
            env = {**base, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": f"--xla_force_host_platform_device_count={count}"}
            rows.append((f"1 process, {count} CPU device(s)", run(code(f"host{count}", "all"), env)))
            print(rows[-1], flush=True)
        for count in args.gpus:
            rows.append((f"1 process, {count} GPU(s)", run(code(f"gpu{count}", count), base)))
            print(rows[-1], flush=True)
        if args.processes > 1:
            env = {**base, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
            rows.append(
                (
                    f"{args.processes} processes (gloo), 1 CPU device each",
                    run(code("procs", "all"), env, processes=args.processes),
                )
            )
            print(rows[-1], flush=True)
    first = rows[0][1]
    print(f"\n{args.job}, {args.n} synthetic images, last of {args.epochs} epochs, JAX backend:")
    print("| setting | images/s | ÷ first row |\n| --- | --- | --- |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.1f} | {rate / first:.2f} |")


if __name__ == "__main__":
    main()
