"""Settlement files: UTF-8 with BOM for Excel, a readable .xlsx, the same bytes every time they are
rendered from the same settlement, and never overwriting an issued file that differs."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ledger.clock import JST
from projections.jobs.files import (
    FileMismatch,
    render_kentaikyo,
    sha256_of,
    write_files,
)

T1, SITE, SITE_B = "11111111111111", "10000000000001", "10000000000002"
DAYS: list[list[Any]] = [
    [T1, "200", SITE, "2025-06-02", 320, "eligible"],
    [T1, "200", SITE, "2025-06-03", 0, f"covered:{SITE_B}"],
    [T1, None, SITE_B, "2025-06-04", 0, "no_employer"],
]
ADJUSTMENTS: list[list[Any]] = [
    ["2025-05", T1, "200", SITE, "2025-05-30", 0, 320, None, "eligible"]]
PARTIES = {"sites": {SITE: "100", SITE_B: "100"}, "members": {T1: "81111"},
           "contracts": {"200": "9200"}}
ISSUED_AT = datetime(2025, 7, 10, 4, 0, 0, 123456, tzinfo=JST)


def render(issued_at: datetime = ISSUED_AT) -> dict[str, bytes]:
    return render_kentaikyo("2025-06", DAYS, ADJUSTMENTS, PARTIES, issued_at)


def test_rendering_the_same_settlement_twice_gives_the_same_bytes() -> None:
    assert render() == render()
    later = render(datetime(2025, 7, 11, tzinfo=JST))
    assert later["kentaikyo-2025-06-work-report.csv"] == render()[
        "kentaikyo-2025-06-work-report.csv"]
    assert later["kentaikyo-2025-06.xlsx"] != render()["kentaikyo-2025-06.xlsx"]
    with zipfile.ZipFile(io.BytesIO(render()["kentaikyo-2025-06.xlsx"])) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2025, 7, 9, 19, 0, 0)}


def test_csv_files_are_utf8_with_bom_and_crlf_for_excel() -> None:
    files = render()
    report = files["kentaikyo-2025-06-work-report.csv"]
    assert report.startswith(b"\xef\xbb\xbf")
    lines = report[3:].decode("utf-8").split("\r\n")
    assert lines[0].startswith("区分,対象月,共済契約者(事業者ID)")
    assert lines[1] == (f"当月,2025-06,200,9200,{SITE},100,{T1},81111,2025-06-02,1,320")
    assert lines[2] == (f"調整,2025-05,200,9200,{SITE},100,{T1},81111,+2025-05-30,1,320")
    reasons = files["kentaikyo-2025-06-not-eligible.csv"].decode("utf-8-sig")
    assert f"他の現場で充当済 ({SITE_B}),covered:{SITE_B}" in reasons
    assert "所属事業者なし,no_employer" in reasons


def test_the_workbook_has_the_report_the_prime_totals_and_the_reasons() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(render()["kentaikyo-2025-06.xlsx"]))
    assert workbook.sheetnames == ["就労実績報告", "元請一括", "対象外"]
    primes = list(workbook["元請一括"].iter_rows(min_row=2, values_only=True))
    assert primes == [("100", "200", "当月", "2025-06", 1, 320),
                      ("100", "200", "調整", "2025-05", 1, 320),
                      ("100", "合計", None, None, 2, 640)]
    assert workbook.properties.modified == datetime(2025, 7, 9, 19, 0, 0)


def test_files_are_written_once_and_an_issued_file_that_differs_is_never_overwritten(
    tmp_path: Path,
) -> None:
    files = render()
    digests = sha256_of(files)
    assert len(write_files(tmp_path, files, digests)) == 4
    assert write_files(tmp_path, files, digests) == []
    report = tmp_path / "kentaikyo-2025-06-work-report.csv"
    report.write_bytes(b"edited by hand")
    with pytest.raises(FileMismatch):
        write_files(tmp_path, files, digests)
    assert report.read_bytes() == b"edited by hand"
    with pytest.raises(FileMismatch):
        write_files(tmp_path / "other", files, {**digests, report.name: "0" * 64})
