"""The compare job: several runs' analyses side by side (does a VAE with a tiny KL factor fill its
latent space like an AE? how does a working KL term confine the cloud?).

Reads each run's analysis (running ``analyze`` where it is missing), its spec and its training
history; decodes the same generated z-points (same seeds) and reconstructs the same images
for every run; writes OUT/report.json, report.md and figures. Differences are taken against
the first run, so a run compared with itself shows zeros.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from latentkit.analysis.generators import listed_key
from latentkit.analysis.measures.stats import histogram_density
from latentkit.analysis.report.files import read_report, write_report
from latentkit.analysis.report.schema import ComparedRun, CompareReport, Report
from latentkit.core import AnalysisPaths, JobEvents, LatentkitError, RunPaths, check_folder, own_folder, write_text
from latentkit.model.opened import OpenedRun
from latentkit.store import to_unit_float

HIT_K = "1.5"  # the hit test's k that compare and the demo's findings report


def check_runs(runs: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Every run checked before any work (a decoder; an analysis of this format, or latents to
    analyze); ``out`` checked as --out."""
    if len(runs) < 2:
        raise LatentkitError("compare needs at least two runs (a run may be given twice)")
    checked = check_folder(out, "--out")
    for run in runs:
        paths = RunPaths.of(run)
        OpenedRun.of(run).described.need_decoder("compare (its grids are decoded)")
        if (paths.analysis_files.report).exists():
            read_report(paths.analysis_files.report)  # a report of another format: refused before any work
        elif not paths.latents.exists():
            raise LatentkitError(f"{run} has no latents: run `latentkit encode --run {run}` first")
    return checked


def compare(
    *,
    runs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    grid_n: int = 14,
    seed: int = 0,
    events: JobEvents | None = None,
) -> CompareReport:
    """Write OUT/report.json, report.md, compare_*.png and per-run grids for ``runs`` (two or more),
    each analyzed (``latentkit.analysis.jobs.compare_runs`` analyzes those without an analysis)."""
    from latentkit.analysis.report.decoded import generate, reconstruct

    events, out = events or JobEvents(), check_runs(runs, out)
    for run in runs:
        if not RunPaths.of(run).analysis_files.report.exists():
            raise LatentkitError(f"{run} has no analysis: run `latentkit analyze --run {run}` first")
    own_folder(out)
    entries = []
    for label, run in zip(labels_of(runs), runs):
        opened = OpenedRun.of(run)  # its model loads once for the three grids
        paths = opened.paths
        report_path = paths.analysis_files.report
        report = read_report(report_path)
        grids = {
            name: generate(run=opened, method=method, n=grid_n, seed=seed, out=out / label / f"{name}.png")["out"]
            for name, method in (("generated_mvn", "mvn"), ("generated_normal", "normal"))
        }
        grids["reconstructions"] = reconstruct(run=opened, out=out / label / "reconstructions.png", n=8)["out"]
        entries.append(
            {"label": label, "run": str(run), "summary": summarise(paths, report), "report": report, "grids": grids}
        )
    first = entries[0]["summary"]
    for entry in entries:
        entry["differences"] = {
            key: value - first[key]
            for key, value in entry["summary"].items()
            if isinstance(value, (int, float)) and isinstance(first.get(key), (int, float))
        }
        entry["differences"]["radius_histogram_l1"] = _profile_distance(entries[0]["report"], entry["report"])
    for entry in entries[1:]:
        found = _alignment(entries[0], entry, out, seed, events)
        if found is not None:
            entry["alignment"] = found
    from latentkit.analysis.report.run_figures import compare_figures

    figures = compare_figures(out, entries, HIT_K)
    result: CompareReport = {
        "runs": [
            cast(
                ComparedRun,
                {k: e[k] for k in ("label", "run", "summary", "differences", "grids", "alignment") if k in e},
            )
            for e in entries
        ],
        "figures": figures,
    }
    write_report(AnalysisPaths(out).report, result, CompareReport)
    write_text(AnalysisPaths(out).markdown, _markdown(result))
    return result


ALIGN_POINTS = 5_000  # images the alignment of two runs uses (their latents' common rows)


def _alignment(first: dict[str, Any], other: dict[str, Any], out: Path, seed: int, events: JobEvents) -> dict | None:
    """``other``'s latents aligned onto ``first``'s over the same images (``analysis.alignment``),
    and a grid of the images that moved most; None (and a line) when the runs encoded other images."""
    from latentkit import store
    from latentkit.analysis.measures.alignment import align
    from latentkit.model import grid, save_png

    group_a, group_b = (store.open_store(RunPaths.of(e["run"]).latents, holds="z") for e in (first, other))
    source_a, source_b = (Path(cast(str, g.attrs.get("source", ""))).resolve() for g in (group_a, group_b))
    if source_a != source_b or store.get_array(group_a, "z").shape[0] != store.get_array(group_b, "z").shape[0]:
        events.message(f"compare: {other['label']} encoded other images than {first['label']}: no alignment")
        return None
    usable = np.flatnonzero(store.read_all(group_a, "ok").astype(bool) & store.read_all(group_b, "ok").astype(bool))
    rows = np.sort(np.random.default_rng(seed).choice(usable, size=min(ALIGN_POINTS, len(usable)), replace=False))
    a, b = (
        np.asarray(store.get_array(g, "z").get_orthogonal_selection((rows,)), np.float64) for g in (group_a, group_b)
    )
    found = align(a, b)
    found.pop("rotation")
    moved = rows[found["moved_most"]]
    found["moved_most"] = moved.tolist()
    images = store.get_array(store.open_store(source_a, holds="images"), "images").get_orthogonal_selection(
        (np.sort(moved),)
    )
    order = np.argsort(np.argsort(moved))  # back to "most moved first"
    path = out / other["label"] / "moved_most.png"
    save_png(grid(to_unit_float(images)[order], columns=len(moved)), path)
    found["figure"] = str(path)
    return found


def summarise(paths: RunPaths, report: Report) -> dict[str, Any]:
    """One run's numbers that compare sets side by side."""
    model = OpenedRun.of(paths.root).described
    last = _history(paths.history)[-1:] or [{}]
    comps = report["components"]
    cum = report["pca"]["cumulative"]
    reach = lambda f: next((i + 1 for i, v in enumerate(cum) if v >= f), len(cum))  # noqa: E731
    summary: dict[str, Any] = {
        "kind": model.kind,
        "z_dim": model.z_dim,
        "kl_factor": model.kl_factor,
        "epochs": int(last[0].get("epoch", 0)),
        "final_loss": last[0].get("loss"),
        "final_reconstruction": last[0].get("reconstruction"),
        "final_kl": last[0].get("kl"),
        # as the studies report them (history.csv of runs trained before these columns lacks them)
        "final_loss_per_pixel": last[0].get("loss_per_pixel"),
        "final_reconstruction_per_pixel": last[0].get("reconstruction_per_pixel"),
        "final_kl_weighted": last[0].get("kl_weighted"),
        "radius_mean": report["radius"]["mean"],
        "radius_std": report["radius"]["std"],
        "radius_peak": report["radius"]["peak"],
        "centre_abs_median": float(np.median([abs(c["gauss"]["centre"]) for c in comps])),
        "half_width_median": float(np.median([c["fwhm"] for c in comps])),
        "half_width_max": float(max(c["fwhm"] for c in comps)),
        "dominant": len(report["dominant"]),
        "pcs_for_50": reach(0.5),
        "pcs_for_80": reach(0.8),
        "pcs_for_95": reach(0.95),
        "max_abs_r": max((abs(p["r"]) for p in report["correlations"]["top_pairs"]), default=0.0),
        f"hit_data_k{HIT_K}": report["data_hit_fraction"][HIT_K],
    }
    for g in report["generators"]:
        summary[f"hit_{listed_key(g)}_k{HIT_K}"] = g["hit_fraction"][HIT_K]
    if "mixture" in report:
        summary["mixture_components"] = report["mixture"]["components"]
    if report.get("coverage"):
        summary["best_coverage"] = max(report["coverage"], key=lambda name: report["coverage"][name]["coverage"])
    for name in ("mvn", "gmm", "kde", "posterior", "normal"):
        if name in report.get("coverage", {}):
            summary[f"coverage_{name}"] = report["coverage"][name]["coverage"]
            summary[f"precision_{name}"] = report["coverage"][name]["precision"]
    if "intrinsic_dimension" in report:
        summary["intrinsic_dimension"] = report["intrinsic_dimension"]["data"]
    if "fragments" in report:
        summary["knn_components"] = report["fragments"]["knn_components"]
        summary["hdbscan_noise_fraction"] = report["fragments"]["hdbscan_noise_fraction"]
    if "reencoding" in report:
        summary["reencoding_median_data"] = report["reencoding"]["data"]["median"]
        for name in ("normal", "mvn", "uniform_b3"):
            if name in report["reencoding"]["generators"]:
                summary[f"reencoding_ratio_{name}"] = report["reencoding"]["generators"][name]["median_ratio"]
    if "valid" in report.get("reconstruction", {}):
        summary["valid_psnr"] = report["reconstruction"]["valid"]["psnr"]
        summary["valid_ssim"] = report["reconstruction"]["valid"]["ssim"]
    if "vae" in report:
        summary["active_units"] = report["vae"]["active_units"]
        summary["kl_total"] = report["vae"]["kl_total"]
    for name in ("normal", "mvn", "gmm"):
        if name in report.get("mismatch", {}).get("mmd", {}):
            summary[f"mmd2_{name}"] = report["mismatch"]["mmd"][name]["mmd2"]
    if "vae" in report.get("mismatch", {}):
        summary["mutual_information"] = report["mismatch"]["vae"]["mutual_information"]
        summary["aggregate_kl"] = report["mismatch"]["vae"]["aggregate_kl"]
    if "mig" in report.get("disentanglement", {}):
        d = report["disentanglement"]
        summary.update(
            mig=d["mig"],
            dci_disentanglement=d["dci"]["disentanglement"],
            dci_completeness=d["dci"]["completeness"],
            dci_informativeness=d["dci"]["informativeness"],
            sap=d["sap"],
        )
    if np.isfinite(report.get("total_correlation", {}).get("gaussian", np.nan)):  # beside MIG/DCI/SAP: no factors
        summary["total_correlation"] = report["total_correlation"]["gaussian"]
    if "local_dimension" in report and report["local_dimension"]["n"]:
        summary["local_dimension_median"] = report["local_dimension"]["median"]
    if "log_likelihood" in report:
        summary["log_likelihood"] = report["log_likelihood"]["mean"]
    for name, memorized in report.get("memorization", {}).get("generators", {}).items():
        summary[f"memorized_share_{name}"] = memorized["share"]
    if "nearest_neighbours" in report:
        summary["nn_median_ratio_mvn"] = report["nearest_neighbours"]["sets"]["multivariate normal"]["median_ratio"]
    return summary


def _history(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]


def labels_of(runs) -> list[str]:
    labels: list[str] = []
    for run in runs:
        base = Path(run).resolve().name
        label, k = base, 2
        while label in labels:
            label, k = f"{base}#{k}", k + 1
        labels.append(label)
    return labels


def _profile_distance(a, b) -> float:
    """L1 distance between two radius densities on a common grid (0: the same distribution)."""
    xa, da = histogram_density(a["radius"]["histogram"])
    xb, db = histogram_density(b["radius"]["histogram"])
    grid = np.linspace(0, max(xa[-1], xb[-1]), 400)
    return float(
        np.abs(np.interp(grid, xa, da, right=0) - np.interp(grid, xb, db, right=0)).sum() * (grid[1] - grid[0])
    )


def _markdown(result: CompareReport) -> str:
    runs = result["runs"]
    fmt = lambda v: "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
    lines = [
        "# Runs compared",
        "",
        "| | " + " | ".join(r["label"] for r in runs) + " |",
        "| --- | " + " | ".join("---" for _ in runs) + " |",
    ]
    keys = list(dict.fromkeys(key for r in runs for key in r["summary"]))  # a VAE's numbers too when an AE comes first
    lines += [f"| {key} | " + " | ".join(fmt(r["summary"].get(key)) for r in runs) + " |" for key in keys]
    lines += [
        "",
        f"## Differences from {runs[0]['label']}",
        "",
        "| | " + " | ".join(r["label"] for r in runs[1:]) + " |",
        "| --- | " + " | ".join("---" for _ in runs[1:]) + " |",
    ]
    lines += [
        f"| {key} | " + " | ".join(fmt(r["differences"].get(key)) for r in runs[1:]) + " |"
        for key in runs[0]["differences"]
    ]
    aligned = [r for r in runs if "alignment" in r]
    if aligned:
        lines += [
            "",
            f"## Aligned onto {runs[0]['label']} (the same images)",
            "",
            "Orthogonal Procrustes of the centred, unit-size clouds: disparity 0 is a rotation (2 the most there "
            "is); neighbours kept: the share of each image's k nearest neighbours that stay its neighbours.",
            "",
            "| run | disparity | neighbours kept | k | images | moved most |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in aligned:
            a = r["alignment"]
            figure = Path(a["figure"]).relative_to(Path(a["figure"]).parent.parent)
            lines.append(
                f"| {r['label']} | {a['disparity']:.3f} | {a['knn_kept']:.3f} | {a['k']} | {a['n']:,} | "
                f"[images]({figure}) |"
            )
    lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in result["figures"]]
    lines += ["", "## Grids (same z-points and images for every run)", ""]
    for r in runs:
        lines += [f"- {r['label']}: " + ", ".join(f"[{name}]({_grid_link(path)})" for name, path in r["grids"].items())]
    return "\n".join(lines) + "\n"


def _grid_link(path: str | None) -> Path:
    """A grid's path relative to OUT (``check_runs`` refused runs without a decoder: every grid was drawn)."""
    assert path is not None, "compare draws every grid"
    return Path(path).relative_to(Path(path).parent.parent)
