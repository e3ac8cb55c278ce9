"""The demo's time budget and the studies' picture it must show (issue 17).

Runs ``latentkit demo`` as a user does (a fresh directory, the installed command, default
size), timing each stage from the lines it prints, then reads the run's findings and the
numbers behind them. Goal: about 7 minutes on 2 CPU cores (429 s measured), every finding holding.

    cd bench && python demo.py [--dir /tmp/demo-bench] [--compare]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/latentkit-demo-bench"))
    parser.add_argument("--compare", action="store_true", help="also time `demo --compare` (the AE-vs-VAE part)")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    command = [sys.executable, "-m", "latentkit", "demo", "--dir", str(args.dir)] + (
        ["--compare"] if args.compare else []
    )
    started, stages = time.perf_counter(), []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        for line in process.stdout:
            if line.startswith("["):
                stages.append((time.perf_counter() - started, line.split("]")[0] + "]"))
            sys.stdout.write(line)
    total = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"demo exited {process.returncode}")
    print(f"\n{'stage':16s} {'seconds':>8s}")
    for (t0, name), (t1, _) in zip(stages, stages[1:] + [(total, "")]):
        print(f"{name:16s} {t1 - t0:8.1f}")
    print(
        f"{'total':16s} {total:8.1f}   (goal: under 300 s on 2 cores{'; --compare adds the VAE' if args.compare else ''})"
    )
    run = args.dir / "run"
    findings = json.loads((run / "findings.json").read_text())["findings"]
    report = json.loads((run / "analysis" / "report.json").read_text())
    print(f"\nz_dim {report['dim']}, images {report['n']:,}")
    for f in findings:
        print(f"{f['verdict']:14s} {f['claim']}: {f['measured']}")
    print(f"\nfindings holding: {sum(f['holds'] is True for f in findings)} of {len(findings)}")


if __name__ == "__main__":
    main()
