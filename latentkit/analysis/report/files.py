"""report.json and its siblings on disk: written after a check against the schema (a producer
that drifts fails in the job that made the drift), read with the same check (one
``latentkit:`` line naming the key), and attributes.npz's directions."""

from __future__ import annotations

import json
import os
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.analysis.report.schema import FORMAT_KEY, REPORT_FORMAT, Report
from latentkit.core import AnalysisPaths, LatentkitError, write_json


def write_report(path: str | os.PathLike, report: Any, schema: type = Report) -> None:
    """Write a report atomically, stamped with ``REPORT_FORMAT``, after checking it against
    ``schema`` (a producer that drifts fails here, in the job that made the drift)."""
    report[FORMAT_KEY] = REPORT_FORMAT
    check(report, schema, str(path))
    write_json(path, report)


def read_report(path: str | os.PathLike, schema: type = Report) -> Any:
    """The report at ``path``, checked against ``schema`` (``Report``, ``AttributesReport`` or
    ``CompareReport``); one ``LatentkitError`` line when it is missing, unreadable, of a newer
    format, or not what the schema says."""
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LatentkitError(f"no report at {path}") from None
    except (OSError, ValueError) as error:
        raise LatentkitError(f"{path} is not a readable report ({type(error).__name__}: {error})") from None
    if not isinstance(report, dict):
        raise LatentkitError(f"{path} is not a report (a JSON object)")
    version = report.get(FORMAT_KEY, 1)
    if not isinstance(version, int) or version > REPORT_FORMAT:
        raise LatentkitError(
            f"{path} is of report format {version}, newer than this latentkit's "
            f"{REPORT_FORMAT}: upgrade latentkit (pip install -U latentkit)"
        )
    check(report, schema, str(path))
    return report


def check(value: Any, schema: Any, where: str, at: str = "") -> None:
    """Raise one line when ``value`` is not what ``schema`` (a TypedDict, a list/dict of one, a
    plain type) says: a missing key, a key the schema does not list, a wrong type."""
    origin, args = typing.get_origin(schema), typing.get_args(schema)
    if schema is Any or schema is object:
        return
    if typing.is_typeddict(schema):
        if not isinstance(value, dict):
            _fail(where, at, f"should be an object, is {type(value).__name__}")
        hints = typing.get_type_hints(schema)
        missing = sorted(schema.__required_keys__ - value.keys())
        if missing:
            _fail(
                where, at, f"lacks key {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        unknown = sorted(set(value) - set(hints))
        if unknown:
            _fail(where, at, f"has key {unknown[0]!r}, which report format {REPORT_FORMAT} does not know")
        for key, item in value.items():
            check(item, hints[key], where, f"{at}.{key}" if at else key)
    elif origin in (typing.Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return check(value, option, where, at)
            except LatentkitError as error:
                errors.append(error)
        raise errors[-1]
    elif origin is list:
        if not isinstance(value, list):
            _fail(where, at, f"should be a list, is {type(value).__name__}")
        for i, item in enumerate(value):
            check(item, args[0], where, f"{at}[{i}]")
    elif origin is dict:
        if not isinstance(value, dict):
            _fail(where, at, f"should be an object, is {type(value).__name__}")
        for key, item in value.items():
            check(item, args[1], where, f"{at}.{key}")
    elif schema is type(None):
        if value is not None:
            _fail(where, at, f"should be null, is {type(value).__name__}")
    elif schema is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            _fail(where, at, f"should be a number, is {type(value).__name__}")
    elif isinstance(schema, type) and not isinstance(value, schema):
        _fail(where, at, f"should be {schema.__name__}, is {type(value).__name__}")


def _fail(where: str, at: str, what: str) -> typing.NoReturn:
    raise LatentkitError(
        f"{where}: {at or 'the report'} {what}: this latentkit did not write it (run the job that "
        f"wrote it again: analyze, attributes or compare)"
    )


def load_direction(analysis: str | os.PathLike, name: str) -> np.ndarray:
    """The centroid direction (present minus absent) of attribute ``name`` from OUT/attributes.npz."""
    path = AnalysisPaths(Path(analysis)).directions
    if not path.exists():
        raise LatentkitError(f"no attribute directions at {path}: run `latentkit attributes` first")
    with np.load(path) as saved:
        names = [str(v) for v in saved["names"]]
        if name not in names:
            raise LatentkitError(f"unknown attribute {name!r}: one of {', '.join(names)}")
        return saved["directions"][names.index(name)]
