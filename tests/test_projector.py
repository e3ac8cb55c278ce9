"""TensorBoard's projector folder (issue 27), read by a real TensorBoard, and the rows a selection saved, exported."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import zarr
from fixtures.commands import cli
from PIL import Image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


@pytest.mark.system  # starts a real TensorBoard
def test_the_projector_folder_opens_in_tensorboard_as_it_is(analyzed, tmp_path):
    out = tmp_path / "projector"
    said = cli("export", "--run", analyzed, "--format", "projector", "--out", out, "--sample", "200").stdout
    assert "projector: 200 points" in said and "with the t-SNE embedding" in said
    metadata = (out / "metadata.tsv").read_text().splitlines()
    header = metadata[0].split("\t")
    assert header[:3] == ["row", "name", "partition"] and header[-3:] == ["cluster", "radius", "region"]
    rows = [int(line.split("\t")[0]) for line in metadata[1:]]
    z = np.loadtxt(out / "tensors.tsv", delimiter="\t")
    latents = zarr.open_group(analyzed / "latents.zarr", mode="r")["z"][:]
    assert len(rows) == len(z) == 200 and len(np.loadtxt(out / "tsne.tsv", delimiter="\t")) == 200
    np.testing.assert_allclose(z, latents[rows], rtol=1e-5)  # the rows of every file in the same order
    tsne_rows, tsne = np.load(analyzed / "analysis" / "tsne_rows.npy"), np.load(analyzed / "analysis" / "tsne.npy")
    where = {r: i for i, r in enumerate(tsne_rows)}
    np.testing.assert_allclose(np.loadtxt(out / "tsne.tsv", delimiter="\t"), tsne[[where[r] for r in rows]], rtol=1e-5)
    sprite = Image.open(out / "sprite.png")
    assert sprite.size[0] == sprite.size[1] <= 8192

    port = free_port()
    board = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(out), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/data/plugin/projector"
        deadline = time.monotonic() + 120
        while True:
            try:
                runs = json.loads(get(f"{base}/runs"))
                break
            except OSError:
                assert time.monotonic() < deadline and board.poll() is None, "TensorBoard did not start"
                time.sleep(0.5)
        assert runs == ["."]
        info = json.loads(get(f"{base}/info?run=."))
        shapes = {e["tensorName"]: e["tensorShape"] for e in info["embeddings"]}
        assert shapes == {"z": [200, z.shape[1]], "t-SNE (latentkit analyze)": [200, 2]}
        served = np.frombuffer(get(f"{base}/tensor?run=.&name=z"), "<f4").reshape(200, -1)
        np.testing.assert_allclose(served, z, rtol=1e-5)
        assert get(f"{base}/metadata?run=.&name=z").decode().splitlines()[0].split("\t") == header
        assert get(f"{base}/sprite_image?run=.&name=z")[:4] == b"\x89PNG"
    finally:
        board.terminate()
        board.wait(timeout=30)


def test_the_projector_export_refuses_what_it_cannot_do(analyzed, tmp_path):
    too_many = cli("export", "--run", analyzed, "--format", "projector", "--sample", "100001", check=False)
    assert too_many.returncode == 2 and "the projector loads no more" in too_many.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    refused = cli("export", "--run", analyzed, "--format", "projector", "--out", mine, check=False)
    assert refused.returncode == 2 and "holds files latentkit did not write" in refused.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_export_takes_the_rows_a_selection_saved(analyzed, tmp_path):
    (tmp_path / "rows.txt").write_text("7\n3 11\n")  # as the report's button saves them (one per line)
    cli("export", "--run", analyzed, "--format", "npy", "--rows", tmp_path / "rows.txt", "--out", tmp_path / "picked")
    assert np.load(tmp_path / "picked" / "row.npy").tolist() == [3, 7, 11]
