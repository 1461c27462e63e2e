"""The files a Kentaikyo settlement issues: CSV (UTF-8 with BOM, for Excel) and one .xlsx.

Rendering is a function of the settlement's lines. What the settlement records per file is the
SHA-256 of its content, not of the bytes a library produced: for a CSV its rows in our own
encoding (the file's bytes), for the workbook each sheet's title and rows in that same encoding.
A file already issued is kept as issued; a re-run compares it by content, and writes a missing
one again, so a new openpyxl that zips differently does not make a month un-settleable.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
import itertools
import os
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from openpyxl import Workbook, load_workbook
from openpyxl.writer.excel import ExcelWriter

from ledger.domain.settlement import Adjustment

REASONS = {
    "not_enrolled": "被共済者でない",
    "before_enrollment": "被共済者となる前の日",
    "stamp_site": "証紙貼付方式の現場",
    "no_employer": "所属事業者なし",
    "employer_not_on_site": "施工体制にない事業者",
    "employer_not_enrolled": "共済契約者でない",
    "covered": "他の現場で充当済",
}

REPORT_HEADER = ["区分", "対象月", "共済契約者(事業者ID)", "共済契約者番号", "現場ID",
                 "元請(事業者ID)", "技能者ID", "被共済者番号", "就労日", "就労日数", "ポイント"]
PRIME_HEADER = ["元請(事業者ID)", "共済契約者(事業者ID)", "区分", "対象月", "就労日数", "ポイント"]
NOT_ELIGIBLE_HEADER = ["対象月", "技能者ID", "所属事業者(事業者ID)", "現場ID", "就労日", "理由",
                       "理由コード"]


class FileMismatch(RuntimeError):
    """An issued file on disk differs from the SHA-256 its settlement recorded: never overwrite
    it; someone must look."""


def reason_label(outcome: str) -> str:
    kind, _, site = outcome.partition(":")
    label = REASONS.get(kind, outcome)
    return f"{label} ({site})" if site else label


def render_kentaikyo(
    month: str,
    days: Iterable[Sequence[Any]],
    adjustments: Iterable[Sequence[Any]],
    parties: Mapping[str, Mapping[str, str]],
    issued_at: datetime,
) -> dict[str, bytes]:
    """File name → bytes, from the settlement's own contents (in memory: for small months)."""
    with tempfile.TemporaryDirectory() as scratch:
        names = render_kentaikyo_to(Path(scratch), month, days, adjustments, parties, issued_at)
        return {name: (Path(scratch) / name).read_bytes() for name in names}


def render_kentaikyo_to(
    directory: Path,
    month: str,
    days: Iterable[Sequence[Any]],
    adjustments: Iterable[Sequence[Any]],
    parties: Mapping[str, Mapping[str, str]],
    issued_at: datetime,
) -> dict[str, str]:
    """Write the files into `directory`; return file name → SHA-256 of its content.

    The days are read once, as a stream. What is held is one entry per report group (employer ×
    site × worker, its dates as a bit set of the month's days) and the adjustments; the
    not-eligible rows are spooled to a file, so memory does not follow the month's lines."""
    base = f"kentaikyo-{month}"
    with tempfile.TemporaryFile("w+b") as spool:
        eligible, in_order = _read_days(month, days, spool)
        adjusted = [Adjustment.from_row(list(row)) for row in adjustments]
        earlier = sorted(
            [a.month, a.key[0], a.key[1] or "", a.key[2], a.key[3], reason_label(a.after[1]),
             a.after[1]] for a in adjusted if a.after is not None and a.after[1] != "eligible")

        def not_eligible() -> Iterator[list[Any]]:
            spool.seek(0)
            spooled = (orjson.loads(line) for line in spool)
            # Adjustments are about earlier months, so their rows sort before this month's;
            # this month's come in line order, which is the sheet's order unless the lines
            # were not sorted.
            yield from heapq.merge(earlier, spooled if in_order else sorted(spooled))

        sheets: dict[str, tuple[list[Any], Callable[[], Iterable[Sequence[Any]]]]] = {
            "就労実績報告": (REPORT_HEADER, _constant(
                _report_rows(month, eligible, adjusted, parties))),
            "元請一括": (PRIME_HEADER, _constant(_prime_rows(month, eligible, adjusted, parties))),
            "対象外": (NOT_ELIGIBLE_HEADER, not_eligible),
        }
        names = {"就労実績報告": f"{base}-work-report.csv",
                 "元請一括": f"{base}-prime-totals.csv", "対象外": f"{base}-not-eligible.csv"}
        digests = {}
        for title, (header, rows) in sheets.items():
            digests[names[title]] = _write_csv(directory / names[title],
                                               itertools.chain([header], rows()))
        _xlsx(directory / f"{base}.xlsx",
              {title: itertools.chain([header], rows())
               for title, (header, rows) in sheets.items()}, issued_at)
        digests[f"{base}.xlsx"] = workbook_content_sha256(
            (title, itertools.chain([header], rows())) for title, (header, rows) in sheets.items())
    return dict(sorted(digests.items()))


def _constant(rows: list[list[Any]]) -> Callable[[], Iterable[Sequence[Any]]]:
    return lambda: rows


def _read_days(
    month: str, days: Iterable[Sequence[Any]], spool: IO[bytes]
) -> tuple[dict[tuple[str, str, str], list[int]], bool]:
    """Eligible days grouped as employer × site × worker → [bit set of days, points]; the
    not-eligible rows written to `spool` (JSON lines). Also whether those came in order."""
    eligible: dict[tuple[str, str, str], list[int]] = {}
    previous: list[Any] | None = None
    in_order = True
    for technician, employer, site, work_date, points, outcome in days:
        if outcome == "eligible":
            if work_date[:7] != month:
                raise ValueError(f"{work_date} is not in {month}")
            group = eligible.setdefault((employer or "", site, technician), [0, 0])
            group[0] |= 1 << int(work_date[8:10])
            group[1] += points
        else:
            row = [month, technician, employer or "", site, work_date, reason_label(outcome),
                   outcome]
            in_order = in_order and (previous is None or previous <= row)
            previous = row
            spool.write(orjson.dumps(row) + b"\n")
    return eligible, in_order


def _dates(month: str, days: int) -> list[str]:
    return [f"{month}-{day:02d}" for day in range(1, 32) if days >> day & 1]


def _report_rows(
    month: str, eligible: Mapping[tuple[str, str, str], list[int]],
    adjustments: Sequence[Adjustment], parties: Mapping[str, Mapping[str, str]],
) -> list[list[Any]]:
    """One row per contracting employer × site × worker: dates worked, days and points; then
    the adjustments to earlier months, the same way, with signed dates and deltas."""
    members, contracts, sites = parties["members"], parties["contracts"], parties["sites"]
    rows = []
    for (employer, site, technician), (days, points) in sorted(eligible.items()):
        dates = _dates(month, days)
        rows.append(["当月", month, employer, contracts.get(employer, ""), site,
                     sites.get(site, ""), technician, members.get(technician, ""),
                     " ".join(dates), len(dates), points])
    adjusted: defaultdict[tuple[str, str, str, str], list[tuple[str, int]]] = defaultdict(list)
    for adjustment in adjustments:
        technician, of_employer, site, work_date = adjustment.key
        before = adjustment.before is not None and adjustment.before[1] == "eligible"
        after = adjustment.after is not None and adjustment.after[1] == "eligible"
        if before == after and adjustment.points_delta == 0:
            continue  # an ineligible day's reason changed: shown in 対象外, not here
        sign = "+" if after and not before else "-" if before and not after else "±"
        adjusted[(adjustment.month, of_employer or "", site, technician)].append(
            (f"{sign}{work_date}", adjustment.points_delta))
    for (earlier, employer, site, technician), changes in sorted(adjusted.items()):
        day_delta = sum(1 if c[0][0] == "+" else -1 if c[0][0] == "-" else 0 for c in changes)
        rows.append(["調整", earlier, employer, contracts.get(employer, ""), site,
                     sites.get(site, ""), technician, members.get(technician, ""),
                     " ".join(sorted(d for d, _ in changes)), day_delta,
                     sum(p for _, p in changes)])
    return rows


def _prime_rows(
    month: str, eligible: Mapping[tuple[str, str, str], list[int]],
    adjustments: Sequence[Adjustment], parties: Mapping[str, Mapping[str, str]],
) -> list[list[Any]]:
    """元請一括: what each prime pays, per employer on its sites, this month and as adjustments."""
    sites = parties["sites"]
    totals: defaultdict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (employer, site, _), (days, points) in eligible.items():
        total = totals[(sites.get(site, ""), employer, "当月", month)]
        total[0] += days.bit_count()
        total[1] += points
    for adjustment in adjustments:
        _, of_employer, site, _ = adjustment.key
        if adjustment.points_delta:
            total = totals[(sites.get(site, ""), of_employer or "", "調整", adjustment.month)]
            total[0] += 1 if adjustment.points_delta > 0 else -1
            total[1] += adjustment.points_delta
    rows: list[list[Any]] = []
    for prime in sorted({key[0] for key in totals}):
        mine = sorted((key, value) for key, value in totals.items() if key[0] == prime)
        rows.extend([prime, employer, kind, when, n, yen]
                    for (_, employer, kind, when), (n, yen) in mine)
        rows.append([prime, "合計", "", "", sum(v[0] for _, v in mine),
                     sum(v[1] for _, v in mine)])
    return rows


def _csv(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)  # CRLF: what Excel writes
    return buffer.getvalue().encode("utf-8-sig")


def _write_csv(path: Path, rows: Iterable[Sequence[Any]]) -> str:
    """Write rows as _csv would encode them, a row at a time; return the SHA-256 of the bytes."""
    hasher = hashlib.sha256()
    with open(path, "wb") as handle:
        first = True
        for row in rows:
            data = _csv([row])
            if not first:
                data = data[3:]  # the BOM once, at the start of the file
            first = False
            handle.write(data)
            hasher.update(data)
        if first:
            handle.write(_csv([]))
            hasher.update(_csv([]))
    return hasher.hexdigest()


def _cell_text(value: Any) -> str:
    # What a cell reads back as: openpyxl gives an empty string back as None.
    return "" if value is None else str(value)


def workbook_content_sha256(sheets: Iterable[tuple[str, Iterable[Sequence[Any]]]]) -> str:
    """A workbook's content: each sheet's title as a row, then its rows, in our CSV encoding."""
    hasher = hashlib.sha256()
    for title, rows in sheets:
        hasher.update(_csv([[title]]))
        for row in rows:
            hasher.update(_csv([[_cell_text(v) for v in row]]))
    return hasher.hexdigest()


def _xlsx(path: Path, sheets: Mapping[str, Iterable[Sequence[Any]]], issued_at: datetime) -> None:
    workbook = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    stamp = issued_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp  # save_workbook would stamp the wall clock instead
    raw = path.with_name(f".{path.name}.raw")
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    _fixed_zip_times(raw, path, stamp)
    raw.unlink()


def _fixed_zip_times(source_path: Path, target_path: Path, stamp: datetime) -> None:
    """The same archive with every entry dated `stamp`, so equal content gives equal bytes."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute,
                 stamp.second)
    with zipfile.ZipFile(source_path) as source, \
            zipfile.ZipFile(target_path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))


def content_sha256(name: str, data: bytes) -> str:
    """SHA-256 of a file's content: a CSV's bytes, a workbook's sheets (see above)."""
    if not name.endswith(".xlsx"):
        return hashlib.sha256(data).hexdigest()
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except Exception:  # not a workbook at all: no content of ours
        return hashlib.sha256(data).hexdigest()
    try:
        return workbook_content_sha256(
            (sheet.title, sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets)
    finally:
        workbook.close()


def sha256_of(files: Mapping[str, bytes]) -> dict[str, str]:
    """File name → SHA-256 of its content."""
    return {name: content_sha256(name, data) for name, data in sorted(files.items())}


def write_files(
    directory: Path, files: Mapping[str, bytes], expected: Mapping[str, str]
) -> list[Path]:
    """Write each file (atomically) unless it is there already with the expected content."""
    with tempfile.TemporaryDirectory() as scratch:
        for name, data in files.items():
            (Path(scratch) / name).write_bytes(data)
        return place_files(Path(scratch), directory, sha256_of(files), expected)


def _same_bytes(path: Path, issued: str | None) -> bool:
    """Whether `path`'s bytes have the SHA-256 `issued`: what a settlement issued before
    content digests recorded per file (for a workbook, its bytes as then rendered)."""
    if issued is None:
        return False
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest() == issued


def place_files(
    staging: Path, directory: Path, rendered: Mapping[str, str], expected: Mapping[str, str]
) -> list[Path]:
    """Move rendered files from `staging` into `directory`, each unless it is there already
    with the expected content (an issued file is kept as issued, whatever bytes a renderer
    would give today); a file whose content differs is never overwritten."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, digest in sorted(rendered.items()):
        issued = expected.get(name)
        if digest != issued and not _same_bytes(staging / name, issued):
            raise FileMismatch(f"{name}: rendered content differs from the issued SHA-256")
        path = directory / name
        if path.exists():
            if content_sha256(name, path.read_bytes()) == digest or _same_bytes(path, issued):
                continue
            raise FileMismatch(f"{path} exists and its content differs from the issued SHA-256")
        partial = path.with_name(f".{name}.partial")
        shutil.copyfile(staging / name, partial)
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
        written.append(path)
    return written
