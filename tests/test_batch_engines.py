"""Every batch engine's array tasks: split prepare and encode equal one run bitwise; refusals; the Indexed Job."""

from pathlib import Path

import pytest
import zarr
from fixtures.commands import cli, run_cli
from fixtures.runs import copy_run
from fixtures.stores import assert_identical, assert_same_store

from latentkit.core import LatentkitError
from latentkit.ingest.prepare import prepare_synthetic
from latentkit.store.tasks import ENGINES, resolve_task

ROOT = Path(__file__).resolve().parent.parent


def _array(engine: str, i: int, n: int) -> tuple[dict[str, int], list[str]]:
    """What ``engine`` hands task ``i`` of ``n`` (its variables), and the options the user adds."""
    return {
        "SLURM": ({"SLURM_ARRAY_TASK_ID": i + 1, "SLURM_ARRAY_TASK_COUNT": n, "SLURM_ARRAY_TASK_MIN": 1}, []),
        "Kubernetes": ({"JOB_COMPLETION_INDEX": i}, ["--tasks", str(n)]),
        "AWS Batch": ({"AWS_BATCH_JOB_ARRAY_INDEX": i, "AWS_BATCH_JOB_ARRAY_SIZE": n}, []),
        "Google Cloud Batch": ({"BATCH_TASK_INDEX": i, "BATCH_TASK_COUNT": n}, []),
        "LSF": ({"LSB_JOBINDEX": i + 1, "LSB_JOBINDEX_END": n, "LSB_JOBINDEX_STEP": 1}, []),  # bsub -J "x[1-n]"
        "PBS Pro": ({"PBS_ARRAY_INDEX": i}, ["--tasks", str(n)]),
        "Torque": ({"PBS_ARRAYID": i}, ["--tasks", str(n)]),
    }[engine]


NAMES = [engine.name for engine in ENGINES]


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    """Each test starts outside every array, whatever runs the suite (a SLURM job, a pod)."""
    for engine in ENGINES:
        for name in (engine.index, engine.count, engine.first_from, engine.step):
            if name:
                monkeypatch.delenv(name, raising=False)


def _set(monkeypatch, variables: dict[str, int]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))


def _done(store: Path) -> set[int]:
    return {int(k) for k in zarr.open_group(store, mode="r")["chunk_done"][:].nonzero()[0]}


PREPARE = ["prepare", "synthetic", "--n", "40", "--size", "16", "--chunk", "8"]  # 5 chunks


@pytest.fixture(scope="module")
def one_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("whole") / "one.zarr"
    prepare_synthetic(out=path, n=40, size=16, chunk=8)
    return path


def test_every_engine_is_tested():
    assert sorted(NAMES) == sorted(
        ["SLURM", "Kubernetes", "AWS Batch", "Google Cloud Batch", "LSF", "PBS Pro", "Torque"]
    )


@pytest.mark.parametrize("engine", NAMES)
def test_prepare_split_by_the_engine_equals_one_run(engine, one_store, tmp_path, monkeypatch):
    out, n = tmp_path / "split.zarr", 3
    for i in range(n):
        variables, options = _array(engine, i, n)
        _set(monkeypatch, variables)
        cli(*PREPARE, "--out", out, *options)
        assert _done(out) == {k for k in range(5) if k % n <= i}  # task i did its own chunks, no more
    assert_same_store(one_store, out)


@pytest.mark.parametrize("engine", NAMES)
def test_encode_split_by_the_engine_equals_one_run(engine, tiny_ae, tmp_path, monkeypatch):
    run = copy_run(tiny_ae, tmp_path / "run", trained_only=True)
    out, n = tmp_path / "split.zarr", 2  # tiny_ae's 240 rows in 4 chunks of 64
    for i in range(n):
        variables, options = _array(engine, i, n)
        _set(monkeypatch, variables)
        cli("encode", "--run", run, "--chunk", "64", "--out", out, *options)
        assert _done(out) == {k for k in range(4) if k % n <= i}
    assert_identical(tiny_ae / "latents.zarr", out)


def test_the_engines_variables_reach_a_fresh_process(one_store, tmp_path, monkeypatch):
    """The real console script in a process of its own: a Kubernetes pod's index picks its chunks."""
    out = tmp_path / "pod.zarr"
    run_cli(*PREPARE, "--out", out, "--tasks", "2", env={"JOB_COMPLETION_INDEX": "1"})
    assert _done(out) == {1, 3}
    _set(monkeypatch, {"JOB_COMPLETION_INDEX": 0})  # the other pod, in this process
    cli(*PREPARE, "--out", out, "--tasks", "2")
    assert_same_store(one_store, out)


def _refused(monkeypatch, variables: dict, task=None, tasks=None) -> str:
    _set(monkeypatch, variables)
    with pytest.raises(LatentkitError) as refused:
        resolve_task(task, tasks)
    return str(refused.value)


@pytest.mark.parametrize(
    ("variables", "count"),
    [({"JOB_COMPLETION_INDEX": 1}, "completions: N"), ({"PBS_ARRAY_INDEX": 1}, "-J"), ({"PBS_ARRAYID": 1}, "-t")],
)
def test_an_index_without_a_count_asks_for_tasks(monkeypatch, variables, count):
    message = _refused(monkeypatch, variables)
    assert "--tasks N" in message and next(iter(variables)) in message and count in message


def test_an_engine_with_its_count_missing_asks_for_tasks(monkeypatch):
    assert "--tasks N" in _refused(monkeypatch, {"AWS_BATCH_JOB_ARRAY_INDEX": 0})


def test_two_engines_at_once_are_refused(monkeypatch):
    message = _refused(monkeypatch, {"BATCH_TASK_INDEX": 0, "BATCH_TASK_COUNT": 2, "JOB_COMPLETION_INDEX": 0}, tasks=2)
    assert "BATCH_TASK_INDEX (Google Cloud Batch)" in message and "JOB_COMPLETION_INDEX (Kubernetes)" in message


@pytest.mark.parametrize(
    ("variables", "tasks", "words"),
    [
        ({"AWS_BATCH_JOB_ARRAY_INDEX": 3, "AWS_BATCH_JOB_ARRAY_SIZE": 3}, None, ["=3", "0..2", "size=3"]),
        ({"JOB_COMPLETION_INDEX": 4}, 4, ["=4", "0..3", "completions: 4"]),
        ({"LSB_JOBINDEX": 5, "LSB_JOBINDEX_END": 4}, None, ["=5", "1..4", "[1-4]"]),
        ({"SLURM_ARRAY_TASK_ID": 7, "SLURM_ARRAY_TASK_COUNT": 4, "SLURM_ARRAY_TASK_MIN": 1}, None, ["=7", "1..4"]),
        ({"PBS_ARRAY_INDEX": 2}, 2, ["=2", "0..1", "qsub -J 0-1"]),
    ],
)
def test_an_index_outside_the_tasks_is_refused(monkeypatch, variables, tasks, words):
    message = _refused(monkeypatch, variables, tasks=tasks)
    assert all(word in message for word in words), message


def test_lsf_counts_from_one_and_zero_is_no_array(monkeypatch):
    _set(monkeypatch, {"LSB_JOBINDEX": 1, "LSB_JOBINDEX_END": 3})
    assert resolve_task(None, None) == (0, 3)
    _set(monkeypatch, {"LSB_JOBINDEX": 3})
    assert resolve_task(None, None) == (2, 3)
    _set(monkeypatch, {"LSB_JOBINDEX": 0, "LSB_JOBINDEX_END": 0})  # LSF sets 0 in every job outside an array
    assert resolve_task(None, None) == (0, 1)
    _set(monkeypatch, {"LSB_JOBINDEX": 1, "LSB_JOBINDEX_END": 5, "LSB_JOBINDEX_STEP": 2})
    assert "LSB_JOBINDEX_STEP=2" in _refused(monkeypatch, {})


def test_slurm_keeps_its_offset_and_the_options_win(monkeypatch):
    _set(monkeypatch, {"SLURM_ARRAY_TASK_ID": 4, "SLURM_ARRAY_TASK_COUNT": 4, "SLURM_ARRAY_TASK_MIN": 1})
    assert resolve_task(None, None) == (3, 4)
    assert resolve_task(None, 8) == (3, 8) and resolve_task(1, None) == (1, 4) and resolve_task(5, 6) == (5, 6)
    assert resolve_task(None, None) == (3, 4)
    monkeypatch.delenv("SLURM_ARRAY_TASK_MIN")  # no MIN: the index is the task, and 4 of 4 is outside 0..3
    assert "0..3" in _refused(monkeypatch, {})


def test_a_refusal_is_one_line_and_writes_nothing(monkeypatch, tmp_path):
    _set(monkeypatch, {"JOB_COMPLETION_INDEX": 0, "PBS_ARRAYID": "x"})
    result = cli(*PREPARE, "--out", tmp_path / "x.zarr", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "latentkit: error:" in result.stderr
    _set(monkeypatch, {"PBS_ARRAYID": 0})
    monkeypatch.delenv("JOB_COMPLETION_INDEX")
    result = cli(*PREPARE, "--out", tmp_path / "x.zarr", check=False)
    assert result.returncode == 2 and "pass --tasks N" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.zarr").exists()


def test_the_indexed_job_manifest_runs_encode_with_tasks_equal_to_completions():
    yaml = pytest.importorskip("yaml")
    from latentkit.cli.main import command

    job = yaml.safe_load((ROOT / "slurm" / "encode-indexed-job.yaml").read_text())
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = container["args"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed" and pod["restartPolicy"] == "Never"
    assert container["command"] == ["latentkit", "encode"] and "backoffLimitPerIndex" in spec
    assert int(args[args.index("--tasks") + 1]) == spec["completions"] and "--task" not in args
    assert {m["name"] for m in container["volumeMounts"]} <= {
        v["name"] for v in pod["volumes"] if "persistentVolumeClaim" in v
    }
    command().commands["encode"].make_context("encode", [str(a) for a in args])  # the options exist and parse
