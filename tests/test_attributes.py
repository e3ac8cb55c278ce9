"""The attributes command (issue 13): a known direction and the probe's Bayes rate, on a real synthetic store."""

import numpy as np
import pytest
from fixtures.latents import write_latents


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """A real synthetic store (its factors are the labels) of 20,000 tiny images."""
    from latentkit.ingest.prepare import prepare_synthetic

    data = tmp_path_factory.mktemp("faces") / "data.zarr"
    prepare_synthetic(out=data, n=20_000, size=8, chunk=4096)
    return data


def test_attribute_direction_and_probe_match_the_known_answer(faces, tmp_path):
    """Latents whose projection on a known direction w is the factor plus noise: the centroid direction
    is w, and the probe reaches the Bayes rate 1 - arccos(1 / sqrt(1 + s^2)) / pi, no better."""
    import zarr

    from latentkit.analysis.attributes import attributes
    from latentkit.analysis.report.files import load_direction

    factors = zarr.open_group(faces, mode="r")["factors"][:]
    rng = np.random.default_rng(3)
    dim, noise, j = 16, 0.5, 8  # factor 8: eye_size
    w = rng.standard_normal(dim)
    w /= np.linalg.norm(w)
    z = rng.standard_normal((len(factors), dim))
    z -= np.outer(z @ w, w)  # drop the component along w ...
    z += np.outer((factors[:, j] + noise * rng.standard_normal(len(factors))) / np.sqrt(1 + noise**2), w)  # ... set it
    latents = write_latents(tmp_path / "z.zarr", z.astype(np.float32), chunk=3000)
    report = attributes(latents=latents, data=faces, out=tmp_path / "a")
    row = next(r for r in report["attributes"] if r["name"] == "eye_size")
    assert report["labels"].startswith("synthetic factors") and report["held_out"] == "valid"
    bayes = 1 - np.arccos(1 / np.sqrt(1 + noise**2)) / np.pi
    assert row["probe_accuracy"] == pytest.approx(bayes, abs=0.025)
    assert row["direction_accuracy"] == pytest.approx(bayes, abs=0.025)
    direction = load_direction(tmp_path / "a", "eye_size")
    assert direction @ w / np.linalg.norm(direction) >= 0.95
    # An attribute the latents do not carry: chance, the majority rate.
    other = next(r for r in report["attributes"] if r["name"] == "mouth_width")
    assert other["probe_accuracy"] < other["majority_rate"] + 0.04
    assert "| eye_size |" in (tmp_path / "a" / "attributes.md").read_text()
