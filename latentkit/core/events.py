"""How a job tells its caller about progress without printing: the CLI passes a console
implementation, tests and library users get the silent default."""

from __future__ import annotations

from typing import Any


class JobEvents:
    """Silent receiver of a job's progress; subclass to show it."""

    def start(self, description: str, total: int, done: int = 0, unit: str = "items") -> None:
        """A long step begins: ``total`` units (``"items"`` or ``"bytes"``), ``done`` already finished."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units finished."""

    def record(self, record: dict[str, Any]) -> None:
        """One monitor line (chunk or epoch finished)."""

    def message(self, text: str) -> None:
        """A line worth showing the user."""

    def finish(self) -> None:
        """The long step ended."""
