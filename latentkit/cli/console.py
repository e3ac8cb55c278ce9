"""Console presentation for the CLI: a rich progress bar and monitor table rows."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from latentkit.core import MB, JobEvents
from latentkit.machine import format_mb

console = Console(stderr=True)
MONITOR_COLUMNS = ("unit", "items/s", "read s", "work s", "write s", "RSS", "RAM free", "VRAM peak/card")
WIDTHS = (10, 8, 7, 7, 7, 9, 10, 15)  # fits an 80-column terminal or log
# An epoch's row (a record with a loss): the loss and validation loss where a chunk's row has read and write times
EPOCH_COLUMNS = ("unit", "items/s", "work s", "loss", "val loss", "RSS", "RAM free", "VRAM peak/card")
EPOCH_WIDTHS = (9, 8, 7, 8, 8, 8, 10, 15)
EPOCH_LEGEND = "loss, val loss: summed over an image's pixels, mean over the images (history.csv's loss, val_loss)"


class ConsoleEvents(JobEvents):
    """Shows progress bars on stderr and monitor records as aligned rows. Not on a terminal (a
    SLURM log, ``> log``), or with LATENTKIT_PROGRESS=lines (a notebook: its pseudo-terminal
    would keep a thousand redraws), a plain line every LATENTKIT_PROGRESS_S seconds (30)
    instead, so a long epoch is never minutes of silence, nor a megabyte of bars."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._header_shown: tuple[str, ...] = ()
        self._plain: PlainProgress | None = None

    def start(self, description: str, total: int, done: int = 0, unit: str = "items") -> None:
        self.finish()
        if not console.is_terminal or os.environ.get("LATENTKIT_PROGRESS") == "lines":
            self._plain = PlainProgress(description, total, done, unit)
            return
        counts = (DownloadColumn(), TransferSpeedColumn()) if unit == "bytes" else (MofNCompleteColumn(),)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            *counts,
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, completed=done)

    def advance(self, amount: int = 1) -> None:
        if self._plain is not None:
            self._plain.advance(amount)
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def record(self, record: dict[str, Any]) -> None:
        printer = self._progress.console if self._progress is not None else console
        epoch = "loss" in record
        columns, widths = (EPOCH_COLUMNS, EPOCH_WIDTHS) if epoch else (MONITOR_COLUMNS, WIDTHS)
        if self._header_shown != columns:  # once, and again where a job's rows follow another's (the demo)
            if epoch:
                printer.print(EPOCH_LEGEND, soft_wrap=True, markup=False, highlight=False)
            printer.print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths)), style="bold")
            self._header_shown = columns
        seconds = {k: f"{record.get(k, 0):.2f}" for k in ("read_s", "work_s", "write_s")}
        middle = (
            (seconds["work_s"], loss_text(record["loss"]), loss_text(record.get("val_loss")))
            if epoch
            else tuple(seconds.values())
        )
        cells = (
            str(record.get("unit", "")),
            f"{record.get('items_per_s', 0):,.0f}",
            *middle,
            format_mb(record.get("rss_mb")),
            format_mb(record.get("ram_available_mb")),
            vram_text(record),
        )
        printer.print(" ".join(f"{c:>{w}}" for c, w in zip(cells, widths)), soft_wrap=True)

    def message(self, text: str) -> None:
        # One line per message however narrow the terminal (logs are grepped); no rich markup.
        (self._progress.console if self._progress is not None else console).print(
            text, soft_wrap=True, markup=False, highlight=False
        )

    def finish(self) -> None:
        if self._plain is not None:
            self._plain.finish()
            self._plain = None
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class PlainProgress:
    """Progress as plain lines: one every ``LATENTKIT_PROGRESS_S`` seconds while work advances,
    and one when the step ends."""

    def __init__(self, description: str, total: int, done: int, unit: str) -> None:
        self.description, self.total, self.done, self.unit = description, total, done, unit
        self.first, self.began = done, time.monotonic()
        self.every, self.shown = float(os.environ.get("LATENTKIT_PROGRESS_S", 30)), self.began

    def advance(self, amount: int) -> None:
        self.done += amount
        now = time.monotonic()
        if now - self.shown >= self.every and self.done < self.total:
            self.shown = now
            rate = (self.done - self.first) / max(now - self.began, 1e-9)
            left = f", about {_duration((self.total - self.done) / rate)} left" if rate > 0 else ""
            self._say(f"{100 * self.done / max(self.total, 1):.0f}%, {_duration(now - self.began)}{left}")

    def finish(self) -> None:
        if self.done > self.first:
            self._say(f"done in {_duration(time.monotonic() - self.began)}")

    def _say(self, how: str) -> None:
        amount = (
            f"{self.done / MB:,.0f}/{self.total / MB:,.0f} MB"
            if self.unit == "bytes"
            else f"{self.done:,}/{self.total:,}"
        )
        console.print(f"{self.description}: {amount} ({how})", soft_wrap=True, markup=False, highlight=False)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def loss_text(value: float | None) -> str:
    """An epoch's loss in its row: 6 significant digits of history.csv's (summed over an image's
    pixels, mean over the images), n/a where there is none (no validation partition)."""
    return "n/a" if value is None else f"{value:.6g}"


def vram_text(record: dict[str, Any]) -> str:
    """What this job needed (the backend's peak) of the card's total, or n/a without a GPU."""
    peak, total = record.get("vram_backend_peak_mb"), record.get("vram_total_mb")
    if total is None:
        return "n/a"
    return f"{'n/a' if peak is None else f'{peak:,.0f}'}/{total:,.0f} MB"


def status_lines(s: dict[str, Any]) -> list[str]:
    """``latentkit status``: a run's status (``status.run_status``) as aligned lines."""
    lines = [f"run      {s['run']}"]
    if s.get("checkpoint_warning"):
        lines.append(f"warning  {s['checkpoint_warning']}")
    t, imported = s.get("train"), s.get("imported")
    if imported:
        sources = ", ".join(f"{f['path']} (sha256 {f['sha256'][:12]})" for f in imported["sources"])
        lines.append(
            f"model    imported {imported['kind'].upper()} from {sources}"
            + ("" if imported.get("decoder") else "; no decoder")
        )
    elif t is None:
        lines.append("train    no checkpoint yet")
    else:
        loss = "no epoch finished yet" if t["last_loss"] is None else f"last epoch's loss {t['last_loss']:.2f}"
        where = "finished" if t["epoch"] >= t["epochs"] and not t["step"] else f"step {t['step']} of the next"
        lines.append(f"train    {t['job']}: epoch {t['epoch']} of {t['epochs']} done, {where} ({loss})")
    e = s.get("encode")
    if e:
        missing = e["missing"][:20]
        lines.append(
            f"encode   {e['chunks_done']} of {e['chunks_total']} chunks done ({e['chunk']} images each)"
            + (f"; missing {missing}{' ...' if len(e['missing']) > 20 else ''}" if missing else "")
        )
        if e.get("stale"):
            lines.append(f"warning  {e['stale']}")
    else:
        lines.append("encode   not started")
    if "steps" in s:
        lines.append(
            "steps    " + ", ".join(f"{name} {'done' if done else 'to do'}" for name, done in s["steps"].items())
        )
    lines += slurm_lines(s.get("slurm"))
    g = s["gpu"]
    lines.append(
        "GPU      n/a (no GPU in this run's monitor lines)"
        if g["total_mb"] is None
        else f"GPU      {format_mb(g['total_mb'])} card; this run's peak {format_mb(g['peak_mb'])} "
        f"(backend), {format_mb(g['nvml_peak_mb'])} (NVML, whole card)"
    )
    for record in s["monitor"]:
        lines.append(
            f"monitor  {record['job']} {record.get('unit', '')}: {record.get('items_per_s', 0):,.0f} items/s, "
            f"RSS {format_mb(record['rss_mb'])}, RAM free {format_mb(record['ram_available_mb'])}, "
            f"VRAM {vram_text(record)}"
        )
    return lines


def environment_lines(r: dict[str, Any]) -> list[str]:
    """``latentkit env``: the machine report (``environment.machine_report``) as aligned lines."""
    gpu = (
        "n/a (no GPU visible to NVML)"
        if r["gpu"] is None
        else (f"{r['gpu']}, {format_mb(r['vram_total_mb'])} VRAM ({format_mb(r['vram_used_mb'])} in use)")
    )
    e = r["encode"]
    return [
        f"RAM        {format_mb(r['ram_total_mb'])} total, {format_mb(r['ram_available_mb'])} available"
        + (f", cgroup limit {format_mb(r['cgroup_limit_mb'])}" if r["cgroup_limit_mb"] else "")
        + (f", SLURM --mem {format_mb(r['slurm_mem_mb'])}" if r["slurm_mem_mb"] else ""),
        f"CPUs       {r['cpus']} x {r['cpu']}"
        + (
            f" (this process may use {r['cpus']} of the machine's {r['cpus_machine']})"
            if r.get("cpus_machine") not in (None, r["cpus"])
            else ""
        )
        + ("  (Colab)" if r["colab"] else ""),
        f"GPU        {gpu}",
        f"allocator  {r['vram_allocator']}",
        f"disk       {format_mb(r['disk_free_mb'])} free at {r['disk']}",
        f"backend    {r['keras_backend']}; " + ", ".join(f"{k} {v}" for k, v in r["versions"].items() if v),
        f"encode     --chunk {e['chunk']} --batch {e['batch']} (about {format_mb(e['estimate_mb'])} for ae-case1)",
        f"train      --batch {r['train_batch']}",
    ]


PENDING_ADVICE = {  # reasons a job waits that waiting will not end, and what to change
    "PartitionConfig": "it asks for more CPUs or memory than the partition's nodes have: cancel the chain and "
    "submit again with --sbatch-arg=--cpus-per-task=N --sbatch-arg=--mem=SIZE",
    "ReqNodeNotAvail": "the nodes it may use are down or drained: see `sinfo`, or choose another partition",
    "PartitionTimeLimit": "its --time is over the partition's limit: submit again with --sbatch-arg=--time=HH:MM:SS",
    "AssocMaxJobsLimit": "your account's job limit is reached: it starts when your other jobs end",
}


def slurm_lines(slurm: dict[str, Any] | None) -> list[str]:
    """The submitted chain's jobs and states; a failed array task named with its log."""
    if not slurm:
        return []
    if slurm.get("states") is None:
        return [f"slurm    {name} {job_id}" for name, job_id in slurm["jobs"].items()] + [f"slurm    {slurm['note']}"]
    lines = []
    for name, records in slurm["states"].items():
        states = sorted({r.get("JobState", "?") for r in records})
        lines.append(f"slurm    {name} {slurm['jobs'][name]}: {', '.join(states)}")
        for r in records:
            if r.get("JobState") in ("FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"):
                task = f" task {r['ArrayTaskId']}" if r.get("ArrayTaskId") else ""
                lines.append(
                    f"slurm    {name}{task} {r['JobState']} (exit {r.get('ExitCode', '?')}): "
                    f"see {r.get('StdOut', 'its log')}"
                )
            elif r.get("Reason") == "DependencyNeverSatisfied":
                lines.append(f"slurm    {name} can never start: a step before it failed")
            elif r.get("JobState") == "PENDING" and r.get("Reason") in PENDING_ADVICE:
                lines.append(f"slurm    {name} pending ({r['Reason']}): {PENDING_ADVICE[r['Reason']]}")
    return lines


def quality_lines(report: Mapping[str, Any]) -> list[str]:
    """``analyze``: where the holes are (``latentkit.analysis.stages.quality``), a line per measure."""
    lines = []
    if "coverage" in report:
        lines.append(
            f"coverage (k={next(iter(report['coverage'].values()))['k']}): "
            + ", ".join(f"{name} {c['coverage']:.2f}" for name, c in report["coverage"].items())
        )
    if "intrinsic_dimension" in report:
        i = report["intrinsic_dimension"]
        lines.append(
            f"intrinsic dimension (TwoNN): data {i['data']:.1f}; "
            + ", ".join(f"{name} {d:.1f}" for name, d in i["generators"].items())
        )
    if "fragments" in report:
        f = report["fragments"]
        lines.append(
            f"fragments: {f['knn_components']} k-NN components (largest {f['largest_component_fraction']:.0%}), "
            f"HDBSCAN noise {f['hdbscan_noise_fraction']:.0%} in {f['hdbscan_clusters']} clusters"
        )
    if "vae" in report:
        v = report["vae"]
        lines.append(
            f"VAE: {v['active_units']} of {v['dims']} dimensions active, KL {v['kl_total']:.2f} nats"
            + (" (posterior collapse: most dimensions inactive)" if v["collapsed"] else "")
        )
    if "reencoding" in report:
        r = report["reencoding"]
        lines.append(
            f"re-encoding distance, median: data {r['data']['median']:.3g}; "
            + ", ".join(f"{name} {g['median']:.3g}" for name, g in r["generators"].items())
        )
    for partition, q in report.get("reconstruction", {}).items():
        lines.append(
            f"reconstruction, {partition}: MSE {q['mse']:.4f}, PSNR {q['psnr']:.1f} dB, SSIM {q['ssim']:.3f} "
            f"({q['n']:,} images)"
        )
    return lines
