"""What a training call ends with: read by the CLI and the demo, made by ``train`` (a run
already trained returns before Keras loads) and by ``fitting``'s epochs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class TrainResult:
    interrupted: bool
    epoch: int  # epochs finished now
    step: int
    history: list[dict[str, Any]]
    first_epoch: int = 0  # epochs finished when this call began

    @property
    def trained(self) -> int:
        """Epochs this call finished."""
        return self.epoch - self.first_epoch
