"""Tap records as files and requests carry them (JSON objects, CSV rows) → TapObservation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson

from ledger.clock import parse_datetime
from ledger.domain.taps import Direction, TapObservation
from ledger.errors import InvalidValue, LedgerError

FIELDS = ("tap_id", "reader_id", "card_id", "technician_id", "direction", "reader_time")


@dataclass(frozen=True)
class BadRecord:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def observation_from_mapping(record: Mapping[str, Any]) -> TapObservation:
    """Validate one record; raises LedgerError naming the field."""
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise InvalidValue(unknown[0], "tap.fields", f"is not a tap field ({', '.join(FIELDS)})")
    for required in ("tap_id", "reader_id", "reader_time"):
        if not record.get(required):
            raise InvalidValue(required, f"{required}.required", "is missing")
    reader_time = record["reader_time"]
    if isinstance(reader_time, str):
        reader_time = parse_datetime(reader_time, "reader_time")
    return TapObservation(
        tap_id=record["tap_id"],
        reader_id=record["reader_id"],
        # a string here: TapObservation converts it, or refuses it naming the field
        direction=cast(Direction, record.get("direction") or "unknown"),
        reader_time=reader_time,
        card_id=record.get("card_id") or None,
        technician_id=record.get("technician_id") or None,
    )


def read_tap_file(path: Path) -> Iterator[tuple[int, TapObservation | BadRecord]]:
    """Yield (line number, observation or the reason the line is bad). JSONL, or CSV with a
    header row naming the fields; the format is chosen by the file's suffix."""
    with path.open("rb") as handle:
        if path.suffix.lower() == ".csv":
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            reader = csv.DictReader(text)
            for row in reader:
                yield reader.line_num, _parse(reader.line_num, row)
            return
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                yield number, BadRecord(number, "line", f"not JSON ({error})")
                continue
            if not isinstance(record, dict):
                yield number, BadRecord(number, "line", "is not a JSON object")
                continue
            yield number, _parse(number, record)


def _parse(line: int, record: Mapping[str, Any]) -> TapObservation | BadRecord:
    try:
        return observation_from_mapping(record)
    except LedgerError as error:
        return BadRecord(line, error.field, error.message)
