"""The files a Kentaikyo settlement issues: CSV (UTF-8 with BOM, for Excel) and one .xlsx.

Rendering is a pure function of what the settlement event holds, and byte-for-byte reproducible
(fixed workbook and zip timestamps), so the files of an issued settlement can be written again
after a crash and still match the SHA-256 recorded in its event.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
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
    days: Sequence[Sequence[Any]],
    adjustments: Sequence[Sequence[Any]],
    parties: Mapping[str, Mapping[str, str]],
    issued_at: datetime,
) -> dict[str, bytes]:
    """File name → bytes, from the settlement's own contents."""
    sheets = {
        "就労実績報告": _report_rows(month, days, adjustments, parties),
        "元請一括": _prime_rows(month, days, adjustments, parties),
        "対象外": _not_eligible_rows(month, days, adjustments),
    }
    base = f"kentaikyo-{month}"
    return {
        f"{base}-work-report.csv": _csv([REPORT_HEADER, *sheets["就労実績報告"]]),
        f"{base}-prime-totals.csv": _csv([PRIME_HEADER, *sheets["元請一括"]]),
        f"{base}-not-eligible.csv": _csv([NOT_ELIGIBLE_HEADER, *sheets["対象外"]]),
        f"{base}.xlsx": _xlsx({
            "就労実績報告": [REPORT_HEADER, *sheets["就労実績報告"]],
            "元請一括": [PRIME_HEADER, *sheets["元請一括"]],
            "対象外": [NOT_ELIGIBLE_HEADER, *sheets["対象外"]],
        }, issued_at),
    }


def _report_rows(
    month: str, days: Sequence[Sequence[Any]], adjustments: Sequence[Sequence[Any]],
    parties: Mapping[str, Mapping[str, str]],
) -> list[list[Any]]:
    """One row per contracting employer × site × worker: dates worked, days and points; then
    the adjustments to earlier months, the same way, with signed dates and deltas."""
    members, contracts, sites = parties["members"], parties["contracts"], parties["sites"]
    groups: defaultdict[tuple[str, str, str], list[tuple[str, int]]] = defaultdict(list)
    for technician, employer, site, work_date, points, outcome in days:
        if outcome == "eligible":
            groups[(employer or "", site, technician)].append((work_date, points))
    rows = []
    for (employer, site, technician), worked in sorted(groups.items()):
        rows.append(["当月", month, employer, contracts.get(employer, ""), site,
                     sites.get(site, ""), technician, members.get(technician, ""),
                     " ".join(d for d, _ in sorted(worked)), len(worked),
                     sum(p for _, p in worked)])
    adjusted: defaultdict[tuple[str, str, str, str], list[tuple[str, int]]] = defaultdict(list)
    for row in adjustments:
        adjustment = Adjustment.from_row(list(row))
        technician, employer, site, work_date = adjustment.key
        before = adjustment.before is not None and adjustment.before[1] == "eligible"
        after = adjustment.after is not None and adjustment.after[1] == "eligible"
        if before == after and adjustment.points_delta == 0:
            continue  # an ineligible day's reason changed: shown in 対象外, not here
        sign = "+" if after and not before else "-" if before and not after else "±"
        adjusted[(adjustment.month, employer or "", site, technician)].append(
            (f"{sign}{work_date}", adjustment.points_delta))
    for (earlier, employer, site, technician), changes in sorted(adjusted.items()):
        day_delta = sum(1 if c[0][0] == "+" else -1 if c[0][0] == "-" else 0 for c in changes)
        rows.append(["調整", earlier, employer, contracts.get(employer, ""), site,
                     sites.get(site, ""), technician, members.get(technician, ""),
                     " ".join(sorted(d for d, _ in changes)), day_delta,
                     sum(p for _, p in changes)])
    return rows


def _prime_rows(
    month: str, days: Sequence[Sequence[Any]], adjustments: Sequence[Sequence[Any]],
    parties: Mapping[str, Mapping[str, str]],
) -> list[list[Any]]:
    """元請一括: what each prime pays, per employer on its sites, this month and as adjustments."""
    sites = parties["sites"]
    totals: defaultdict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for _, employer, site, _, points, outcome in days:
        if outcome == "eligible":
            total = totals[(sites.get(site, ""), employer or "", "当月", month)]
            total[0] += 1
            total[1] += points
    for row in adjustments:
        adjustment = Adjustment.from_row(list(row))
        _, employer, site, _ = adjustment.key
        if adjustment.points_delta:
            total = totals[(sites.get(site, ""), employer or "", "調整", adjustment.month)]
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


def _not_eligible_rows(
    month: str, days: Sequence[Sequence[Any]], adjustments: Sequence[Sequence[Any]]
) -> list[list[Any]]:
    rows = [[month, technician, employer or "", site, work_date, reason_label(outcome), outcome]
            for technician, employer, site, work_date, _, outcome in days
            if outcome != "eligible"]
    for row in adjustments:
        adjustment = Adjustment.from_row(list(row))
        technician, employer, site, work_date = adjustment.key
        if adjustment.after is not None and adjustment.after[1] != "eligible":
            rows.append([adjustment.month, technician, employer or "", site, work_date,
                         reason_label(adjustment.after[1]), adjustment.after[1]])
    return sorted(rows)


def _csv(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)  # CRLF: what Excel writes
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(sheets: Mapping[str, Sequence[Sequence[Any]]], issued_at: datetime) -> bytes:
    workbook = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    stamp = issued_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp  # save_workbook would stamp the wall clock instead
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return _fixed_zip_times(raw.getvalue(), stamp)


def _fixed_zip_times(data: bytes, stamp: datetime) -> bytes:
    """The same archive with every entry dated `stamp`, so equal content gives equal bytes."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute,
                 stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def sha256_of(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}


def write_files(
    directory: Path, files: Mapping[str, bytes], expected: Mapping[str, str]
) -> list[Path]:
    """Write each file (atomically) unless it is there already with the expected SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in sorted(files.items()):
        if hashlib.sha256(data).hexdigest() != expected.get(name):
            raise FileMismatch(f"{name}: rendered bytes differ from the issued SHA-256")
        path = directory / name
        if path.exists():
            if hashlib.sha256(path.read_bytes()).hexdigest() == expected[name]:
                continue
            raise FileMismatch(f"{path} exists and differs from the issued SHA-256")
        partial = path.with_name(f".{name}.partial")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        written.append(path)
    return written
