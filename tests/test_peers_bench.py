"""bench/peers.py (issue 51): every comparison's code on tiny inputs, in this process (no timing
asserted), so the bench cannot rot; and the measures that must agree with their peers do."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
LINE = re.compile(r"^[^:]+: latentkit .+, .+, ratio \d+\.\d\d")


@pytest.fixture(scope="module")
def peers():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("peers", BENCH / "peers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["peers"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["generators", "tsne", "analyze", "encode", "feed"])
def test_each_comparison_prints_both_sides_and_a_ratio(peers, name, tmp_path, capsys):
    lines = peers.COMPARISONS[name](tmp_path, peers.TINY, 1, inprocess=True)
    assert lines, name
    printed = capsys.readouterr().out
    for text in lines:
        assert LINE.match(text), text
        assert text in printed


def test_prdc_equals_the_prdc_package(peers):
    ours, theirs = peers.prdc_side("latentkit", 300, 16), peers.prdc_side("peer", 300, 16)
    for key in ("precision", "recall", "density", "coverage"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-12), key


def test_twonn_close_to_scikit_dimension(peers):
    ours, theirs = peers.twonn_side("latentkit", 2_000, 32), peers.twonn_side("peer", 2_000, 32)
    assert ours["dimension"] == pytest.approx(theirs["dimension"], rel=0.15)


def test_kde_bandwidth_equals_grid_search(peers):
    assert peers.kde_side("latentkit", 200, 8)["bandwidth"] == peers.kde_side("peer", 200, 8)["bandwidth"]
