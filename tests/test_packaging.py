"""latentkit as users install it: a wheel (not an editable checkout) in a fresh environment."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from fixtures.runs import TINY

pytestmark = pytest.mark.system  # pytest -m "not system" leaves these out (docs/contributing.md, "The fast tier")

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel built from this checkout.

    The wheel is installed without dependencies; TensorFlow and the rest are lent by the
    test environment through a .pth line (a second 600 MB TensorFlow install would prove
    nothing about latentkit). The checkout itself is not on that path: the editable
    install's hook is a .pth file, and .pth files are read only in site directories.
    """
    root = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", ROOT, cwd=root)
    wheel = next((root / "dist").glob("latentkit-*.whl"))
    venv = root / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=root)
    python = venv / "bin" / "python"
    purelib = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).stdout.strip()
    )
    (purelib / "latentkit_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--no-deps", "-q", wheel, cwd=root)
    return venv


def test_the_wheel_holds_the_presets_and_imports_from_the_venv(installed, tmp_path):
    python = installed / "bin" / "python"
    code = (
        "import latentkit, latentkit.model.spec as s; print(latentkit.__file__); "
        "print(sorted(s.presets())); print(s.load_spec('ae-case1').model.z_dim)"
    )
    lines = run(python, "-c", code, cwd=tmp_path).stdout.splitlines()
    assert Path(lines[0]).is_relative_to(installed), lines[0]  # not the checkout
    assert lines[1] == str(["ae-case1", "ae-case2", "demo", "vae", "vae-tiny-kl"])
    assert lines[2] == "256"
    licence = run(
        python,
        "-c",
        "import importlib.metadata as m; print(m.metadata('latentkit')['License-Expression'])",
        cwd=tmp_path,
    )
    assert licence.stdout.strip() == "Apache-2.0"
    shipped = [f for f in installed.glob("lib/python*/site-packages/latentkit-*.dist-info/licenses/LICENSE")]
    assert shipped and shipped[0].read_bytes() == (ROOT / "LICENSE").read_bytes()  # the text travels with the wheel


def test_version_and_presets_commands(installed, tmp_path):
    latentkit = installed / "bin" / "latentkit"
    from latentkit import __version__

    assert run(latentkit, "--version", cwd=tmp_path).stdout.strip() == f"latentkit {__version__}"
    listing = run(latentkit, "presets", cwd=tmp_path).stdout
    assert "ae-case1" in listing and "vae-tiny-kl" in listing
    assert run(latentkit, "presets", "vae", cwd=tmp_path).stdout == (ROOT / "jobs" / "vae.toml").read_text()
    plan = run(
        latentkit, "slurm", "submit", "--run", "r", "--data", "d.zarr", "--synthetic", "10", "--dry-run", cwd=tmp_path
    ).stdout  # the sbatch scripts ship inside the wheel
    script = plan.split()[-1].rstrip(")")
    assert (
        Path(script).is_relative_to(installed)
        and Path(script).read_text() == (ROOT / "slurm" / "analyze.sbatch").read_text()
    )
    manifest = Path(script).parent / "encode-indexed-job.yaml"  # the Kubernetes Indexed Job beside them
    assert manifest.read_text() == (ROOT / "slurm" / "encode-indexed-job.yaml").read_text()


def test_a_tiny_pipeline_runs_from_the_installed_wheel_outside_the_checkout(installed, tmp_path):
    """prepare and train from the wheel: every room imports, the preset ships, a run is written.
    (The demo itself runs in test_generate.py; a second one here would prove nothing more.)"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    latentkit = installed / "bin" / "latentkit"
    run(
        latentkit,
        "prepare",
        "synthetic",
        "--n",
        "64",
        "--size",
        "32",
        "--chunk",
        "32",
        "--out",
        tmp_path / "d.zarr",
        cwd=tmp_path,
        env=env,
    )
    result = run(
        latentkit,
        "train",
        "--data",
        tmp_path / "d.zarr",
        "--run",
        tmp_path / "run",
        "--job",
        "demo",
        *TINY,
        "--epochs",
        "1",
        cwd=tmp_path,
        env=env,
    )
    assert "trained epoch 1:" in result.stdout
    assert (tmp_path / "run" / "job.toml").read_text().startswith('name = "demo"')
    assert (tmp_path / "run" / "checkpoints" / "latest.npz").exists()
