"""Parsers for option values a user types (sizes, crop boxes, component pairs): one each.

Each turns text into a value or raises LatentkitError with one line naming the option.
"""

from __future__ import annotations

import re

from latentkit.core.errors import LatentkitError

MB = 2**20  # the unit of every memory figure latentkit prints


def count(n: int, word: str) -> str:
    """'1 chunk', '3 chunks', '12,000 images': a number and its noun, in the number's grammar."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def parse_size(text: str, *, option: str) -> int:
    """'1.5G', '800M', '2GB', '1024' (bytes) to bytes; ``option`` names the flag in the error."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)I?B?\s*", text.upper())
    if not match:
        raise LatentkitError(f"{option} takes a size like 4G or 1500M, got {text!r}")
    try:
        value = float(match.group(1))
    except ValueError:
        raise LatentkitError(f"{option} takes a size like 4G or 1500M, got {text!r}") from None
    return int(value * 1024 ** "_KMGT".index(match.group(2) or "_"))


def parse_crop(text: str) -> tuple[int, int, int, int]:
    """'X0,Y0,X1,Y1' to a non-empty box."""
    try:
        x0, y0, x1, y1 = (int(v) for v in text.split(","))
    except ValueError:
        raise LatentkitError(f"--crop must be X0,Y0,X1,Y1 (four integers), got {text!r}") from None
    if not (0 <= x0 < x1 and 0 <= y0 < y1):
        raise LatentkitError(f"--crop box {text} is empty or negative")
    return x0, y0, x1, y1


def format_crop(box: tuple[int, int, int, int]) -> str:
    return ",".join(str(v) for v in box)


def parse_pairs(text: str | None, flag: str = "--pairs") -> tuple[tuple[int, int], ...]:
    """'0:1,5:9' to ((0, 1), (5, 9)); None or '' to ()."""
    if not text:
        return ()
    try:
        pairs = [[int(v) for v in p.split(":")] for p in text.split(",")]
    except ValueError:
        raise LatentkitError(f"{flag} takes I:J,K:L, got {text!r}") from None
    if any(len(p) != 2 for p in pairs):
        raise LatentkitError(f"{flag} takes I:J,K:L, got {text!r}")
    return tuple((i, j) for i, j in pairs)


def parse_numbers(text: str | None, flag: str) -> tuple[float, ...]:
    """'0.5,1,2,8' to (0.5, 1.0, 2.0, 8.0); None or '' to (). Refuses what is not a positive number."""
    if not text:
        return ()
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise LatentkitError(f"{flag} takes numbers separated by commas, e.g. 0.5,1,2, got {text!r}") from None
    if any(not v > 0 for v in values):
        raise LatentkitError(f"{flag} takes positive numbers, got {text!r}")
    return values


def parse_ranges(text: str, flag: str, least: int = 2) -> tuple[int, ...]:
    """'2-30,40,60' to (2, 3, ..., 30, 40, 60), and 'LOW-HIGH:STEP' every STEP-th from LOW ('2-80:2':
    2, 4, ..., 80): sorted, each once; refuses what is not whole numbers >= ``least``, a range whose
    end lies below its start, and a step that is not a whole number of at least 1 or has no range."""
    values: set[int] = set()
    form = f"{flag} takes whole numbers and ranges, e.g. 2-30,40,60 or 2-80:2 (2, 4, ..., 80), got {text!r}"
    try:
        for part in text.split(","):
            span, colon, step = part.strip().partition(":")
            low, dash, high = span.partition("-")
            first, last, every = int(low), int(high) if dash else int(low), int(step) if colon else 1
            if last < first or every < 1 or (colon and not dash):
                raise ValueError(part)
            values.update(range(first, last + 1, every))
    except ValueError:
        raise LatentkitError(form) from None
    if not values or min(values) < least:
        raise LatentkitError(f"{flag} takes whole numbers of at least {least}, got {text!r}")
    return tuple(sorted(values))


def parse_image_crop(text: str) -> tuple[int, int, int, int] | str:
    """'center' or 'X0,Y0,X1,Y1'."""
    return "center" if text.strip().lower() == "center" else parse_crop(text)


def parse_split(text: str) -> tuple[float, float, float]:
    """'0.8,0.1,0.1' to three fractions that add up to 1."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or any(v < 0 for v in values) or abs(sum(values) - 1) > 1e-6:
        raise LatentkitError(f"--split takes TRAIN,VALID,TEST fractions adding up to 1, got {text!r}")
    return values
