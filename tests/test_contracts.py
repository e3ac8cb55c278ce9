"""The contracts between the rooms: report.json's schema (one module writes and reads it, so a
renamed key fails a test and not a user's ``compare``) and the pipeline's step table (the demo,
the SLURM chain and ``status`` read the same done-tests)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from fixtures.commands import cli
from fixtures.runs import copy_run

from latentkit.analysis.report.files import read_report, write_report
from latentkit.analysis.report.schema import REPORT_FORMAT, AttributesReport, Report
from latentkit.core import LatentkitError, RunPaths


def _edit(path: Path, change) -> None:
    report = json.loads(path.read_text())
    change(report)
    path.write_text(json.dumps(report))


def test_a_report_analyze_wrote_is_what_the_schema_says(tiny_ae):
    report = read_report(tiny_ae / "analysis" / "report.json")
    assert report["format"] == REPORT_FORMAT
    assert Report.__required_keys__ <= report.keys()
    assert set(report) <= set(Report.__annotations__)


def test_a_renamed_key_fails_every_reader_in_one_line(tiny_ae, tmp_path):
    run = copy_run(tiny_ae, tmp_path / "run")
    report = run / "analysis" / "report.json"
    _edit(report, lambda r: r.__setitem__("radii", r.pop("radius")))
    with pytest.raises(LatentkitError, match="lacks key 'radius'"):
        read_report(report)
    for command in (
        ["findings", "--run", run],
        ["report", "--run", run],
        ["compare", run, run, "--out", tmp_path / "c"],
    ):
        result = cli(*command, check=False)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "lacks key 'radius'" in result.stderr, result.stderr
    assert not (tmp_path / "c" / "report.json").exists()


def test_a_renamed_optional_or_nested_key_and_a_wrong_type_are_caught(tiny_ae, tmp_path):
    original = json.loads((tiny_ae / "analysis" / "report.json").read_text())
    path = tmp_path / "report.json"
    for change, message in (
        (lambda r: r.__setitem__("mixtures", r.pop("mixture")), "has key 'mixtures'"),
        (
            lambda r: r["pca"]["trimmed"][0].__setitem__("factor", r["pca"]["trimmed"][0].pop("fact")),
            r"pca.trimmed\[0\] lacks key 'fact'",
        ),
        (lambda r: r["radius"].__setitem__("mean", "16"), "radius.mean should be a number"),
    ):
        report = json.loads(json.dumps(original))
        change(report)
        path.write_text(json.dumps(report))
        with pytest.raises(LatentkitError, match=message):
            read_report(path)


def test_report_formats_older_and_newer(tiny_ae, tmp_path):
    path = tmp_path / "report.json"
    path.write_text((tiny_ae / "analysis" / "report.json").read_text())
    _edit(path, lambda r: r.pop("format"))  # format 1: written before the version was recorded
    assert read_report(path)["n"] == 240
    _edit(path, lambda r: r.__setitem__("format", REPORT_FORMAT + 1))
    with pytest.raises(LatentkitError, match="newer than this latentkit"):
        read_report(path)
    path.write_text("{not json")
    with pytest.raises(LatentkitError, match="not a readable report"):
        read_report(path)


def test_a_producer_that_drifts_fails_in_its_own_job_and_writes_nothing(tmp_path):
    with pytest.raises(LatentkitError, match="lacks key"):
        write_report(tmp_path / "report.json", {"latents": "z.npy", "n": 3, "dim": 2})
    with pytest.raises(LatentkitError, match="attributes.json: the report lacks key 'directions'"):
        write_report(
            tmp_path / "attributes.json", {"attributes": [], "latents": "", "data": "", "labels": ""}, AttributesReport
        )
    assert not list(tmp_path.iterdir())
    assert AttributesReport.__required_keys__ >= {"attributes", "held_out", "directions"}


# -- the step table ---------------------------------------------------------------------------------


def test_the_step_table_decides_for_status_and_the_slurm_chain(tiny_ae, tiny_store, tmp_path):
    from latentkit.pipeline import NAMES, Where, steps_done
    from latentkit.pipeline.slurm import plan

    run = copy_run(tiny_ae, tmp_path / "run")
    paths = RunPaths.of(run)

    def seen() -> tuple[dict, dict, dict]:
        chain = {s.name: s.done for s in plan(run=run, data=tiny_store, synthetic=240, job="demo", epochs=1)}
        status = json.loads(cli("status", "--run", run, "--json").stdout)["steps"]
        return steps_done(Where(tiny_store, paths, 1)), chain, status

    assert NAMES == ("prepare", "train", "encode", "analyze")
    for answer in seen():
        assert answer == dict.fromkeys(NAMES, True)
    assert "steps    prepare done, train done, encode done, analyze done" in cli("status", "--run", run).stdout
    # latents written again after the analysis: the analysis is not done any more, for all three
    done_marks = [p for p in (paths.latents / "chunk_done").rglob("*") if p.is_file()]
    later = time.time() + 5
    os.utime(done_marks[0], (later, later))
    for answer in seen():
        assert answer == {"prepare": True, "train": True, "encode": True, "analyze": False}
    # training asked to go further than the checkpoint: train is not done
    chain = {s.name: s.done for s in plan(run=run, data=tiny_store, synthetic=240, job="demo", epochs=3)}
    assert chain == {"prepare": True, "train": False, "encode": True, "analyze": False}
    assert steps_done(Where(tmp_path / "no-store.zarr", RunPaths.of(tmp_path / "nothing"))) == dict.fromkeys(
        NAMES, False
    )
