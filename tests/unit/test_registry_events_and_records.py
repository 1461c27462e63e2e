"""Every domain event, classified by what it does to work records that are already stored.

A work record must come out the same from the live projection and from a replay, whatever the
batches. An event that changes a stored record's inputs by *date* (an employment's period) must
make the projection derive the worker's records again (`DATED_REGISTRY_EVENTS`); the others are
judged by log position or never read by a record. A new event class fails here until someone
decides which it is.
"""

from __future__ import annotations

from ledger.domain.business import Business
from ledger.domain.kentaikyo_account import KentaikyoAccount
from ledger.domain.phone import PhoneDevice, PhoneTap, SiteArea
from ledger.domain.registry import Card, Reader
from ledger.domain.requests import ApprovableRequest, Correction, ManualEntry
from ledger.domain.settlement import (
    DailySeal,
    DayClose,
    KentaikyoSettlement,
    SealKeys,
    SiteFeeAccount,
)
from ledger.domain.site import Site
from ledger.domain.taps import Tap
from ledger.domain.worker import Worker
from ledger.domain.working_time import OvertimeAgreement, SiteTerms, WorkingTimeMonth
from projections.work_records import DATED_REGISTRY_EVENTS
from tests.unit.domain_events import domain_event_classes

# By work date: a stored record's employer comes from the employments covering its date.
# A confirmed employment request starts an employment exactly as EmploymentStarted does.
BY_DATE = {Worker.EmploymentStarted, Worker.EmploymentConfirmed, Worker.EmploymentEnded}
# By log position: a record reads them as they were at its first tap, so a later event never
# changes a stored record (and the worker's kept facts are dropped when they change).
BY_POSITION = {
    Site.RosterEntrySet,
    Card.Issued,
    Card.Revoked,
    Reader.Registered,
    Reader.Retired,
    # 入場時の確認: a tap's entry flags (kept with its record) read what was stored before it.
    Site.EntryChecksRequired,
    Site.QualificationRequired,
    Site.QualificationWithdrawn,
    Site.WorkAreaAssigned,
    Worker.SocialInsuranceRecorded,
    Worker.SocialInsuranceConfirmed,
    Worker.QualificationAdded,
    Worker.QualificationExpirySet,
}
# A record's own inputs: the records around their date are rebuilt in the batch they come in.
OWN_INPUTS = {
    Tap.Recorded,
    ManualEntry.Requested,
    Correction.Requested,
    ApprovableRequest.Approved,
    ApprovableRequest.Rejected,
    ApprovableRequest.Expired,
    ManualEntry.Approved,
    ManualEntry.Rejected,
    ManualEntry.Expired,
    Correction.Approved,
    Correction.Rejected,
    Correction.Expired,
    # A decision on an unknown card gives the worker the card's flagged taps at the site logged
    # before it (by position); their dates are rebuilt in the batch the decision comes in.
    Site.UnknownCardAssigned,
    # A phone's tap (スマホ入場) is a tap like a card's.
    PhoneTap.Recorded,
}
# Never read by a work record: levels, Kentaikyo, privacy and the jobs read them at query time.
NOT_READ_BY_RECORDS = {
    # A resend with other content is listed in the site's exceptions only, never counted.
    Tap.ConflictingObservation,
    Business.Registered,
    Business.KentaikyoEnrolled,
    Worker.Registered,
    Worker.KentaikyoEnrolled,
    Worker.ForemanTrainingCompleted,
    Worker.CareerCertified,
    Worker.CareerCertificateProposed,
    Worker.CareerCertificateConfirmed,
    Worker.CareerCertificateDeclined,
    # A request makes no employment until it is confirmed (BY_DATE above).
    Worker.EmploymentRequested,
    Worker.EmploymentDeclined,
    Site.Opened,
    Site.SubcontractAdded,
    Site.Closed,
    # The staff's statement of a missing exit: listed beside the record, which keeps its taps.
    Site.MissingExitResolved,
    DayClose.Closed,
    KentaikyoSettlement.Issued,
    SiteFeeAccount.Opened,
    SiteFeeAccount.MonthBilled,
    DailySeal.Sealed,
    SealKeys.Started,
    SealKeys.Rotated,
    # A training site's fee is the business office's: the fee job reads it, not a record.
    Site.TrainingInstitutionDeclared,
    KentaikyoAccount.Opened,
    KentaikyoAccount.PointsPurchased,
    KentaikyoAccount.PointsUsed,
    KentaikyoAccount.RebateCredited,
    KentaikyoAccount.WagePaymentDateSet,
    # Working time: what employers report and the site's terms; read at query time beside the
    # records (projections/queries/working_time.py), never an input of one.
    WorkingTimeMonth.Started,
    WorkingTimeMonth.DayReported,
    WorkingTimeMonth.MonthReported,
    OvertimeAgreement.Started,
    OvertimeAgreement.Concluded,
    OvertimeAgreement.DisasterWorkDeclared,
    OvertimeAgreement.DisasterWorkWithdrawn,
    SiteTerms.Started,
    SiteTerms.OrdererNamed,
    SiteTerms.PeriodExcluded,
    SiteTerms.ExclusionWithdrawn,
    SiteTerms.ShiftsSet,
    # Phone entry: the area and the passkey are checked when a phone tap is recorded, and what
    # they said is stored in the tap's event (its flags), so a later change reads nothing back.
    SiteArea.Started,
    SiteArea.Set,
    PhoneDevice.Registered,
    PhoneDevice.Revoked,
}


def test_every_domain_event_is_classified_once() -> None:
    groups = (BY_DATE, BY_POSITION, OWN_INPUTS, NOT_READ_BY_RECORDS)
    classified = [name for group in groups for name in group]
    assert len(classified) == len(set(classified)), "an event is in two groups"
    assert domain_event_classes() == set(classified)


def test_the_projection_derives_records_again_for_exactly_the_events_read_by_date() -> None:
    assert DATED_REGISTRY_EVENTS == BY_DATE
