"""建退共 monthly settlement on SQLite and PostgreSQL: points per worker-day, 元請一括, reasons for
non-eligible days, files with their SHA-256 in the event, issuing once, and late changes as
adjustments in the next settlement (never a rewrite)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement import KentaikyoSettlement, parties_from_lines, settlement_id
from ledger.errors import InvalidState
from ledger.settings import Settings
from projections.jobs import files as files_module
from projections.jobs.files import FileMismatch, content_sha256
from projections.jobs.kentaikyo import settle_kentaikyo
from projections.jobs.queries import kentaikyo_settlements
from tests.integration.jobs_world import (
    PRIME,
    SITE,
    SITE_B,
    STAMP_SITE,
    SUB,
    SUB2,
    T1,
    T2,
    T3,
    World,
    jst,
)

PRIME_STAFF = Actor(Role.PRIME_CONTRACTOR, PRIME)


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2024, 11, 1, 9),
                     opened_on=date(2024, 11, 1)) as built:
        yield built


def a_month_of_work(world: World, year: int, month: int) -> None:
    def day(number: int) -> date:
        return date(year, month, number)

    world.work(SITE, T1, day(2))
    world.work(SITE, T1, day(3))
    world.work(SITE_B, T1, day(4), 8, 12)  # earliest entry that day: SITE_B carries it
    world.work(SITE, T1, day(4), 13, 17)
    world.work(STAMP_SITE, T1, day(5))
    world.work(SITE, T2, day(2))  # SUB2, under SUB, under PRIME
    world.work(SITE, T3, day(2))  # not a Kentaikyo member


def settle(world: World, month: str, out: Path) -> dict[str, object]:
    return settle_kentaikyo(world.ledger, world.store, month, SYSTEM, out)


@dataclass(frozen=True)
class Issued:
    """A settlement as issued: its event's totals and file hashes, and the lines it names."""

    event: KentaikyoSettlement
    days: list[list[Any]]
    adjustments: list[list[Any]]
    parties: dict[str, dict[str, str]]

    @property
    def files(self) -> dict[str, str]:
        return self.event.files


def settlement(world: World, month: str) -> Issued:
    found = world.ledger.kentaikyo_settlement(month)
    assert isinstance(found, KentaikyoSettlement)
    lines = world.ledger.lines
    return Issued(found, list(lines.lines(found.day_lines)),
                  list(lines.lines(found.adjustment_lines)),
                  parties_from_lines(lines.lines(found.party_lines)))


def stored_state(world: World, month: str) -> bytes:
    """The settlement's event exactly as stored."""
    (stored,) = world.ledger.recorder.select_events(settlement_id(month))
    return bytes(stored.state)


def test_a_month_is_settled_per_worker_day_with_reasons_and_prime_totals(
    world: World, tmp_path: Path
) -> None:
    a_month_of_work(world, 2025, 6)
    world.clock.at = jst(2025, 7, 10, 4)

    counts = settle(world, "2025-06", tmp_path)

    assert counts["issued"] == 1 and counts["points_yen"] == 4 * 320
    issued = settlement(world, "2025-06")
    assert issued.days == [
        [T1, SUB, SITE, "2025-06-02", 320, "eligible"],
        [T1, SUB, SITE, "2025-06-03", 320, "eligible"],
        [T1, SUB, SITE, "2025-06-04", 0, f"covered:{SITE_B}"],
        [T1, SUB, SITE_B, "2025-06-04", 320, "eligible"],
        [T1, SUB, STAMP_SITE, "2025-06-05", 0, "stamp_site"],
        [T2, SUB2, SITE, "2025-06-02", 320, "eligible"],
        [T3, SUB, SITE, "2025-06-02", 0, "not_enrolled"],
    ]
    assert issued.adjustments == []
    assert issued.parties["contracts"][SUB2] == f"9{SUB2}"
    folder = tmp_path / "kentaikyo" / "2025-06"
    assert sorted(p.name for p in folder.iterdir()) == sorted(issued.files)
    for name, digest in issued.files.items():  # CSV: the bytes; workbook: its sheets' content
        assert content_sha256(name, (folder / name).read_bytes()) == digest
        if name.endswith(".csv"):
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    report = (folder / "kentaikyo-2025-06-work-report.csv").read_bytes()
    assert report.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert [(r[2], r[4], r[6], r[8], r[9], r[10]) for r in rows[1:]] == [
        (SUB, SITE, T1, "2025-06-02 2025-06-03", "2", "640"),
        (SUB, SITE_B, T1, "2025-06-04", "1", "320"),
        (SUB2, SITE, T2, "2025-06-02", "1", "320"),
    ]
    primes = list(csv.reader(io.StringIO(
        (folder / "kentaikyo-2025-06-prime-totals.csv").read_text("utf-8-sig"))))
    assert [r for r in primes[1:]] == [
        [PRIME, SUB, "当月", "2025-06", "3", "960"],
        [PRIME, SUB2, "当月", "2025-06", "1", "320"],
        [PRIME, "合計", "", "", "4", "1280"],
    ]
    workbook = openpyxl.load_workbook(folder / "kentaikyo-2025-06.xlsx", read_only=True)
    assert workbook.sheetnames == ["就労実績報告", "元請一括", "対象外"]
    not_eligible = [row[5] for row in workbook["対象外"].iter_rows(min_row=2, values_only=True)]
    assert sorted(not_eligible) == sorted(["他の現場で充当済 (10000000000002)",
                                           "証紙貼付方式の現場", "被共済者でない"])
    world.catch_up()
    assert [(s["month"], s["points_yen"], s["files"]) for s in kentaikyo_settlements(
        world.store)] == [("2025-06", 1280, issued.files)]


def test_settling_a_month_again_issues_nothing_and_rewrites_no_file(
    world: World, tmp_path: Path
) -> None:
    a_month_of_work(world, 2025, 6)
    world.clock.at = jst(2025, 7, 10, 4)
    settle(world, "2025-06", tmp_path)
    position, state = world.event_count(), stored_state(world, "2025-06")
    report = tmp_path / "kentaikyo" / "2025-06" / "kentaikyo-2025-06-work-report.csv"
    report.unlink()  # lost, e.g. a crash between the event and the files

    world.clock.at = jst(2025, 7, 11, 4)
    counts = settle(world, "2025-06", tmp_path)

    assert counts["issued"] == 0 and counts["files_written"] == 1
    assert world.event_count() == position
    assert stored_state(world, "2025-06") == state
    digest = settlement(world, "2025-06").files[report.name]
    assert hashlib.sha256(report.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(("year", "month", "next_month", "after"), [
    (2025, 6, "2025-07", "2025-08"),
    (2024, 12, "2025-01", "2025-02"),  # across the year end
])
def test_late_approvals_and_corrections_become_adjustments_in_the_next_settlement(
    world: World, tmp_path: Path, year: int, month: int, next_month: str, after: str
) -> None:
    settled = f"{year}-{month:02d}"
    a_month_of_work(world, year, month)
    first_of_next = date(year, month, 1) + timedelta(days=31)
    world.clock.at = jst(first_of_next.year, first_of_next.month, 10, 4)
    settle(world, settled, tmp_path)
    june_state = stored_state(world, settled)

    # After the settlement, within the deadline: T2's forgotten card on the 20th, approved; and
    # T1's entry at SITE on the 4th corrected to 07:00, before SITE_B's 08:00.
    world.clock.at = jst(first_of_next.year, first_of_next.month, 11, 9)
    entry = world.ledger.request_manual_entry(
        T2, SITE, date(year, month, 20), SUB2, "鉄筋", "一般", "配筋", Actor(Role.EMPLOYER, SUB2))
    correction = world.ledger.request_correction(
        T1, SITE, date(year, month, 4), SUB, {"entry_at": jst(year, month, 4, 7)},
        "the reader was down in the morning", Actor(Role.EMPLOYER, SUB))
    world.clock.at = jst(first_of_next.year, first_of_next.month, 12, 9)
    world.ledger.approve(entry, PRIME_STAFF)
    world.ledger.approve(correction, PRIME_STAFF)
    assert settle(world, settled, tmp_path)["issued"] == 0  # settled stays as issued

    second = date(year, month, 1) + timedelta(days=62)
    world.clock.at = jst(second.year, second.month, 10, 4)
    counts = settle(world, next_month, tmp_path)

    assert counts["issued"] == 1 and counts["adjustment_yen"] == 320
    def d(number: int) -> str:
        return date(year, month, number).isoformat()

    assert settlement(world, next_month).adjustments == [
        [settled, T1, SUB, SITE, d(4), 0, 320, f"covered:{SITE_B}", "eligible"],
        [settled, T1, SUB, SITE_B, d(4), 320, 0, "eligible", f"covered:{SITE}"],
        [settled, T2, SUB2, SITE, d(20), 0, 320, None, "eligible"],
    ]
    assert stored_state(world, settled) == june_state
    rows = list(csv.reader(io.StringIO((tmp_path / "kentaikyo" / next_month /
                                        f"kentaikyo-{next_month}-work-report.csv")
                                       .read_text("utf-8-sig"))))
    assert [(r[0], r[1], r[6], r[8], r[9], r[10]) for r in rows[1:]] == [
        ("調整", settled, T1, f"+{d(4)}", "1", "320"),
        ("調整", settled, T1, f"-{d(4)}", "-1", "-320"),
        ("調整", settled, T2, f"+{d(20)}", "1", "320"),
    ]

    third = second + timedelta(days=31)
    world.clock.at = jst(third.year, third.month, 10, 4)
    settle(world, after, tmp_path)
    assert settlement(world, after).adjustments == []  # adjusted once, not again


def test_the_daily_rate_follows_the_work_date_across_the_2021_10_01_change(
    ledger: Ledger, settings: Settings, now: FixedClock, tmp_path: Path
) -> None:
    with World.built(ledger, settings, now, at=jst(2021, 9, 1, 9),
                     opened_on=date(2021, 9, 1)) as world:
        world.work(SITE, T1, date(2021, 9, 30))
        world.work(SITE, T1, date(2021, 10, 1))
        world.clock.at = jst(2021, 10, 10, 4)
        settle(world, "2021-09", tmp_path)
        world.clock.at = jst(2021, 11, 10, 4)
        settle(world, "2021-10", tmp_path)
        assert settlement(world, "2021-09").days == [
            [T1, SUB, SITE, "2021-09-30", 310, "eligible"]]
        assert settlement(world, "2021-10").days == [
            [T1, SUB, SITE, "2021-10-01", 320, "eligible"]]


def test_a_month_not_over_cannot_be_settled(world: World, tmp_path: Path) -> None:
    world.clock.at = jst(2025, 6, 30, 23, 59)
    with pytest.raises(InvalidState) as refused:
        settle(world, "2025-06", tmp_path)
    assert refused.value.rule == "month.not_over"
    assert not (tmp_path / "kentaikyo").exists()


def test_a_renderer_giving_other_bytes_for_the_same_content_leaves_the_month_settleable(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issued files are facts: a new openpyxl zipping differently neither fails a re-run nor
    rewrites a file issued already; a lost file is written again and matches by content."""
    a_month_of_work(world, 2025, 6)
    world.clock.at = jst(2025, 7, 10, 4)
    settle(world, "2025-06", tmp_path)
    folder = tmp_path / "kentaikyo" / "2025-06"
    workbook, report = folder / "kentaikyo-2025-06.xlsx", (
        folder / "kentaikyo-2025-06-work-report.csv")
    issued_bytes = workbook.read_bytes()

    def other_zip(source_path: Path, target_path: Path, stamp: object) -> None:
        with zipfile.ZipFile(source_path) as source, \
                zipfile.ZipFile(target_path, "w", zipfile.ZIP_STORED) as target:
            for info in reversed(source.infolist()):  # other order, no compression
                target.writestr(info.filename, source.read(info.filename))

    monkeypatch.setattr(files_module, "_fixed_zip_times", other_zip)
    world.clock.at = jst(2025, 7, 11, 4)
    assert settle(world, "2025-06", tmp_path)["files_written"] == 0
    assert workbook.read_bytes() == issued_bytes  # kept as issued

    workbook.unlink()
    assert settle(world, "2025-06", tmp_path)["files_written"] == 1
    assert workbook.read_bytes() != issued_bytes
    digest = settlement(world, "2025-06").files[workbook.name]
    assert content_sha256(workbook.name, workbook.read_bytes()) == digest

    report.write_bytes("区分\r\n".encode("utf-8-sig"))  # content that was never issued
    with pytest.raises(FileMismatch):
        settle(world, "2025-06", tmp_path)
    assert report.read_bytes() == "区分\r\n".encode("utf-8-sig")
