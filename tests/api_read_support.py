"""Support for the read API's tests: a world with two primes, two sites and one worker who worked
at both, the catalogue of read endpoints with who may call each, and the check that no answer
holds a record its caller may not see.

The world (all through the Ledger, not the API under test), with the clock at 2025-06-20 10:00 JST:

    site_a (prime_a, electronic)          site_b (prime_b, electronic)
      prime_a ── sub_a ── lower_a           prime_b ── sub_b
      worker   (sub_a)  06-16 in/out        worker   (sub_b) 06-17 in/out, on site now
      lower_worker (lower_a) 06-16 in only, on site now        other_worker (sub_b) 06-17 in/out
      an unknown card tapped 06-16          a pending manual entry of worker's for 06-18
      a pending manual entry of worker's for 06-18

`worker` is employed by sub_a (primary) and sub_b, enrolled in Kentaikyo, as are sub_a and sub_b.
A reader registered to no site ("ghost") sent a tap through an admin. orderer_a orders site_a
(which works rotating shifts), orderer_b site_b (発注者, named by each prime).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from api.config import ApiSettings
from api.main import create_app
from api.replay_jobs import ReplayJobs, ReplayRequest
from ledger import clock
from ledger.actors import SYSTEM, Actor, Role, Scope
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.worker import CertificateClaim, CertifierRelation
from ledger.settings import Settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from ledger.tap_records import observation_from_mapping
from projections.jobs.seal import seal_days
from projections.store import ReadStore
from tests import pg
from tests.api_support import ADMIN, AUDITOR, ROLES, Api

D1, D2, D0 = date(2025, 6, 16), date(2025, 6, 17), date(2025, 6, 18)
TODAY = date(2025, 6, 20)
MONTH = "2025-06"
RANGE = {"date_from": "2025-06-01", "date_to": "2025-06-30"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)


@dataclass(frozen=True)
class ReadWorld:
    k: int
    prime_a: str
    prime_b: str
    sub_a: str
    lower_a: str
    sub_b: str
    worker: str
    lower_worker: str
    other_worker: str
    site_a: str
    site_b: str
    reader_a: str
    reader_b: str
    entries: tuple[UUID, ...] = field(default=())

    @classmethod
    def numbered(cls, k: int) -> ReadWorld:
        return cls(
            k=k, prime_a=f"{k}100", prime_b=f"{k}300", sub_a=f"{k}200", lower_a=f"{k}210",
            sub_b=f"{k}400", worker=f"{k:04d}1234567890", lower_worker=f"{k:04d}3333333333",
            other_worker=f"{k:04d}2222222222", site_a=f"{k:04d}1000000001",
            site_b=f"{k:04d}1000000002", reader_a=f"GATEA{k}", reader_b=f"GATEB{k}",
        )

    def actors(self) -> dict[str, Actor | None]:
        """The roles of the matrix: "own" is site_a's side, "other" site_b's."""
        return {
            "reader": Actor(Role.READER, self.reader_a),
            "prime_own": Actor(Role.PRIME_CONTRACTOR, self.prime_a),
            "prime_other": Actor(Role.PRIME_CONTRACTOR, self.prime_b),
            "employer_own": Actor(Role.EMPLOYER, self.sub_a),
            "employer_other": Actor(Role.EMPLOYER, self.sub_b),
            "worker_self": Actor(Role.WORKER, self.worker),
            "worker_other": Actor(Role.WORKER, self.other_worker),
            "auditor": AUDITOR,
            "admin": ADMIN,
            "no_token": None,
            # Roles as CCUS has them: a prime's 現場管理者 of one site, a 管理者 of sub_a scoped
            # to site_a, a 管理者 of sub_b scoped to other_worker (who sub_b shares `worker` with).
            "site_manager_own": Actor(Role.SITE_MANAGER, self.prime_a,
                                      Scope(sites=frozenset({self.site_a}))),
            "site_manager_other": Actor(Role.SITE_MANAGER, self.prime_b,
                                        Scope(sites=frozenset({self.site_b}))),
            "employer_own_sites": Actor(Role.EMPLOYER, self.sub_a,
                                        Scope(sites=frozenset({self.site_a}))),
            "employer_other_workers": Actor(Role.EMPLOYER, self.sub_b,
                                            Scope(workers=frozenset({self.other_worker}))),
            # 発注者 of site_a and of site_b: aggregates of its own site, no personal data.
            "orderer_own": Actor(Role.ORDERER, self.orderer_a),
            "orderer_other": Actor(Role.ORDERER, self.orderer_b),
        }

    @property
    def orderer_a(self) -> str:
        return f"{self.k}600"

    @property
    def orderer_b(self) -> str:
        return f"{self.k}700"

    def card(self, technician_id: str) -> str:
        return f"0C{technician_id[-6:]}"

    def sites_of(self, business_id: str) -> set[str]:
        return {self.prime_a: {self.site_a}, self.prime_b: {self.site_b},
                self.orderer_a: {self.site_a}, self.orderer_b: {self.site_b}}.get(
                    business_id, set())

    def below(self, business_id: str) -> set[str]:
        """The business and the tiers under it, on any site of this world."""
        return {self.sub_a: {self.sub_a, self.lower_a}}.get(business_id, {business_id})


def build_read_world(ledger: Ledger, k: int = 1) -> ReadWorld:
    w = ReadWorld.numbered(k)
    staff_a, staff_b = Actor(Role.PRIME_CONTRACTOR, w.prime_a), Actor(Role.PRIME_CONTRACTOR,
                                                                     w.prime_b)
    for business in (w.prime_a, w.prime_b, w.sub_a, w.lower_a, w.sub_b):
        ledger.register_business(business, f"会社{business}", ADMIN)
        ledger.enroll_business_in_kentaikyo(business, f"9{business}", date(2025, 1, 1), ADMIN)
    for technician, name, employers in ((w.worker, "山田 太郎", (w.sub_a, w.sub_b)),
                                        (w.lower_worker, "鈴木 次郎", (w.lower_a,)),
                                        (w.other_worker, "佐藤 花子", (w.sub_b,))):
        ledger.register_worker(technician, name, ADMIN)
        for n, employer in enumerate(employers):
            ledger.join_employer(technician, employer, date(2020, 4, 1), n == 0, ADMIN)
        ledger.enroll_worker_in_kentaikyo(technician, f"7{technician[-6:]}", date(2025, 4, 1),
                                          ADMIN)
        ledger.issue_card(w.card(technician), technician, ADMIN)
    ledger.add_qualification(w.worker, "玉掛技能講習", date(2019, 5, 1), ADMIN)
    for site, prime, staff, reader in ((w.site_a, w.prime_a, staff_a, w.reader_a),
                                       (w.site_b, w.prime_b, staff_b, w.reader_b)):
        ledger.open_site(site, f"現場{site[-1]}", prime, "electronic", date(2024, 1, 9), ADMIN)
        ledger.register_reader(reader, site, "auto", staff)
    for orderer, site, staff in ((w.orderer_a, w.site_a, staff_a),
                                 (w.orderer_b, w.site_b, staff_b)):
        ledger.register_business(orderer, f"発注者{orderer}", ADMIN)
        ledger.name_site_orderer(site, orderer, staff)
    ledger.set_rotating_shifts(w.site_a, True, staff_a)
    ledger.add_subcontract(w.site_a, w.sub_a, w.prime_a, staff_a)
    ledger.add_subcontract(w.site_a, w.lower_a, w.sub_a, staff_a)
    ledger.add_subcontract(w.site_b, w.sub_b, w.prime_b, staff_b)
    for site, technician, employer, staff in (
            (w.site_a, w.worker, w.sub_a, staff_a), (w.site_a, w.lower_worker, w.lower_a, staff_a),
            (w.site_b, w.worker, w.sub_b, staff_b), (w.site_b, w.other_worker, w.sub_b, staff_b)):
        ledger.set_roster_entry(site, technician, employer, "鉄筋", "一般", date(2024, 1, 9), staff)
    _tap(ledger, w, [
        (w.reader_a, w.worker, "in", at(D1, 8)), (w.reader_a, w.worker, "out", at(D1, 17)),
        (w.reader_a, w.lower_worker, "in", at(D1, 8, 5)),
        (w.reader_a, None, "in", at(D1, 8, 30)),  # a card nobody was issued
        (w.reader_a, w.lower_worker, "in", at(TODAY, 7, 50)),
        (w.reader_b, w.worker, "in", at(D2, 8)), (w.reader_b, w.worker, "out", at(D2, 17)),
        (w.reader_b, w.other_worker, "in", at(D2, 8, 10)),
        (w.reader_b, w.other_worker, "out", at(D2, 17, 10)),
        (w.reader_b, w.worker, "in", at(TODAY, 7, 55)),
    ])
    ghost = observation_from_mapping({"tap_id": f"GHOST{k}:1", "reader_id": f"GHOST{k}",
                                      "direction": "in", "reader_time": at(D1, 9).isoformat(),
                                      "card_id": "0CFFFFFF"})
    ledger.record_taps([ghost], ADMIN)
    me = Actor(Role.WORKER, w.worker)
    entries = tuple(
        ledger.request_manual_entry(w.worker, site, D0, employer, "鉄筋", "一般", "配筋", me,
                                    entry_at=at(D0, 8), exit_at=at(D0, 17))
        for site, employer in ((w.site_a, w.sub_a), (w.site_b, w.sub_b)))
    # claims that wait for a worker's consent, and answered ones: sub_a claims other_worker
    # (pending); sub_b claimed lower_worker, who declined; prime_a proposes a certificate for
    # worker (pending); prime_b proposed one for other_worker, who declined
    ledger.join_employer(w.other_worker, w.sub_a, date(2025, 6, 1), False,
                         Actor(Role.EMPLOYER, w.sub_a))
    ledger.join_employer(w.lower_worker, w.sub_b, date(2025, 6, 1), False,
                         Actor(Role.EMPLOYER, w.sub_b))
    ledger.decline_employment(w.lower_worker, w.sub_b, Actor(Role.WORKER, w.lower_worker))
    for technician, prime, staff in ((w.worker, w.prime_a, staff_a),
                                     (w.other_worker, w.prime_b, staff_b)):
        ledger.propose_career_certificate(
            technician, str(UUID(int=int(technician))),
            CertificateClaim(prime, CertifierRelation.PRIME_CONTRACTOR, "鉄筋", date(2018, 4, 1),
                             date(2019, 3, 31), 150, 0, 0),
            "施工体制台帳 (2018)", staff)
    ledger.decline_career_certificate(w.other_worker, str(UUID(int=int(w.other_worker))),
                                      Actor(Role.WORKER, w.other_worker))
    # 建退共の口座: sub_a pays for worker's D1 at site_a; prime_b (元請一括) for other_worker's
    # D2 at site_b. 入場時の確認: worker's slinging course expires within the alert days, and
    # site_a requires it of 鉄筋 (after every tap above: none of them is flagged by it).
    for payer, technician, site, day in ((w.sub_a, w.worker, w.site_a, D1),
                                         (w.prime_b, w.other_worker, w.site_b, D2)):
        ledger.purchase_points(payer, f"P-{payer}", date(2025, 6, 1), 10_000, False, ADMIN)
        ledger.use_points(payer, MONTH, TODAY, 320, ADMIN, days=((technician, site, day),))
    ledger.set_qualification_expiry(w.worker, "玉掛技能講習", date(2025, 7, 1), ADMIN)
    ledger.require_qualification(w.site_a, "玉掛技能講習", "鉄筋", staff_a)
    return ReadWorld(**{**w.__dict__, "entries": entries})


def _tap(ledger: Ledger, w: ReadWorld,
         taps: list[tuple[str, str | None, str, datetime]]) -> None:
    observations = [observation_from_mapping({
        "tap_id": f"{reader}:{n}", "reader_id": reader, "direction": direction,
        "reader_time": when.isoformat(), "card_id": w.card(technician) if technician else
        "0CDEAD00"}) for n, (reader, technician, direction, when) in enumerate(taps, start=1)]
    for observation in observations:  # uploaded as made: a reader's clock is judged both ways
        with clock.clock_at(observation.reader_time):
            ledger.record_taps([observation], ADMIN)


# -- the read endpoints and who may call them ---------------------------------------------------
WORKER, SITE, PRIME, AUDIT, KEYS = "worker", "site", "prime", "audit", "keys"
ACCOUNT = "account"  # a contracting employer's own points: the business, with an unscoped key
EMPLOYMENT = "employment"  # a business's own workers' working time
SUMMARY, ORDERER = "summary", "orderer"  # a site's aggregates; an orderer's list of its sites
CONSENT, CLAIMS = "consent", "claims"  # claims on a worker: the worker's side, the claimant's
CAREER = "career"  # a worker's whole career, records included (the career proof)


@dataclass(frozen=True)
class ReadEndpoint:
    name: str
    kind: str  # what it is about: a worker, a site, a prime's business, the whole ledger
    path: Callable[[ReadWorld, str], str]  # (world, "own" | "other") → path and query
    statuses: Callable[[str, str], int]  # (role, "own" | "other") → status
    method: str = "GET"
    body: Callable[[ReadWorld, str], Any] = lambda w, target: None
    listed: bool = True  # answers `items` with `next_cursor`
    csv: bool = False
    orderer: bool = False  # the orderer reads its own site's (aggregates); else its role is refused

    def expected(self) -> dict[tuple[str, str], int]:
        return {(role, target): scoped_status(self, role, target)
                for role in READ_ROLES for target in ("own", "other")}


SCOPED_ROLES = ("site_manager_own", "site_manager_other", "employer_own_sites",
                "employer_other_workers")
READ_ROLES = (*ROLES, *SCOPED_ROLES)


def scoped_status(endpoint: ReadEndpoint, role: str, target: str) -> int:
    """The matrix's roles with a scope: what they may read of own and other data."""
    if role.startswith("orderer"):  # 発注者: only its own site's aggregates
        return (200 if role.endswith(target) else 404) if endpoint.orderer else 403
    if role not in SCOPED_ROLES:
        return endpoint.statuses(role, target)
    if endpoint.kind == AUDIT:
        return 403
    if endpoint.kind == ACCOUNT:  # no business-wide read with a scoped key
        return 403 if role.startswith("site_manager") else 404
    if endpoint.kind == KEYS:  # a site manager oversees its sites' reader keys
        return 404 if endpoint.name == "key" else 200
    if endpoint.kind in (SUMMARY, ORDERER):
        if role.startswith("site_manager") and endpoint.kind == SUMMARY:
            return 200 if role.endswith(target) else 404
        return 403
    if endpoint.kind == EMPLOYMENT:  # the business's whole employment: not by site
        if role == "employer_other_workers":
            return 200 if target == "other" else 404
        return 403
    if endpoint.kind in (CONSENT, CLAIMS):
        if role.startswith("site_manager") or (
                endpoint.kind == CONSENT and role == "employer_own_sites"):
            return 403  # no worker's registration for a site manager, nor a key scoped to sites
        business = "employer_own" if role == "employer_own_sites" else "employer_other"
        if endpoint.kind == CONSENT and target == "own":
            return 404  # employer_other_workers: worker is outside its scope
        return endpoint.statuses(business, target)
    if endpoint.name == "prime-site-fees":
        return 403  # the bill is the whole business's
    if role.startswith("site_manager"):  # its site's rows and exceptions, its inbox; no worker
        if endpoint.kind in (WORKER, CAREER):
            return 403
        return 200 if role.endswith(target) else 404
    if endpoint.name in ("site-exceptions", "prime-inbox", "site-expiry-alerts"):
        return 403  # a prime's reads
    if role == "employer_own_sites":  # sub_a on site_a: worker's records there, not the career
        if endpoint.name in ("level-judgments", "career-proof", "worker-expiry-alerts",
                             "worker-overtime"):
            return 403  # a whole career's, a worker's registration, or a worker's hours
        return 200 if target == "own" else 404
    # sub_b for other_worker only: no site's rows, no record of worker's
    return 200 if endpoint.kind in (WORKER, CAREER) and target == "other" and (
        endpoint.name != "record-events") else 404


def _worker_statuses(primes_may: bool) -> Callable[[str, str], int]:
    """own: worker (at both sites); other: other_worker (site_b only, employed by sub_b)."""
    sees_own = {"prime_own", "prime_other", "employer_own", "employer_other", "worker_self"}
    sees_other = {"prime_other", "employer_other", "worker_other"}

    def status(role: str, target: str) -> int:
        if role == "no_token":
            return 401
        if role == "reader" or (role.startswith("prime") and not primes_may):
            return 403
        if role in ("auditor", "admin"):
            return 200
        return 200 if role in (sees_own if target == "own" else sees_other) else 404

    return status


def _site_statuses(employers_may: bool) -> Callable[[str, str], int]:
    """own: site_a (prime_a, sub_a, lower_a); other: site_b (prime_b, sub_b)."""

    def status(role: str, target: str) -> int:
        if role == "no_token":
            return 401
        if role in ("reader", "worker_self", "worker_other") or (
                role.startswith("employer") and not employers_may):
            return 403
        if role in ("auditor", "admin"):
            return 200
        return 200 if role.endswith(target) else 404

    return status


def _record_statuses(role: str, target: str) -> int:
    """own: worker's record at site_a on D1 (employer sub_a); other: at site_b on D2 (sub_b)."""
    if role == "no_token":
        return 401
    if role == "reader":
        return 403
    if role in ("auditor", "admin", "worker_self"):
        return 200
    return 200 if role in (f"prime_{target}", f"employer_{target}") else 404


def _employment_statuses(role: str, target: str) -> int:
    """own: sub_a's workers; other: sub_b's. Only the business itself (a prime for its own
    employees, as a business; none here), auditors and admins."""
    if role == "no_token":
        return 401
    if role in ("reader", "worker_self", "worker_other"):
        return 403
    if role in ("auditor", "admin"):
        return 200
    if role.startswith("prime"):
        return 404  # a business key, but not this business's
    return 200 if role == f"employer_{target}" else 404


def _summary_statuses(role: str, target: str) -> int:
    """own: site_a; other: site_b. Its prime (and site managers), its orderer, auditors."""
    if role == "no_token":
        return 401
    if role in ("auditor", "admin"):
        return 200
    if role.startswith("prime"):
        return 200 if role.endswith(target) else 404
    return 403


def _orderer_statuses(role: str, target: str) -> int:
    if role == "no_token":
        return 401
    return 200 if role in ("auditor", "admin") else 403


def _auditors_only(role: str, target: str) -> int:
    return {"no_token": 401, "auditor": 200, "admin": 200}.get(role, 403)


def _auditors_only_accepted(role: str, target: str) -> int:
    """A job (the as-of replay) is accepted (202) for auditors and admins only."""
    return {"no_token": 401, "auditor": 202, "admin": 202}.get(role, 403)


# An as-of replay job asked for before the app starts, so that its status URL is in the matrix.
MATRIX_REPLAY_ID = "0" * 31 + "1"


def _key_viewers(absent: bool) -> Callable[[str, str], int]:
    """Keys are listed to admins, auditors and business keys (each its own); a key ID no one
    oversees (here: none issued) is absent."""

    def status(role: str, target: str) -> int:
        if role == "no_token":
            return 401
        if role in ("reader", "worker_self", "worker_other"):
            return 403
        return 404 if absent else 200

    return status


def _consent_statuses(role: str, target: str) -> int:
    """Those who may answer a claim on the worker: own: worker (employed by sub_a and sub_b);
    other: other_worker (sub_b). A claimant that does not employ the worker is not one."""
    answer = {"own": {"worker_self", "employer_own", "employer_other"},
              "other": {"worker_other", "employer_other"}}
    if role == "no_token":
        return 401
    if role == "reader" or role.startswith("prime"):
        return 403
    if role in ("auditor", "admin"):
        return 200
    return 200 if role in answer[target] else 404


def _claimant_statuses(business: str) -> Callable[[str, str], int]:
    """A business's own claims: own is `{business}_own`'s, other `{business}_other`'s."""

    def status(role: str, target: str) -> int:
        if role == "no_token":
            return 401
        if role in ("reader", "worker_self", "worker_other"):
            return 403
        if role in ("auditor", "admin"):
            return 200
        return 200 if role == f"{business}_{target}" else 404

    return status


def _claimant_path(business: str, suffix: str) -> Callable[[ReadWorld, str], str]:
    def path(w: ReadWorld, target: str) -> str:
        owner = getattr(w, f"{business}_{'a' if target == 'own' else 'b'}")
        return f"/v1/businesses/{owner}/{suffix}"
    return path


def _worker_path(suffix: str, query: str = "") -> Callable[[ReadWorld, str], str]:
    def path(w: ReadWorld, target: str) -> str:
        technician = w.worker if target == "own" else w.other_worker
        return f"/v1/workers/{technician}/{suffix}{query}"
    return path


def _site_path(suffix: str, query: str = "") -> Callable[[ReadWorld, str], str]:
    def path(w: ReadWorld, target: str) -> str:
        return f"/v1/sites/{w.site_a if target == 'own' else w.site_b}/{suffix}{query}"
    return path


def _record_events(w: ReadWorld, target: str) -> str:
    site, day = (w.site_a, D1) if target == "own" else (w.site_b, D2)
    return f"/v1/audit/work-records/{w.worker}/{site}/{day}/events"


RANGE_QUERY = "?date_from=2025-06-01&date_to=2025-06-30"


def _business_path(suffix: str) -> Callable[[ReadWorld, str], str]:
    def path(w: ReadWorld, target: str) -> str:
        return f"/v1/businesses/{w.sub_a if target == 'own' else w.sub_b}/{suffix}"
    return path
READ_ENDPOINTS: tuple[ReadEndpoint, ...] = (
    ReadEndpoint("work-records", WORKER, _worker_path("records", RANGE_QUERY),
                 _worker_statuses(True)),
    ReadEndpoint("work-records-csv", WORKER, _worker_path("records.csv", RANGE_QUERY),
                 _worker_statuses(True), listed=False, csv=True),
    ReadEndpoint("career-summary", WORKER, _worker_path("career", RANGE_QUERY),
                 _worker_statuses(True), listed=False),
    ReadEndpoint("level-judgments", WORKER, _worker_path("levels"), _worker_statuses(False)),
    ReadEndpoint("worker-kentaikyo", WORKER, _worker_path("kentaikyo", f"?month={MONTH}"),
                 _worker_statuses(True), listed=False),
    ReadEndpoint("site-attendance", SITE, _site_path("attendance", f"?work_date={D1}"),
                 _site_statuses(True)),
    ReadEndpoint("on-site-now", SITE, _site_path("on-site-now"), _site_statuses(True)),
    ReadEndpoint("missing-exits", SITE, _site_path("missing-exits", RANGE_QUERY),
                 _site_statuses(True)),
    ReadEndpoint("site-exceptions", SITE, _site_path("exceptions", RANGE_QUERY),
                 _site_statuses(False)),
    ReadEndpoint("site-kentaikyo", SITE, _site_path("kentaikyo", f"?month={MONTH}"),
                 _site_statuses(True)),
    ReadEndpoint("site-records-csv", SITE, _site_path("records.csv", f"?month={MONTH}"),
                 _site_statuses(True), listed=False, csv=True),
    ReadEndpoint("prime-inbox", PRIME, lambda w, t: f"/v1/primes/"
                 f"{w.prime_a if t == 'own' else w.prime_b}/inbox", _site_statuses(False)),
    ReadEndpoint("prime-site-fees", PRIME, lambda w, t: f"/v1/primes/"
                 f"{w.prime_a if t == 'own' else w.prime_b}/site-fees", _site_statuses(False),
                 listed=False),
    ReadEndpoint("record-events", WORKER, _record_events, _record_statuses),
    ReadEndpoint("event-log", AUDIT, lambda w, t: "/v1/audit/events", _auditors_only),
    ReadEndpoint("unregistered-readers", AUDIT,
                 lambda w, t: f"/v1/readers/unregistered{RANGE_QUERY}", _auditors_only),
    ReadEndpoint("as-of-replay", AUDIT, lambda w, t: "/v1/audit/replays",
                 _auditors_only_accepted, method="POST", listed=False, body=lambda w, t: {
                     "as_of": "2025-06-20T10:00:00+09:00", "technician_id": w.worker,
                     "date_from": "2025-06-01", "date_to": "2025-06-30"}),
    ReadEndpoint("as-of-replay-status", AUDIT,
                 lambda w, t: f"/v1/audit/replays/{MATRIX_REPLAY_ID}", _auditors_only,
                 listed=False),
    ReadEndpoint("as-of-replays", AUDIT, lambda w, t: "/v1/audit/replays", _auditors_only),
    ReadEndpoint("worker-employment-requests", CONSENT, _worker_path("employment-requests"),
                 _consent_statuses),
    ReadEndpoint("worker-certificate-proposals", CONSENT,
                 _worker_path("career-certificate-proposals"), _consent_statuses),
    ReadEndpoint("business-employment-requests", CLAIMS,
                 _claimant_path("sub", "employment-requests"), _claimant_statuses("employer")),
    ReadEndpoint("business-certificate-proposals", CLAIMS,
                 _claimant_path("prime", "career-certificate-proposals"),
                 _claimant_statuses("prime")),
    ReadEndpoint("kentaikyo-account", ACCOUNT,
                 _claimant_path("sub", f"kentaikyo/account?first={MONTH}&last={MONTH}"),
                 _claimant_statuses("employer"), listed=False),
    ReadEndpoint("site-coverage", SITE, _site_path("kentaikyo/coverage", f"?month={MONTH}"),
                 _site_statuses(True)),
    ReadEndpoint("site-roster", SITE, _site_path("roster"), _site_statuses(True)),
    ReadEndpoint("site-expiry-alerts", SITE, _site_path("expiry-alerts"),
                 _site_statuses(False)),
    ReadEndpoint("worker-expiry-alerts", WORKER, _worker_path("expiry-alerts"),
                 _worker_statuses(False)),
    ReadEndpoint("keys", KEYS, lambda w, t: "/v1/keys", _key_viewers(False)),
    ReadEndpoint("key-events", KEYS, lambda w, t: "/v1/keys/events", _key_viewers(False)),
    ReadEndpoint("key", KEYS, lambda w, t: "/v1/keys/00000000deadbeef", _key_viewers(True),
                 listed=False),
    # Read as level judgment is (the whole career); the module sealing `SEALED_THROUGH` gets
    # proofs, any other 409 (nothing sealed) from those who may read it.
    ReadEndpoint("career-proof", CAREER, _worker_path("career-proof", "?trade=鉄筋"),
                 _worker_statuses(False), listed=False),
    # Working time (勤怠) and the orderer's aggregates.
    ReadEndpoint("worker-time-on-site", WORKER, _worker_path("time-on-site", RANGE_QUERY),
                 _worker_statuses(True)),
    ReadEndpoint("worker-time-on-site-csv", WORKER, _worker_path("time-on-site.csv", RANGE_QUERY),
                 _worker_statuses(True), listed=False, csv=True),
    ReadEndpoint("worker-overtime", WORKER, _worker_path("overtime", f"?month={MONTH}"),
                 _worker_statuses(False)),
    ReadEndpoint("employer-overtime", EMPLOYMENT, _business_path(f"overtime?month={MONTH}"),
                 _employment_statuses),
    ReadEndpoint("employer-overtime-csv", EMPLOYMENT,
                 _business_path(f"overtime.csv?month={MONTH}"), _employment_statuses,
                 listed=False, csv=True),
    ReadEndpoint("site-time-on-site", SITE, _site_path("time-on-site", RANGE_QUERY),
                 _site_statuses(True), listed=False),
    ReadEndpoint("site-closures", SITE, _site_path("closures", RANGE_QUERY),
                 _site_statuses(True), listed=False, orderer=True),
    ReadEndpoint("labour-summary", SUMMARY, _site_path("labour-summary", RANGE_QUERY),
                 _summary_statuses, listed=False, orderer=True),
    ReadEndpoint("labour-summary-csv", SUMMARY, _site_path("labour-summary.csv", RANGE_QUERY),
                 _summary_statuses, listed=False, csv=True, orderer=True),
    ReadEndpoint("ordered-sites", ORDERER, lambda w, t: f"/v1/orderers/"
                 f"{w.orderer_a if t == 'own' else w.orderer_b}/sites", _orderer_statuses,
                 orderer=True),
)


# -- no foreign record --------------------------------------------------------------------------
ID_KEYS = ("site_id", "carrying_site_id", "technician_id", "employer_business_id")


def identified(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON answer that names a site, a worker or an employer."""
    if isinstance(node, dict):
        if any(key in node for key in ID_KEYS):
            yield node
        for value in node.values():
            yield from identified(value)
    elif isinstance(node, list):
        for value in node:
            yield from identified(value)


CSV_KEYS = {"現場ID": "site_id", "技能者ID": "technician_id",
            "所属事業者ID": "employer_business_id"}


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "a CSV for Excel starts with a byte-order mark"
    return [{CSV_KEYS.get(k, k): v for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text[1:]))]


def foreign(w: ReadWorld, actor: Actor | None, kind: str, item: dict[str, Any]) -> str | None:
    """Why `actor` may not see `item`, or None if it may."""
    if actor is None or actor.role in (Role.AUDITOR, Role.ADMIN):
        return None
    if actor.role is Role.ORDERER and "technician_id" in item:
        return "an orderer shown a worker (personal data)"
    for key in ("site_id", "carrying_site_id"):
        site = item.get(key)
        if actor.role in (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER, Role.ORDERER) and site and (
                site not in w.sites_of(actor.id)):
            return f"{key} {site} is another company's site"
        if site and actor.scope.sites is not None and site not in actor.scope.sites:
            return f"{key} {site} is outside the key's scope"
    technician = item.get("technician_id")
    if technician and actor.scope.workers is not None and technician not in actor.scope.workers:
        return f"technician {technician} is outside the key's scope"
    employer = item.get("employer_business_id")
    # A career proof is the whole career, as level judgment reads it: an employer joined to the
    # worker by their employment reads every employer's records in it (DESIGN §2: the employer
    # sees what the worker sees).
    if actor.role is Role.EMPLOYER and "employer_business_id" in item and kind != CAREER:
        allowed = {actor.id} if kind in (WORKER, EMPLOYMENT) else w.below(actor.id)
        if employer not in allowed:
            return f"employer {employer} is not {actor.id} or below it"
    if kind == CLAIMS:  # a claimant reads its own claims, once answered
        claimant = item.get("business_id", item.get("certifier_business_id"))
        if claimant != actor.id:
            return f"a claim of {claimant}, not of {actor.id}"
        if item.get("status") == "pending":
            return "a pending claim shown to its claimant"
    technician = item.get("technician_id")
    if actor.role is Role.WORKER and technician and technician != actor.id:
        return f"technician {technician} is someone else"
    return None


# -- an app on a database holding one read world, shared by a module's tests ----------------------
NOW = datetime(2025, 6, 20, 10, 0, tzinfo=JST)


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder}/ledger.db"
        return
    try:
        with pg.fresh_database() as url:
            yield url
    except pg.PostgresUnavailable as reason:
        if pg.in_ci():
            raise
        pytest.skip(f"PostgreSQL SKIPPED: {reason}")


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(name="read_api", scope="module", params=DATABASES)
def read_api_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, ReadWorld]]:
    """The app on a fresh database holding `build_read_world(…, 1)`, with the clock fixed at
    NOW for the whole module; the answers are read once the projection has caught up."""
    folder = tmp_path_factory.mktemp("reads")
    with clock.clock_at(NOW), database(request.param, folder) as url:
        settings = Settings(database_url=url, seal_key_file=folder / "seal-ed25519.pem",
                            witness_dir=folder / "witness")
        migrate(settings)
        ledger = Ledger(settings)
        world = build_read_world(ledger)
        sealed_through = getattr(request.module, "SEALED_THROUGH", None)
        if sealed_through is not None:  # the module reads career proofs
            # Sealed the night after (the world's events are recorded up to NOW's day).
            seal_store = ReadStore(settings)
            with clock.clock_at(at(sealed_through + timedelta(days=1), 3)):
                seal_days(ledger, seal_store, sealed_through, SYSTEM)
            seal_store.close()
        keys = KeyStore(settings)
        ask_for_replay(settings, MATRIX_REPLAY_ID, world.worker)
        app = create_app(settings, ApiSettings(replay_dir=folder / "replays"))
        try:
            with TestClient(app) as client:
                yield Api(app, client, keys, ledger), world
        finally:
            keys.close()
            ledger.close()


def ask_for_replay(settings: Settings, replay_id: str, technician_id: str) -> None:
    jobs = ReplayJobs(settings)
    try:
        jobs.add(replay_id, str(AUDITOR), ReplayRequest(NOW, technician_id, D1, TODAY), NOW)
    finally:
        jobs.close()


def replay_ended(api: Api, status_url: str, actor: Actor = AUDITOR) -> dict[str, Any]:
    """The job at `status_url` once it is done or failed (read until then: each read ends on
    the server's answer; the bound is on how many, not on a clock)."""
    for _ in range(REPLAY_READS):
        answer = api.request("GET", status_url, actor)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.02)
    raise AssertionError(f"{status_url} did not end: {job}")


REPLAY_READS = 3_000


def with_query(path: str, **params: Any) -> str:
    extra = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{path}{'&' if '?' in path else '?'}{extra}" if extra else path


def read_all(api: Api, endpoint: ReadEndpoint, path: str, actor: Actor | None,
             body: Any, limit: int = 1) -> tuple[int, list[httpx.Response]]:
    """Every page of a list (`limit` per page), or the one answer; reads at the log's head."""
    head = api.ledger.log_position()
    if not endpoint.listed:
        response = api.request(endpoint.method, with_query(path, min_position=head), actor, body)
        return response.status_code, [response]
    pages, cursor = [], None
    while True:
        response = api.request("GET", with_query(path, limit=limit, cursor=cursor,
                                                 min_position=head), actor)
        pages.append(response)
        if response.status_code != 200 or not (cursor := response.json()["next_cursor"]):
            return pages[0].status_code, pages
