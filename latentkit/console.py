"""Console presentation for the CLI: a rich progress bar and monitor table rows."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from latentkit.events import JobEvents
from latentkit.monitor import format_mb

console = Console(stderr=True)
MONITOR_COLUMNS = ("unit", "items/s", "read s", "work s", "write s", "RSS", "RAM free", "VRAM")
WIDTHS = (10, 8, 7, 7, 7, 9, 10, 14)  # fits an 80-column terminal or log


class ConsoleEvents(JobEvents):
    """Shows progress bars on stderr and monitor records as aligned rows."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task = None
        self._header_shown = False

    def start(self, description: str, total: int, done: int = 0) -> None:
        self.finish()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
        )  # fmt: skip
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, completed=done)

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def record(self, record: dict[str, Any]) -> None:
        printer = self._progress.console if self._progress is not None else console
        if not self._header_shown:
            printer.print(" ".join(f"{c:>{w}}" for c, w in zip(MONITOR_COLUMNS, WIDTHS)), style="bold")
            self._header_shown = True
        vram = (
            "n/a" if record.get("vram_used_mb") is None
            else f"{record['vram_used_mb']:,.0f}/{record['vram_total_mb']:,.0f} MB"
        )  # fmt: skip
        cells = (
            str(record.get("unit", "")), f"{record.get('items_per_s', 0):,.0f}",
            f"{record.get('read_s', 0):.2f}", f"{record.get('work_s', 0):.2f}", f"{record.get('write_s', 0):.2f}",
            format_mb(record.get("rss_mb")), format_mb(record.get("ram_available_mb")), vram,
        )  # fmt: skip
        printer.print(" ".join(f"{c:>{w}}" for c, w in zip(cells, WIDTHS)), soft_wrap=True)

    def message(self, text: str) -> None:
        (self._progress.console if self._progress is not None else console).print(text)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
