"""How much output colab/bootstrap.ipynb leaves in a notebook: executed headless with its
defaults (ae-case1, 96 px, 10 epochs) on N synthetic faces, in a kernel environment that has
this environment's packages but not latentkit, installing the wheel built from this checkout
from a stand-in Drive folder (as tests/test_colab.py does). Prints each code cell's output
messages, text bytes and picture bytes, and the saved notebook's size.

    python bench/notebook_output.py --n 2048 --dir /tmp/notebook-output
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def kernel_environment(root: Path, name: str = "latentkit-bench") -> tuple[Path, Path]:
    """A venv lending this one's packages by symlinks, latentkit left out (the notebook's install
    is what runs), and a kernelspec ``name`` for it: (the JUPYTER_PATH folder, its python)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("latentkit", "__editable__")):
            (purelib / entry.name).symlink_to(entry)
    spec = root / "jupyter" / "kernels" / name
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": "python"}))
    return root / "jupyter", python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2048, help="synthetic faces (DATASET = 'synthetic:N')")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/latentkit-notebook-output"))
    args = parser.parse_args()
    root = args.dir
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", ROOT], check=True)
    jupyter, _ = kernel_environment(root)
    drive = root / "MyDrive" / "latentkit"
    drive.mkdir(parents=True)
    shutil.copy(next((root / "dist").glob("latentkit-*.whl")), drive)
    notebook = nbformat.read(ROOT / "colab" / "bootstrap.ipynb", as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    first.source = re.sub(r"^DATASET = .*?(  #)", f'DATASET = "synthetic:{args.n}"\\1', first.source, flags=re.M)
    os.environ.update(
        LATENTKIT_DRIVE=str(root / "MyDrive"), LATENTKIT_LOCAL=str(root / "content"), JUPYTER_PATH=str(jupyter)
    )
    began = time.perf_counter()
    nbclient.NotebookClient(
        notebook, timeout=3600, kernel_name="latentkit-bench", resources={"metadata": {"path": str(root)}}
    ).execute()
    print(f"executed in {time.perf_counter() - began:.0f} s ({args.n:,} synthetic faces, the notebook's defaults)")
    out = root / "executed.ipynb"
    nbformat.write(notebook, out)
    for i, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        text = sum(
            len(o.get("text", "")) + sum(len(str(v)) for k, v in o.get("data", {}).items() if k.startswith("text/"))
            for o in cell.outputs
        )
        pictures = sum(len(o.get("data", {}).get(k, "")) for o in cell.outputs for k in ("image/png", "image/jpeg"))
        print(
            f"cell {i}: {len(cell.outputs):3d} outputs, {text:7,d} B text, {pictures:9,d} B pictures  "
            f"| {cell.source.splitlines()[0][:56]}"
        )
    print(f"saved notebook: {out.stat().st_size:,} B ({out})")


if __name__ == "__main__":
    main()
