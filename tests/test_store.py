"""The store room's shared mechanisms: the chunk runner (resumed, split over tasks, timed, every chunk's
file written) and a store of a newer format refused."""

import numpy as np
import pytest
import zarr
from fixtures.commands import cli

from latentkit import store
from latentkit.core.errors import LatentkitError
from latentkit.store.chunks import chunk_progress, plan_chunks, run_chunks
from latentkit.store.layout import ArraySpec


def _store(path, n=10, chunk=3):
    arrays = {"x": ArraySpec((2,), "int32")}
    return store.create_or_open(path, n=n, chunk=chunk, arrays=arrays, attrs={"source": "t"}, identity=("source",))


def _produce(calls):
    def produce(start, stop):
        calls.append(start)
        return {"x": np.stack([np.arange(start, stop)] * 2, axis=1).astype("int32")}

    return produce


def test_chunk_runner_resumes_after_a_failure_and_splits_over_tasks(tmp_path):
    group = _store(tmp_path / "s.zarr")
    produce = _produce([])

    def failing(start, stop):
        if start == 6:
            raise RuntimeError("killed")
        return produce(start, stop)

    with pytest.raises(RuntimeError):
        run_chunks(group, failing, description="t")
    progress = chunk_progress(group)
    assert progress.done.tolist() == [True, True, False, False] and progress.missing == [2, 3]
    assert plan_chunks(group, 1, 2).mine == [1, 3] and plan_chunks(group, 1, 2).todo == [3]

    again: list[int] = []
    result = run_chunks(group, _produce(again), task=1, tasks=2, description="t")
    assert (result.chunks_written, result.chunks_skipped) == (1, 1) and again == [9]
    result = run_chunks(group, _produce(again), description="t")
    assert (result.chunks_written, result.chunks_skipped) == (1, 3) and again == [9, 6]
    assert chunk_progress(group).complete
    np.testing.assert_array_equal(group["x"][:, 0], np.arange(10))
    assert chunk_progress(group).row_mask().all()


def test_every_chunk_is_timed_by_its_own_work_the_last_one_too(tmp_path):
    """Write-behind marks the last chunk right after the one before it: its share of the wall
    time still counts its own production (once it was near zero: 159,884 items/s reported)."""
    import time

    group, seen = _store(tmp_path / "s.zarr"), []
    produce = _produce([])

    def slow(start, stop):
        time.sleep(0.05)
        return produce(start, stop)

    began = time.perf_counter()
    run_chunks(group, slow, description="t", after_write=seen.append)
    wall = time.perf_counter() - began
    assert [c.k for c in seen] == [0, 1, 2, 3]
    assert all(c.seconds >= c.produce_s >= 0.05 for c in seen), [(c.k, c.seconds, c.produce_s) for c in seen]
    # the shares add up to the wall time, no chunk's production counted twice (it once was: the
    # second-to-last chunk's share held the last one's production, which then counted again)
    assert sum(c.seconds for c in seen) <= wall


def test_every_written_chunk_has_its_file_even_all_zeros(tmp_path):
    """A chunk of nothing but the fill value is written too (zarr would skip it): a done chunk
    always has its file, the partial last one included."""
    group = _store(tmp_path / "s.zarr")
    run_chunks(group, lambda start, stop: {"x": np.zeros((stop - start, 2), "int32")}, description="t")
    keys = [group["x"].metadata.encode_chunk_key((k, 0)) for k in range(4)]
    assert all((tmp_path / "s.zarr" / "x" / key).is_file() for key in keys)
    assert store.open_store(tmp_path / "s.zarr")["x"][:].sum() == 0


def test_a_store_of_a_newer_format_is_refused(tmp_path):
    path = tmp_path / "future.zarr"
    _store(path)
    zarr.open_group(path, mode="r+").attrs["format_version"] = store.FORMAT_VERSION + 1
    with pytest.raises(LatentkitError, match="newer than this latentkit reads"):
        store.open_store(path)
    with pytest.raises(LatentkitError, match="newer than this latentkit reads"):
        _store(path)
    result = cli("info", path, check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "upgrade latentkit" in result.stderr
