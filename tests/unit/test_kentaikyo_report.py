"""建退共 monthly report, scenario by scenario: rate change, one day one contribution, eligibility,
元請一括 totals and the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

import pytest

from ledger.clock import JST
from ledger.domain.site import KentaikyoMethod
from projections.kentaikyo import (
    AlreadyCovered,
    DuplicateWorkRecord,
    Eligible,
    Ineligibility,
    InvalidMonth,
    InvalidStructure,
    MonthReport,
    NaiveEntryTime,
    ReportLine,
    SiteInfo,
    Total,
    UnknownSite,
    carriers,
    month_bounds,
    month_report,
)
from projections.records import RecordSource, RecordStatus, WorkRecord

TANAKA = "10000000000001"  # enrolled since 2020
SATO = "10000000000002"  # enrolled 2021-10-15, mid-month
SUZUKI = "10000000000003"  # never enrolled

PRIME = "100"  # 元請 of SITE_A, SITE_B and the stamp site
SUB1 = "210"  # tier 1 under PRIME; also tier 1 under OTHER_PRIME
SUB2 = "320"  # tier 2 under SUB1
LATE = "330"  # tier 2, a 共済契約者 only from 2021-10-20
NONMEMBER = "340"  # tier 2, never a 共済契約者
OTHER_PRIME = "900"

SITE_A = "20000000000001"
SITE_B = "20000000000002"
STAMP = "20000000000003"
OTHER = "20000000000009"  # OTHER_PRIME's site

TREE = {SUB1: PRIME, SUB2: SUB1, LATE: SUB1, NONMEMBER: SUB1}
SITES = {
    SITE_A: SiteInfo.from_parents(SITE_A, PRIME, KentaikyoMethod.ELECTRONIC, TREE),
    SITE_B: SiteInfo.from_parents(SITE_B, PRIME, KentaikyoMethod.ELECTRONIC, TREE),
    STAMP: SiteInfo.from_parents(STAMP, PRIME, KentaikyoMethod.STAMP, TREE),
    OTHER: SiteInfo.from_parents(OTHER, OTHER_PRIME, KentaikyoMethod.ELECTRONIC,
                                 {SUB1: OTHER_PRIME}),
}
WORKERS: dict[str, date | None] = {
    TANAKA: date(2020, 1, 1), SATO: date(2021, 10, 15), SUZUKI: None,
}
EMPLOYERS: dict[str, date | None] = {
    PRIME: date(2019, 4, 1), SUB1: date(2019, 4, 1), SUB2: date(2019, 4, 1),
    LATE: date(2021, 10, 20), NONMEMBER: None, OTHER_PRIME: date(2019, 4, 1),
}

_positions = iter(range(1000, 100000))


def record(
    day: str, site: str = SITE_A, worker: str = TANAKA, employer: str | None = SUB1,
    entry: str | None = "08:00", status: RecordStatus = RecordStatus.COUNTED,
) -> WorkRecord:
    work_date = date.fromisoformat(day)
    first_entry = None if entry is None else datetime.combine(
        work_date, time.fromisoformat(entry), JST
    )
    return WorkRecord(
        technician_id=worker, site_id=site, work_date=work_date, employer_business_id=employer,
        trade="鉄筋", position="一般", work_content=None, first_entry=first_entry,
        last_exit=None, source=RecordSource.CARD, status=status,
        event_positions=(next(_positions),),
    )


def report(records: list[WorkRecord], month: str) -> MonthReport:
    return month_report(records, WORKERS, EMPLOYERS, SITES, month)


def line(result: MonthReport, site: str, worker: str = TANAKA,
         employer: str | None = SUB1) -> ReportLine:
    (found,) = [
        ln for ln in result.lines
        if (ln.site_id, ln.technician_id, ln.employer_business_id) == (site, worker, employer)
    ]
    return found


def d(text: str) -> date:
    return date.fromisoformat(text)


class TestRateChange:
    RECORDS = (record("2021-09-29"), record("2021-09-30"), record("2021-10-01"),
               record("2021-10-04"))

    def test_september_days_are_paid_at_310(self) -> None:
        sept = line(report(list(self.RECORDS), "2021-09"), SITE_A)
        assert (sept.eligible_dates, sept.points_yen) == ((d("2021-09-29"), d("2021-09-30")), 620)

    def test_october_days_are_paid_at_320(self) -> None:
        october = line(report(list(self.RECORDS), "2021-10"), SITE_A)
        assert (october.eligible_dates, october.points_yen) == (
            (d("2021-10-01"), d("2021-10-04")), 640)

    def test_points_are_exact_ints(self) -> None:
        result = report(list(self.RECORDS), "2021-10")
        assert type(result.points_yen) is int
        assert type(result.employer_totals[SUB1].points_yen) is int
        assert all(type(day.points_yen) is int
                   for day in line(result, SITE_A).days if isinstance(day, Eligible))


class TestOneDayOneContribution:
    def test_two_sites_on_one_day_pay_once_the_earliest_entry_carries(self) -> None:
        result = report([record("2021-10-05", SITE_A, entry="13:00"),
                         record("2021-10-05", SITE_B, entry="07:30")], "2021-10")
        assert line(result, SITE_B).points_yen == 320
        covered = line(result, SITE_A)
        assert covered.points_yen == 0
        assert [(c.work_date, c.carrying_site_id) for c in covered.already_covered] == [
            (d("2021-10-05"), SITE_B)]
        assert result.points_yen == 320

    def test_equal_entry_times_go_to_the_lower_site_id(self) -> None:
        result = report([record("2021-10-05", SITE_B), record("2021-10-05", SITE_A)], "2021-10")
        assert line(result, SITE_A).points_yen == 320
        assert line(result, SITE_B).already_covered[0].carrying_site_id == SITE_A

    def test_a_timed_entry_precedes_a_manual_entry_without_time(self) -> None:
        untimed = record("2021-10-05", SITE_A, entry=None)
        result = report([untimed, record("2021-10-05", SITE_B, entry="23:00")], "2021-10")
        assert line(result, SITE_B).points_yen == 320
        assert line(result, SITE_A).already_covered[0].carrying_site_id == SITE_B

    def test_two_untimed_records_go_to_the_lower_site_id(self) -> None:
        result = report([record("2021-10-05", SITE_B, entry=None),
                         record("2021-10-05", SITE_A, entry=None)], "2021-10")
        assert (line(result, SITE_A).points_yen, line(result, SITE_B).points_yen) == (320, 0)

    def test_the_carrier_does_not_depend_on_input_order(self) -> None:
        records = [record("2021-10-05", SITE_B, entry="07:00"),
                   record("2021-10-05", OTHER, entry="07:00"),
                   record("2021-10-05", SITE_A, entry="09:00")]
        assert report(records, "2021-10") == report(records[::-1], "2021-10")
        assert carriers(records)[(TANAKA, d("2021-10-05"))].site_id == SITE_B

    def test_an_earlier_entry_in_another_time_zone_is_compared_as_an_instant(self) -> None:
        utc_record = replace(record("2021-10-05", SITE_B),
                             first_entry=datetime.fromisoformat("2021-10-04T22:30:00+00:00"))
        result = report([record("2021-10-05", SITE_A, entry="08:00"), utc_record], "2021-10")
        assert line(result, SITE_B).points_yen == 320  # 07:30 JST

    def test_a_pending_record_never_carries_even_if_earlier(self) -> None:
        pending = record("2021-10-05", SITE_A, entry="06:00", status=RecordStatus.PENDING)
        result = report([pending, record("2021-10-05", SITE_B, entry="09:00")], "2021-10")
        assert [ln.site_id for ln in result.lines] == [SITE_B]
        assert line(result, SITE_B).points_yen == 320

    def test_carriers_alone_skip_records_not_counted(self) -> None:
        rejected = record("2021-10-05", SITE_A, entry="06:00", status=RecordStatus.REJECTED)
        counted = record("2021-10-05", SITE_B, entry="09:00")
        assert carriers([rejected, counted]) == {(TANAKA, d("2021-10-05")): counted}
        assert carriers([rejected]) == {}

    def test_two_counted_records_for_one_site_and_day_are_refused(self) -> None:
        with pytest.raises(DuplicateWorkRecord, match=SITE_A):
            report([record("2021-10-05"), record("2021-10-05", entry="09:00")], "2021-10")

    def test_a_naive_entry_time_is_refused(self) -> None:
        naive = replace(record("2021-10-05"), first_entry=datetime(2021, 10, 5, 8, 0))
        with pytest.raises(NaiveEntryTime):
            report([naive, record("2021-10-05", SITE_B)], "2021-10")


class TestWorkerEnrollment:
    def test_a_worker_not_enrolled_has_every_day_not_eligible(self) -> None:
        result = report([record("2021-10-05", SITE_A, SUZUKI),
                         record("2021-10-05", SITE_B, SUZUKI, entry="09:00"),
                         record("2021-10-06", SITE_A, SUZUKI)], "2021-10")
        on_a, on_b = line(result, SITE_A, SUZUKI), line(result, SITE_B, SUZUKI)
        assert [(n.work_date, n.reason) for n in on_a.not_eligible] == [
            (d("2021-10-05"), Ineligibility.NOT_ENROLLED),
            (d("2021-10-06"), Ineligibility.NOT_ENROLLED)]
        # Not "already covered": nobody pays a non-member's day.
        assert [n.reason for n in on_b.not_eligible] == [Ineligibility.NOT_ENROLLED]
        assert result.points_yen == 0

    def test_a_worker_absent_from_the_enrollment_map_is_not_enrolled(self) -> None:
        stranger = "10000000000099"
        result = report([record("2021-10-05", worker=stranger)], "2021-10")
        assert line(result, SITE_A, stranger).not_eligible[0].reason is Ineligibility.NOT_ENROLLED

    def test_enrollment_mid_month_pays_from_the_enrollment_date(self) -> None:
        days = ["2021-10-13", "2021-10-14", "2021-10-15", "2021-10-16"]
        result = report([record(day, worker=SATO) for day in days], "2021-10")
        sato = line(result, SITE_A, SATO)
        assert sato.eligible_dates == (d("2021-10-15"), d("2021-10-16"))
        assert [(n.work_date, n.reason) for n in sato.not_eligible] == [
            (d("2021-10-13"), Ineligibility.BEFORE_ENROLLMENT),
            (d("2021-10-14"), Ineligibility.BEFORE_ENROLLMENT)]
        assert sato.points_yen == 640


class TestStampSites:
    def test_a_stamp_site_earns_no_points(self) -> None:
        result = report([record("2021-10-05", STAMP)], "2021-10")
        stamp = line(result, STAMP)
        assert (stamp.points_yen, stamp.not_eligible[0].reason) == (0, Ineligibility.STAMP_SITE)

    def test_a_day_carried_by_a_stamp_site_is_covered_so_a_later_electronic_site_does_not_pay(
        self,
    ) -> None:
        result = report([record("2021-10-05", STAMP, entry="07:00"),
                         record("2021-10-05", SITE_A, entry="13:00")], "2021-10")
        electronic = line(result, SITE_A)
        assert electronic.points_yen == 0
        assert electronic.already_covered[0].carrying_site_id == STAMP
        assert result.points_yen == 0

    def test_an_earlier_electronic_entry_pays_and_the_stamp_site_shows_covered(self) -> None:
        result = report([record("2021-10-05", STAMP, entry="13:00"),
                         record("2021-10-05", SITE_A, entry="07:00")], "2021-10")
        assert line(result, SITE_A).points_yen == 320
        assert line(result, STAMP).already_covered[0].carrying_site_id == SITE_A


class TestContractingEmployer:
    def test_an_employer_never_enrolled_makes_the_day_not_eligible(self) -> None:
        result = report([record("2021-10-05", employer=NONMEMBER)], "2021-10")
        nonmember = line(result, SITE_A, employer=NONMEMBER)
        assert (nonmember.points_yen, nonmember.not_eligible[0].reason) == (
            0, Ineligibility.EMPLOYER_NOT_ENROLLED)

    def test_an_employer_enrolled_mid_month_pays_from_its_date(self) -> None:
        result = report([record("2021-10-19", employer=LATE), record("2021-10-20", employer=LATE)],
                        "2021-10")
        late = line(result, SITE_A, employer=LATE)
        assert late.eligible_dates == (d("2021-10-20"),)
        assert [(n.work_date, n.reason) for n in late.not_eligible] == [
            (d("2021-10-19"), Ineligibility.EMPLOYER_NOT_ENROLLED)]

    def test_an_unenrolled_carrier_leaves_the_day_unpaid_rather_than_passing_it_on(self) -> None:
        result = report([record("2021-10-05", SITE_A, employer=NONMEMBER, entry="07:00"),
                         record("2021-10-05", SITE_B, employer=SUB1, entry="09:00")], "2021-10")
        assert line(result, SITE_B).already_covered[0].carrying_site_id == SITE_A
        assert result.points_yen == 0

    def test_a_record_without_employer_is_not_eligible(self) -> None:
        result = report([record("2021-10-05", employer=None)], "2021-10")
        assert line(result, SITE_A, employer=None).not_eligible[0].reason is (
            Ineligibility.NO_EMPLOYER)
        assert None not in result.employer_totals

    def test_an_employer_missing_from_the_site_structure_is_not_eligible(self) -> None:
        result = report([record("2021-10-05", OTHER, employer=SUB2)], "2021-10")
        assert line(result, OTHER, employer=SUB2).not_eligible[0].reason is (
            Ineligibility.EMPLOYER_NOT_ON_SITE)


class TestStatuses:
    @pytest.mark.parametrize("status", [
        RecordStatus.PENDING, RecordStatus.REJECTED, RecordStatus.EXPIRED])
    def test_records_not_counted_are_ignored_entirely(self, status: RecordStatus) -> None:
        result = report([record("2021-10-05", status=status), record("2021-10-06")], "2021-10")
        assert [day.work_date for day in line(result, SITE_A).days] == [d("2021-10-06")]
        assert result.points_yen == 320

    def test_a_record_for_a_site_without_site_info_is_refused(self) -> None:
        with pytest.raises(UnknownSite, match="20000000000077"):
            report([record("2021-10-05", "20000000000077")], "2021-10")


class TestTotals:
    RECORDS = (
        record("2021-10-05", SITE_A, TANAKA, SUB1),
        record("2021-10-05", SITE_A, SATO, SUB2),  # before SATO's enrollment: 0
        record("2021-10-18", SITE_A, SATO, SUB2),
        record("2021-10-19", SITE_B, SATO, SUB2),
        record("2021-10-06", SITE_A, "10000000000004", PRIME),
        record("2021-10-07", OTHER, TANAKA, SUB1),  # OTHER_PRIME's site
    )

    def result(self) -> MonthReport:
        workers = {**WORKERS, "10000000000004": date(2020, 1, 1)}
        return month_report(self.RECORDS, workers, EMPLOYERS, SITES, "2021-10")

    def test_a_prime_pays_for_its_subcontractors_workers_on_its_sites(self) -> None:
        prime = self.result().prime_totals[PRIME]
        assert prime.total == Total(eligible_days=4, points_yen=1280)
        assert dict(prime.by_employer) == {
            SUB1: Total(1, 320), SUB2: Total(2, 640), PRIME: Total(1, 320)}

    def test_another_primes_site_is_not_in_the_prime_total(self) -> None:
        totals = self.result().prime_totals
        assert totals[OTHER_PRIME].total == Total(1, 320)
        assert dict(totals[OTHER_PRIME].by_employer) == {SUB1: Total(1, 320)}

    def test_an_employer_total_covers_its_own_workers_on_every_primes_site(self) -> None:
        totals = self.result().employer_totals
        assert totals[SUB1] == Total(2, 640)
        assert totals[SUB2] == Total(2, 640)

    def test_totals_add_up_to_the_lines(self) -> None:
        result = self.result()
        assert result.points_yen == 1600
        assert sum(t.total.points_yen for t in result.prime_totals.values()) == 1600
        assert sum(t.points_yen for t in result.employer_totals.values()) == 1600

    def test_a_line_names_the_chain_above_its_employer(self) -> None:
        result = self.result()
        assert line(result, SITE_A, SATO, SUB2).upper_chain == (SUB1, PRIME)
        assert line(result, OTHER, TANAKA, SUB1).upper_chain == (OTHER_PRIME,)


class TestAuditTrail:
    def test_a_line_keeps_the_event_positions_of_its_records(self) -> None:
        records = [record("2021-10-05"), record("2021-10-06")]
        expected = tuple(sorted(p for r in records for p in r.event_positions))
        assert line(report(records, "2021-10"), SITE_A).event_positions == expected

    def test_a_covered_day_points_at_the_carrying_records_events(self) -> None:
        carrier = record("2021-10-05", SITE_B, entry="07:00")
        covered = record("2021-10-05", SITE_A, entry="08:00")
        (day,) = line(report([carrier, covered], "2021-10"), SITE_A).days
        assert day == AlreadyCovered(d("2021-10-05"), SITE_B, covered.event_positions,
                                     carrier.event_positions)


class TestMonths:
    def test_month_bounds_are_calendar_days(self) -> None:
        assert month_bounds("2024-02") == (d("2024-02-01"), d("2024-02-29"))

    @pytest.mark.parametrize("month", ["2021-13", "2021-1", "2021/10", "2021-10-01", ""])
    def test_a_malformed_month_is_refused(self, month: str) -> None:
        with pytest.raises(InvalidMonth):
            report([], month)

    def test_the_report_is_due_by_the_end_of_the_following_month(self) -> None:
        assert report([], "2021-09").due_on == d("2021-10-31")
        assert report([], "2021-12").due_on == d("2022-01-31")


class TestSiteStructure:
    def test_chains_are_built_from_parents_nearest_first(self) -> None:
        assert SITES[SITE_A].upper_chain[SUB2] == (SUB1, PRIME)
        assert SITES[SITE_A].upper_chain[PRIME] == ()

    @pytest.mark.parametrize("parents", [
        {SUB1: SUB2, SUB2: SUB1},  # cycle
        {SUB2: "777"},  # parent not on the structure
        {PRIME: SUB1, SUB1: PRIME},  # the prime under someone
    ])
    def test_a_structure_that_is_not_a_tree_under_the_prime_is_refused(
        self, parents: dict[str, str],
    ) -> None:
        with pytest.raises(InvalidStructure):
            SiteInfo.from_parents(SITE_A, PRIME, KentaikyoMethod.ELECTRONIC, parents)

    def test_chains_that_disagree_with_each_other_are_refused(self) -> None:
        with pytest.raises(InvalidStructure, match="disagrees"):
            SiteInfo(SITE_A, PRIME, KentaikyoMethod.ELECTRONIC,
                     {PRIME: (), SUB1: (PRIME,), SUB2: (SUB1, OTHER_PRIME, PRIME)})
