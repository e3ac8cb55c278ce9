"""Build the wheelhouse the GPU check installs from (issue 30), and check it can be installed.

    python bench/gpu/wheelhouse.py [--out bench/gpu/wheelhouse] [--check-only]

The GPU machine has Python 3.12 with JAX (CUDA), PyTorch, numpy, scipy, scikit-learn, pillow,
matplotlib, rich, typer, psutil, nvidia-ml-py, h5py and ml-dtypes (``MACHINE_HAS``, with what
they depend on), no network, and takes at most 64 MiB with the working tree. This builds
latentkit's wheel here and downloads, for CPython 3.12 on manylinux x86-64 with binary wheels
only, every other package latentkit needs on the JAX backend (TensorFlow is not needed there)
with all their dependencies, then drops what the machine has. ``--check-only`` checks an
existing folder. The checks: every wheel's tags fit CPython 3.12 on manylinux x86-64; the whole
is under the budget; every requirement of every wheel (markers evaluated for 3.12 on Linux)
is met by the folder or the machine; and, where a Python 3.12 is found here, the folder installs
into a fresh target with ``pip --no-index``. The folder is ignored by git and travels with a
device run (``carry``).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUDGET_MB = 60  # the working tree (~1 MB) and this folder together must stay under 64 MiB
NOT_ON_JAX = {"tensorflow"}  # latentkit's requirements the JAX backend does not use
MACHINE_HAS = {  # the GPU machine's packages and what they bring along (normalised names)
    "jax",
    "jaxlib",
    "jax-cuda13-plugin",
    "jax-cuda13-pjrt",
    "jax-cuda12-plugin",
    "jax-cuda12-pjrt",
    "torch",
    "numpy",
    "scipy",
    "scikit-learn",
    "pillow",
    "matplotlib",
    "rich",
    "typer",
    "psutil",
    "nvidia-ml-py",
    "h5py",
    "ml-dtypes",
    "opt-einsum",
    "joblib",
    "threadpoolctl",
    "contourpy",
    "cycler",
    "fonttools",
    "kiwisolver",
    "packaging",
    "pyparsing",
    "python-dateutil",
    "six",
    "markdown-it-py",
    "mdurl",
    "pygments",
    "click",
    "shellingham",
    "typing-extensions",
    "filelock",
    "networkx",
    "sympy",
    "mpmath",
    "fsspec",
    "setuptools",
    "pip",
    "wheel",
}  # (jinja2 comes with PyTorch, but bokeh needs it: it is brought, so a machine without torch works too)
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "linux_x86_64")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def latentkit_requirements() -> list[str]:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [r for r in data["project"]["dependencies"] if normalise(re.split(r"[<>=!~ \[;]", r)[0]) not in NOT_ON_JAX]


def build(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)], check=True
    )
    with tempfile.TemporaryDirectory() as everything:
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--only-binary=:all:",
                "--python-version",
                "3.12",
                "--implementation",
                "cp",
                *platforms,
                "-d",
                everything,
                *latentkit_requirements(),
            ],
            check=True,
        )
        for wheel in glob.glob(os.path.join(everything, "*.whl")):
            if normalise(Path(wheel).name.split("-")[0]) not in MACHINE_HAS:
                shutil.copy(wheel, out)


def wheel_tags(name: str) -> tuple[str, str, str]:
    python, abi, platform = name[:-4].split("-")[-3:]
    return python, abi, platform


def fits_cpython312(python: str, abi: str) -> bool:
    """cp312-cp312, py3-none, or the stable ABI of an older CPython (cp310-abi3 runs on 3.12)."""
    pythons, abis = set(python.split(".")), set(abi.split("."))
    if "abi3" in abis:
        return any(p.startswith("cp3") and int(p[3:]) <= 12 for p in pythons)
    return bool(pythons & {"cp312", "py3", "py2.py3"} and abis & {"cp312", "none"})


def requirements_of(wheel: Path) -> tuple[str, list[str]]:
    """(name, requirements without extras) from a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(meta).decode("utf-8"))
    return message["Name"], message.get_all("Requires-Dist") or []


def applies(requirement: str) -> bool:
    """Whether a Requires-Dist line applies on CPython 3.12 on Linux without extras."""
    _, _, marker = requirement.partition(";")
    if not marker.strip():
        return True
    if "extra" in marker:
        return False
    from packaging.markers import Marker

    return Marker(marker).evaluate(
        {
            "python_version": "3.12",
            "python_full_version": "3.12.1",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": "x86_64",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "os_name": "posix",
            "extra": "",
        }
    )


def check(folder: Path) -> list[str]:
    """Everything wrong with the folder, one line each (empty: fine)."""
    problems = []
    wheels = sorted(folder.glob("*.whl"))
    if not any(w.name.startswith("latentkit-") for w in wheels):
        problems.append("no latentkit wheel")
    size = sum(w.stat().st_size for w in wheels) / 2**20
    if size > BUDGET_MB:
        problems.append(f"{size:.1f} MB of wheels, over the {BUDGET_MB} MB budget")
    present = set()
    for wheel in wheels:
        python, abi, platform = wheel_tags(wheel.name)
        if not fits_cpython312(python, abi):
            problems.append(f"{wheel.name}: not for CPython 3.12 ({python}-{abi})")
        if platform != "any" and not all(
            p.endswith("x86_64") and p.startswith("manylinux") for p in platform.split(".")
        ):
            problems.append(f"{wheel.name}: not a manylinux x86-64 wheel ({platform})")
        name, _ = requirements_of(wheel)
        present.add(normalise(name))
    for wheel in wheels:
        name, requirements = requirements_of(wheel)
        for requirement in filter(applies, requirements):
            needed = normalise(re.split(r"[<>=!~ \[;(]", requirement.strip())[0])
            if (
                needed not in present
                and needed not in MACHINE_HAS
                and not (normalise(name) == "latentkit" and needed in NOT_ON_JAX)
            ):
                problems.append(f"{name} needs {requirement.strip()}: neither in the folder nor on the machine")
    return problems


def python312() -> str | None:
    """A working Python 3.12 here (on PATH, or pyenv's), or None."""
    candidates = [shutil.which("python3.12"), *glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12"))]
    for candidate in filter(None, candidates):
        done = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        if done.returncode == 0 and done.stdout.strip() == "(3, 12)":
            return candidate
    return None


def try_install(folder: Path) -> str:
    """Install the folder into a fresh target with a Python 3.12, no index: what the GPU run does."""
    python = python312()
    if python is None:
        return "no Python 3.12 here: the wheels' tags and requirements were checked instead"
    with tempfile.TemporaryDirectory() as target:
        done = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--no-index",
                "--no-deps",
                "--quiet",
                "--target",
                target,
                *map(str, sorted(folder.glob("*.whl"))),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"pip install --no-index with {python} failed:\n{done.stderr[-2000:]}")
        count = len([p for p in Path(target).iterdir() if p.name.endswith(".dist-info")])
    return f"installed {count} distributions with {python} --no-index into a fresh target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "wheelhouse")
    parser.add_argument("--check-only", action="store_true")
    args = parser.parse_args()
    if not args.check_only:
        build(args.out)
    problems = check(args.out)
    wheels = sorted(args.out.glob("*.whl"))
    print(
        f"{len(wheels)} wheels, {sum(w.stat().st_size for w in wheels) / 2**20:.1f} MB: "
        + ", ".join(w.name.split("-")[0] for w in wheels)
    )
    if problems:
        raise SystemExit("\n".join(problems))
    print(try_install(args.out))


if __name__ == "__main__":
    main()
