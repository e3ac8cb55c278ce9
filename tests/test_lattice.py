"""The lattice command (issue 37): decoded images on a grid over a plane, and how far their re-encodings land."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image


def test_a_lattice_over_a_ring_decodes_to_far_re_encodings_in_its_hole():
    """A ring of radius 5; the stand-in model decodes to itself and encodes onto the ring: the
    lattice's middle (the hole) comes back ~5 away, the cells on the ring ~0."""
    from latentkit.analysis.lattice import plane_lattice, reencode_lattice

    rng = np.random.default_rng(19)
    angle = rng.uniform(0, 2 * np.pi, 3000)
    ring = np.c_[np.cos(angle), np.sin(angle)] * 5
    z = plane_lattice(ring.mean(axis=0), np.eye(2), ring.std(axis=0), n=9, span=1.414)
    assert z.shape == (81, 2) and np.allclose(z[40], ring.mean(axis=0))  # the middle cell: the centre
    images, distances = reencode_lattice(z, lambda v: v, lambda x: 5 * x / np.linalg.norm(x, axis=1, keepdims=True))
    grid = distances.reshape(9, 9)
    assert grid[4, 4] > 4.5 and np.median(distances) < grid[4, 4] / 2
    assert grid[0, 4] < 0.2  # the top middle cell lies on the ring (span 1.414 sd = 5)


def test_latentkit_lattice_on_a_run(tiny_ae, tmp_path):
    from fixtures.commands import cli
    from fixtures.runs import copy_run

    run = copy_run(tiny_ae, tmp_path / "run")
    result = cli("lattice", "--run", run, "--n", "5")
    assert "5x5 cells" in result.stdout
    found = json.loads((run / "analysis" / "lattice.json").read_text())
    assert len(found["distances"]) == 5 and found["data_median"] > 0
    with Image.open(run / "analysis" / "lattice.png") as image:
        assert image.size[0] > image.size[1] > 300
    wrong = cli("lattice", "--run", run, "--plane", "attributes:Smiling", check=False)
    assert wrong.returncode == 2 and "two attributes" in wrong.stderr
