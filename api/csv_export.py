"""CSV downloads that Excel opens as they are: UTF-8 with a byte-order mark (so Japanese text is
not read as Shift_JIS), CRLF line ends, a Content-Disposition file name, and cells that would be
read as a formula (=, +, -, @ first) prefixed with an apostrophe (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from fastapi import Response

from ledger.clock import JST

MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {
    "description": "A CSV file (UTF-8 with BOM), one row per record",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}}


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(JST).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(cell(part) for part in value)
    text = str(getattr(value, "value", value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """`filename` is ASCII (IDs and dates), so every client reads it the same way."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return Response(buffer.getvalue().encode("utf-8"), media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
