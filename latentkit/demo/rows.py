"""A findings row (``Finding``) and what every row's test shares: its verdict, an interval's side, where to look."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from latentkit.core import RunPaths

_IN_A_RUN = RunPaths(Path())  # findings name their figures relative to the run directory


def look(*names: str) -> str:
    """Where to look, relative to the run directory: analysis figures by name ("radius" is
    analysis/radius.png), the demo's grids as "samples:NAME" (samples/NAME.png)."""
    return ", ".join(
        str(_IN_A_RUN.sample(name.removeprefix("samples:")))
        if name.startswith("samples:")
        else str(_IN_A_RUN.analysis_files.figure(name))
        for name in names
    )


@dataclass(frozen=True)
class Finding:
    claim: str  # what the studies found
    measured: str  # what this run measured
    holds: bool | None  # whether this run's numbers bear the claim out (criterion in ``measured``); None: undecided
    figure: str  # where to look, relative to the run directory
    applies: bool = True  # False: the test cannot judge this data (``measured`` says why)

    @property
    def verdict(self) -> str:
        return "not applicable" if not self.applies else verdict(self.holds)


def verdict(holds: bool | None) -> str:
    """A row's holds column: yes, no, or inconclusive (None: an interval did not separate)."""
    return "inconclusive" if holds is None else "yes" if holds else "no"


def side(interval, threshold: float) -> str:
    """Where a 95 % ``interval`` lies against ``threshold``: "above", "below" or "across"."""
    low, high = interval
    return "above" if low > threshold else "below" if high < threshold else "across"


def decided(holds_if: bool, fails_if: bool) -> bool | None:
    """True when the test ``holds_if`` passed, False when ``fails_if`` did, None when neither (undecided)."""
    return True if holds_if else False if fails_if else None
