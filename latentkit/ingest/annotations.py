"""CelebA's annotation files, as txt or csv, matched row by row to the images found.

txt: an optional count line, a header line (absent in the partition and identity files),
then ``<file> v1 v2 ...`` separated by runs of spaces; CRLF in some copies.
csv (the Kaggle copy): a header ``image_id,...`` then one row per image.
Nothing here is silent: every table reports where it came from, how many rows matched an
image, how many images had no row, how many rows named no image.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from latentkit.core import LatentkitError


@dataclass(frozen=True)
class Table:
    """One parsed annotation file: column names and each named image's values (strings)."""

    origin: str  # where it was read, for messages and the store's attrs
    columns: list[str]
    rows: dict[str, list[str]]
    declared: int | None  # the count line of a txt file


def parse_table(text: str, *, origin: str, columns: int | None = None) -> Table:
    """Parse a txt or csv annotation file; a malformed one raises LatentkitError (one line).

    ``columns``: the number of values per row when the file has no header line.
    """
    lines = [line for line in text.splitlines() if line.strip()]  # splitlines handles CRLF
    if not lines:
        raise LatentkitError(f"{origin} is empty")
    if origin.lower().endswith(".csv"):
        reader = csv.reader(io.StringIO("\n".join(lines)))
        header = [h.strip() for h in next(reader)]
        body = [[v.strip() for v in row] for row in reader]
        names, first_line = header[1:], 2
        declared = None
    else:
        declared = int(lines[0]) if lines[0].strip().isdigit() else None
        lines = lines[1:] if declared is not None else lines
        if columns is None:
            if not lines:
                raise LatentkitError(f"{origin} has a count line but no header line")
            names, lines = lines[0].split(), lines[1:]
            if names and names[0].lower() in ("image_id", "image", "filename", "file"):  # list_bbox_celeba.txt
                names = names[1:]
            first_line = 3 if declared is not None else 2
        else:
            names, first_line = [str(i) for i in range(columns)], 2 if declared is not None else 1
        body = [line.split() for line in lines]
    rows: dict[str, list[str]] = {}
    for number, parts in enumerate(body, start=first_line):
        if len(parts) != len(names) + 1:
            raise LatentkitError(
                f"{origin} is malformed: line {number} has {len(parts) - 1} values, expected {len(names)}"
            )
        rows[parts[0]] = parts[1:]
    return Table(origin, names, rows, declared)


def match(table: Table, names: list[str], dtype, *, fill, allowed: set[str] | None = None) -> tuple[np.ndarray, dict]:
    """The table's values in the order of ``names`` (``fill`` where an image has no row).

    Returns the array and a report: origin, rows, matched, images without a row, rows
    without an image (first few named), and the declared count where it disagrees.
    """
    values = np.full((len(names), len(table.columns)), fill, dtype)
    matched = 0
    for i, name in enumerate(names):
        row = table.rows.get(name)
        if row is None:
            continue
        if allowed is not None and any(v not in allowed for v in row):
            raise LatentkitError(
                f"{table.origin} is malformed: row {name} has {row}, expected values in {sorted(allowed)}"
            )
        try:
            values[i] = np.array(row, dtype=np.float64).astype(dtype)
        except ValueError:
            raise LatentkitError(f"{table.origin} is malformed: row {name} has non-numeric values") from None
        matched += 1
    known = set(names)
    extra = [n for n in table.rows if n not in known]
    report = {
        "from": table.origin,
        "rows": len(table.rows),
        "matched": matched,
        "images_without_row": len(names) - matched,
        "rows_without_image": len(extra),
        "rows_without_image_first": extra[:5],
    }
    if table.declared is not None and table.declared != len(table.rows):
        report["declared_count"] = table.declared
    return values, report


def mismatch_warning(kind: str, report: dict) -> str | None:
    """One line when a table does not fit the images, else None."""
    problems = []
    if report["images_without_row"]:
        problems.append(f"{report['images_without_row']:,} images have no row")
    if report["rows_without_image"]:
        first = ", ".join(report["rows_without_image_first"])
        problems.append(f"{report['rows_without_image']:,} rows name no image found (first: {first})")
    if "declared_count" in report:
        problems.append(f"its count line says {report['declared_count']:,} rows, it has {report['rows']:,}")
    if not problems:
        return None
    return f"warning: {kind} file {report['from']}: {report['matched']:,} rows matched; " + "; ".join(problems)
