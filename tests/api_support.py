"""Support for the HTTP API's tests: an app on the test database, a key per acting party, a small
world of parties (its IDs numbered, so many worlds share one database), and the catalogue of
write endpoints with who may call each.

The fixtures `api` and `api_settings` are made available by importing `api_fixture` and
`api_settings_fixture` into a test module; they build on `settings` and `now` from
tests/conftest.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.config import ApiSettings
from api.main import create_app
from ledger import clock
from ledger.actors import Actor, Role, Scope
from ledger.application import Ledger
from ledger.domain.worker import CertificateClaim, CertifierRelation
from ledger.settings import Settings
from ledger.storage.keys import KeyStore

ADMIN = Actor(Role.ADMIN, "ops")
AUDITOR = Actor(Role.AUDITOR, "audit")
PROBLEM_JSON = "application/problem+json"
ROLES = ("reader", "prime_own", "prime_other", "employer_own", "employer_other", "worker_self",
         "worker_other", "auditor", "admin", "no_token", "orderer_own", "orderer_other")


class Api:
    """A TestClient that acts as a party: `api.post(path, actor, json)`."""

    def __init__(self, app: FastAPI, client: TestClient, keys: KeyStore, ledger: Ledger) -> None:
        self.app = app
        self.client = client
        self.keys = keys
        self.ledger = ledger
        self._tokens: dict[tuple[Actor, Scope], str] = {}

    def token(self, actor: Actor) -> str:
        """A key acting as `actor`, within the actor's scope (a scope is not part of who acts,
        so keys are told apart by it too)."""
        if (actor, actor.scope) not in self._tokens:
            self._tokens[(actor, actor.scope)] = self.keys.create(
                actor.role, actor.id, scope=actor.scope).token
        return self._tokens[(actor, actor.scope)]

    def request(
        self, method: str, path: str, actor: Actor | None, json: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(actor)}"} if actor else {}
        return self.client.request(method, path, json=json, headers=headers)

    def post(self, path: str, actor: Actor | None, json: Any = None) -> httpx.Response:
        return self.request("POST", path, actor, json)


@pytest.fixture(name="api_settings")
def api_settings_fixture() -> ApiSettings:
    return ApiSettings(reader_cache_seconds=30.0)


@pytest.fixture(name="api")
def api_fixture(
    settings: Settings, ledger: Ledger, now: clock.FixedClock, api_settings: ApiSettings
) -> Iterator[Api]:
    """The app on the test database (its own Ledger, as in a server), with the clock fixed."""
    keys = KeyStore(settings)
    app = create_app(settings, api_settings)
    with TestClient(app) as client:
        yield Api(app, client, keys, ledger)
    keys.close()


# -- a world of parties -------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    """Businesses prime/sub/other/spare, worker (employed by sub) and other_worker (by other),
    site (prime → sub; worker on its roster) and other_site (other's), a reader and a card on
    site, a pending manual entry and correction of the worker's at site, and two claims on the
    worker waiting for their consent: spare's employment request and prime's career
    certificate."""

    k: int
    prime: str
    sub: str
    other: str
    spare: str
    worker: str
    other_worker: str
    site: str
    other_site: str
    reader: str
    card: str
    entry: UUID = field(default=UUID(int=0))
    correction: UUID = field(default=UUID(int=0))
    certificate: UUID = field(default=UUID(int=0))  # proposed by prime, pending the worker

    @classmethod
    def numbered(cls, k: int) -> World:
        return cls(
            k=k, prime=f"{k}100", sub=f"{k}200", other=f"{k}300", spare=f"{k}400",
            worker=f"{k:04d}1234567890", other_worker=f"{k:04d}2222222222",
            site=f"{k:04d}1000000001", other_site=f"{k:04d}1000000002", reader=f"GATE{k}-1",
            card=f"04A1{k:04X}",
        )

    def absent_worker(self) -> str:
        return f"{self.k:04d}9999999999"

    @property
    def orderer(self) -> str:
        """発注者 of `site` (named by its prime); `other_orderer` orders `other_site`."""
        return f"{self.k}600"

    @property
    def other_orderer(self) -> str:
        return f"{self.k}700"

    def absent_site(self) -> str:
        return f"{self.k:04d}9000000009"

    def actors(self) -> dict[str, Actor | None]:
        return {
            "reader": Actor(Role.READER, self.reader),
            "prime_own": Actor(Role.PRIME_CONTRACTOR, self.prime),
            "prime_other": Actor(Role.PRIME_CONTRACTOR, self.other),
            "employer_own": Actor(Role.EMPLOYER, self.sub),
            "employer_other": Actor(Role.EMPLOYER, self.other),
            "worker_self": Actor(Role.WORKER, self.worker),
            "worker_other": Actor(Role.WORKER, self.other_worker),
            "auditor": AUDITOR,
            "admin": ADMIN,
            "no_token": None,
            "orderer_own": Actor(Role.ORDERER, self.orderer),
            "orderer_other": Actor(Role.ORDERER, self.other_orderer),
        }


WORK_DATE = date(2025, 6, 19)  # the day before the `now` fixture's 2025-06-20


def build_world(ledger: Ledger, k: int) -> World:
    """Register world number k through the ledger (not the API under test)."""
    w = World.numbered(k)
    prime_staff = Actor(Role.PRIME_CONTRACTOR, w.prime)
    for business_id in (w.prime, w.sub, w.other, w.spare):
        ledger.register_business(business_id, f"会社{business_id}", ADMIN)
    ledger.register_worker(w.worker, "山田 太郎", ADMIN)
    ledger.register_worker(w.other_worker, "佐藤 花子", ADMIN)
    ledger.join_employer(w.worker, w.sub, date(2020, 4, 1), True, ADMIN)
    ledger.join_employer(w.other_worker, w.other, date(2020, 4, 1), True, ADMIN)
    ledger.add_qualification(w.worker, "玉掛技能講習", date(2019, 5, 1), ADMIN)
    ledger.open_site(w.site, "新宿三丁目ビル", w.prime, "electronic", date(2024, 1, 9), ADMIN)
    ledger.open_site(w.other_site, "横浜倉庫", w.other, "stamp", date(2024, 1, 9), ADMIN)
    ledger.add_subcontract(w.site, w.sub, w.prime, prime_staff)
    ledger.set_roster_entry(w.site, w.worker, w.sub, "鉄筋", "一般", date(2024, 1, 9), prime_staff)
    ledger.register_reader(w.reader, w.site, "auto", prime_staff)
    ledger.issue_card(w.card, w.worker, ADMIN)
    for orderer, site, prime in ((w.orderer, w.site, w.prime),
                                 (w.other_orderer, w.other_site, w.other)):
        ledger.register_business(orderer, f"発注者{orderer}", ADMIN)
        ledger.name_site_orderer(site, orderer, Actor(Role.PRIME_CONTRACTOR, prime))
    worker = Actor(Role.WORKER, w.worker)
    entry = ledger.request_manual_entry(w.worker, w.site, WORK_DATE, w.sub, "鉄筋", "一般", "配筋",
                                        worker, note="forgot my card")
    correction = ledger.request_correction(w.worker, w.site, WORK_DATE, w.sub,
                                           {"position": "班長"}, "was team leader", worker)
    ledger.join_employer(w.worker, w.spare, date(2025, 6, 1), False, Actor(Role.EMPLOYER, w.spare))
    certificate = uuid4()
    ledger.propose_career_certificate(
        w.worker, str(certificate),
        CertificateClaim(w.prime, CertifierRelation.PRIME_CONTRACTOR, "鉄筋", date(2019, 5, 1),
                         date(2020, 3, 31), 200),
        "施工体制台帳 (2019)", prime_staff)
    return World(**{**w.__dict__, "entry": entry, "correction": correction,
                    "certificate": certificate})


def tap(w: World, sequence: int, **change: Any) -> dict[str, Any]:
    return {"tap_id": f"{w.reader}:{sequence}", "reader_id": w.reader, "card_id": w.card,
            "technician_id": None, "direction": "in",
            "reader_time": "2025-06-20T07:58:00+09:00"} | change


def same_not_found(first: httpx.Response, second: httpx.Response) -> None:
    """Both 404 problems, identical but for the ID each request named."""
    assert first.status_code == second.status_code == 404, (first.text, second.text)
    assert first.headers["content-type"] == second.headers["content-type"] == PROBLEM_JSON

    def shape(response: httpx.Response) -> dict[str, Any]:
        body: dict[str, Any] = response.json()
        return body | {"detail": re.sub(r": \S+ is not registered", ": <id> is not registered",
                                        body["detail"])}

    assert shape(first) == shape(second)


# -- the write endpoints and who may call them ----------------------------------------------
Body = Callable[[World, Actor | None], Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[World], str]
    body: Body
    statuses: dict[str, int]  # role → status; every other role 403, no token 401
    bad: tuple[Callable[[World], tuple[str, Any]], str]  # (path, body) naming a bad field
    # (path, body) naming something absent, asked by a role that may not see the real one
    absent: tuple[str, Callable[[World], tuple[str, Any]]] | None = None

    def expected(self) -> dict[str, int]:
        return {role: 401 if role == "no_token" else self.statuses.get(role, 403)
                for role in ROLES}


def own_business(w: World, actor: Actor | None, otherwise: str) -> str:
    business_roles = (Role.PRIME_CONTRACTOR, Role.EMPLOYER)
    return actor.id if actor is not None and actor.role in business_roles else otherwise


def entry_body(w: World, technician_id: str | None = None) -> dict[str, Any]:
    return {"technician_id": technician_id or w.worker, "site_id": w.site,
            "work_date": "2025-06-18", "employer_business_id": w.sub, "trade": "鉄筋",
            "position": "一般", "work_content": "配筋",
            "entry_at": "2025-06-18T08:00:00+09:00", "exit_at": "2025-06-18T17:00:00+09:00"}


def correction_body(w: World, technician_id: str | None = None) -> dict[str, Any]:
    return {"technician_id": technician_id or w.worker, "site_id": w.site,
            "work_date": "2025-06-18", "employer_business_id": w.sub,
            "changes": {"position": "職長"}, "reason": "was foreman that day"}


def unknown_card_body(w: World) -> dict[str, Any]:
    return {"technician_id": w.worker, "tap_id": f"{w.reader}:900", "reason": "名簿の写真で確認"}


def missing_exit_body(w: World) -> dict[str, Any]:
    return {"technician_id": w.worker, "work_date": "2025-06-19",
            "exit_at": "2025-06-19T18:00:00+09:00", "reason": "職長が退場を確認"}


def _decision(kind: str, reject: bool) -> Endpoint:
    ident = (lambda w: w.entry) if kind == "manual-entries" else (lambda w: w.correction)
    action = "reject" if reject else "approve"
    body: Body = (lambda w, a: {"reason": "not on site that day"}) if reject else (
        lambda w, a: None)
    return Endpoint(
        f"{action}-{kind}", "POST", lambda w: f"/v1/{kind}/{ident(w)}/{action}", body,
        {"prime_own": 200, "prime_other": 404},
        (lambda w: (f"/v1/{kind}/not-a-uuid/{action}", body(w, None)), "request_id"),
        ("prime_other", lambda w: (f"/v1/{kind}/{uuid4()}/{action}", body(w, None))),
    )


def insurance_body(w: World, health: str = "enrolled") -> dict[str, Any]:
    return {"health": health, "pension": "exempt", "employment": "unconfirmed",
            "as_of": "2025-06-01", "exempt_reasons": {"pension": "75歳以上"}}


REQUIREMENT = {"qualification": "フルハーネス特別教育", "trade": ""}
# 入場時の確認: the site's rules are the prime's; a worker's records their employer's.
ENTRY_CHECK_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "insurance-record", "POST", lambda w: f"/v1/workers/{w.worker}/insurance-records",
        lambda w, a: insurance_body(w),
        {"employer_own": 200, "admin": 200, "employer_other": 404},
        (lambda w: (f"/v1/workers/{w.worker}/insurance-records", insurance_body(w, "maybe")),
         "health"),
        ("employer_other", lambda w: (f"/v1/workers/{w.absent_worker()}/insurance-records",
                                      insurance_body(w))),
    ),
    Endpoint(
        "qualification-expiry", "POST", lambda w: f"/v1/workers/{w.worker}/qualification-expiries",
        lambda w, a: {"qualification": "玉掛技能講習", "expires_on": "2027-05-01"},
        {"employer_own": 200, "worker_self": 200, "admin": 200, "employer_other": 404,
         "worker_other": 404},
        (lambda w: (f"/v1/workers/{w.worker}/qualification-expiries",
                    {"qualification": "玉掛技能講習", "expires_on": "x"}), "expires_on"),
        ("worker_other", lambda w: (f"/v1/workers/{w.absent_worker()}/qualification-expiries",
                                    {"qualification": "玉掛技能講習",
                                     "expires_on": "2027-05-01"})),
    ),
    Endpoint(
        "entry-checks", "POST", lambda w: f"/v1/sites/{w.site}/entry-checks", lambda w, a: None,
        {"prime_own": 200, "admin": 200, "prime_other": 404},
        (lambda w: ("/v1/sites/12-34/entry-checks", None), "site_id"),
        ("prime_other", lambda w: (f"/v1/sites/{w.absent_site()}/entry-checks", None)),
    ),
    Endpoint(
        "require-qualification", "POST", lambda w: f"/v1/sites/{w.site}/required-qualifications",
        lambda w, a: REQUIREMENT, {"prime_own": 200, "admin": 200, "prime_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/required-qualifications",
                    {"qualification": "", "trade": ""}), "qualification"),
        ("prime_other", lambda w: (f"/v1/sites/{w.absent_site()}/required-qualifications",
                                   REQUIREMENT)),
    ),
    Endpoint(
        # nothing is required in the matrix's world: the prime is answered 409
        "withdraw-qualification", "POST",
        lambda w: f"/v1/sites/{w.site}/required-qualifications/withdraw",
        lambda w, a: REQUIREMENT, {"prime_own": 409, "admin": 409, "prime_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/required-qualifications/withdraw",
                    {"qualification": "x" * 81, "trade": ""}), "qualification"),
        ("prime_other", lambda w: (
            f"/v1/sites/{w.absent_site()}/required-qualifications/withdraw", REQUIREMENT)),
    ),
    Endpoint(
        "work-area", "POST", lambda w: f"/v1/sites/{w.site}/work-areas",
        lambda w, a: {"reader_id": w.reader, "work_area": "鉄骨建方エリア"},
        {"prime_own": 200, "admin": 200, "prime_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/work-areas", {"reader_id": "a b", "work_area": ""}),
         "reader_id"),
        ("prime_other", lambda w: (f"/v1/sites/{w.absent_site()}/work-areas",
                                   {"reader_id": w.reader, "work_area": "x"})),
    ),
    Endpoint(
        # admin only; the world's prime is not 振興基金 (none is configured): 409
        "training-institution", "POST", lambda w: f"/v1/sites/{w.site}/training-institution",
        lambda w, a: None, {"admin": 409},
        (lambda w: ("/v1/sites/12-34/training-institution", None), "site_id"),
    ),
)


def _account(suffix: str, body: Body, bad: tuple[dict[str, Any], str],
             statuses: dict[str, int] | None = None) -> Endpoint:
    """A contracting employer's account: the matrix's businesses are not 共済契約者, so the
    business itself (and admin) is answered 409; another business 403 (test_api_kentaikyo.py
    has the successes)."""
    return Endpoint(
        f"kentaikyo-{suffix}", "POST", lambda w: f"/v1/businesses/{w.sub}/kentaikyo/{suffix}",
        body, statuses or {"employer_own": 409, "admin": 409},
        (lambda w: (f"/v1/businesses/{w.sub}/kentaikyo/{suffix}", bad[0]), bad[1]))


ACCOUNT_ENDPOINTS: tuple[Endpoint, ...] = (
    _account("purchases", lambda w, a: {"purchase_id": "P-1", "purchased_on": "2025-06-01",
                                        "points": 10_000},
             ({"purchase_id": "P-1", "purchased_on": "2025-06-01", "points": 0}, "points")),
    _account("uses", lambda w, a: {"reference": "2025-05", "used_on": "2025-06-10",
                                   "points": 320},
             ({"reference": "2025-05", "used_on": "2025-06-10", "points": -1}, "points")),
    _account("wage-payments", lambda w, a: {"month": "2025-05", "paid_on": "2025-06-10"},
             ({"month": "2025-13", "paid_on": "2025-06-10"}, "month")),
    _account("rebates", lambda w, a: {"credited_on": "2026-04-01"},
             ({"credited_on": "x"}, "credited_on"), {"admin": 409}),
)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "register-business", "POST", lambda w: "/v1/businesses",
        lambda w, a: {"business_id": f"{w.k}500", "name": "新会社"}, {"admin": 201},
        (lambda w: ("/v1/businesses", {"business_id": "12-34", "name": "x"}), "business_id"),
    ),
    Endpoint(
        "business-kentaikyo", "POST", lambda w: f"/v1/businesses/{w.sub}/kentaikyo",
        lambda w, a: {"contract_number": "12345", "since": "2025-04-01"},
        {"employer_own": 200, "admin": 200},
        (lambda w: (f"/v1/businesses/{w.sub}/kentaikyo",
                    {"contract_number": "12345", "since": "2025-02-30"}), "since"),
    ),
    Endpoint(
        # A business registers its own worker (代行申請): accepted, whether new or registered
        "register-worker", "POST", lambda w: "/v1/workers",
        lambda w, a: {"technician_id": f"{w.k:04d}5555555555", "name": "新人"},
        {"admin": 201, "employer_own": 201, "employer_other": 201},
        (lambda w: ("/v1/workers", {"technician_id": f"{w.k:04d}5555555555", "name": ""}),
         "name"),
    ),
    Endpoint(
        "join-employer", "POST", lambda w: f"/v1/workers/{w.worker}/employments",
        lambda w, a: {"business_id": own_business(w, a, w.spare), "since": "2025-06-01"},
        # the own employer employs the worker already: a conflict, not a refusal; another
        # business's claim waits for the worker's consent, answered as for an absent worker
        {"employer_own": 409, "employer_other": 201, "admin": 201},
        (lambda w: (f"/v1/workers/{w.worker}/employments",
                    {"business_id": w.spare, "since": "yesterday"}), "since"),
    ),
    *(Endpoint(
        f"{verb}-employment", "POST",
        lambda w, verb=verb: f"/v1/workers/{w.worker}/employment-requests/{w.spare}/{verb}",
        lambda w, a: None,
        {"worker_self": 200, "employer_own": 200, "admin": 200, "worker_other": 404,
         "employer_other": 404},
        (lambda w, verb=verb: (f"/v1/workers/{w.worker}/employment-requests/x-1/{verb}", None),
         "business_id"),
        ("employer_other", lambda w, verb=verb: (
            f"/v1/workers/{w.absent_worker()}/employment-requests/{w.spare}/{verb}", None)),
    ) for verb in ("confirm", "decline")),
    Endpoint(
        "leave-employer", "POST", lambda w: f"/v1/workers/{w.worker}/employments/{w.sub}/end",
        lambda w, a: {"until": "2025-06-30"},
        {"employer_own": 200, "admin": 200, "employer_other": 404},
        (lambda w: (f"/v1/workers/{w.worker}/employments/{w.sub}/end", {"until": "x"}), "until"),
        ("employer_other", lambda w: (
            f"/v1/workers/{w.absent_worker()}/employments/{w.sub}/end", {"until": "2025-06-30"})),
    ),
    Endpoint(
        "worker-kentaikyo", "POST", lambda w: f"/v1/workers/{w.worker}/kentaikyo",
        lambda w, a: {"member_number": "998877", "since": "2025-04-01"},
        {"employer_own": 200, "worker_self": 200, "admin": 200, "employer_other": 404,
         "worker_other": 404},
        (lambda w: (f"/v1/workers/{w.worker}/kentaikyo",
                    {"member_number": "ABC", "since": "2025-04-01"}), "member_number"),
        ("employer_other", lambda w: (f"/v1/workers/{w.absent_worker()}/kentaikyo",
                                      {"member_number": "998877", "since": "2025-04-01"})),
    ),
    Endpoint(
        "add-qualification", "POST", lambda w: f"/v1/workers/{w.worker}/qualifications",
        lambda w, a: {"qualification": "フォークリフト運転技能講習", "acquired_on": "2021-05-01"},
        {"employer_own": 201, "worker_self": 201, "admin": 201, "employer_other": 404,
         "worker_other": 404},
        (lambda w: (f"/v1/workers/{w.worker}/qualifications", {"qualification": "x"}),
         "acquired_on"),
        ("worker_other", lambda w: (f"/v1/workers/{w.absent_worker()}/qualifications",
                                    {"qualification": "x", "acquired_on": "2021-05-01"})),
    ),
    Endpoint(
        "foreman-training", "POST", lambda w: f"/v1/workers/{w.worker}/foreman-training",
        lambda w, a: {"completed_on": "2024-05-01"},
        {"employer_own": 200, "admin": 200, "employer_other": 404},
        (lambda w: (f"/v1/workers/{w.worker}/foreman-training", {"completed_on": ""}),
         "completed_on"),
        ("employer_other", lambda w: (f"/v1/workers/{w.absent_worker()}/foreman-training",
                                      {"completed_on": "2024-05-01"})),
    ),
    Endpoint(
        "social-insurance", "POST", lambda w: f"/v1/workers/{w.worker}/social-insurance",
        lambda w, a: {"health": "enrolled", "pension": "enrolled", "employment": "exempt",
                      "as_of": "2025-06-01"},
        {"employer_own": 200, "admin": 200, "employer_other": 404},
        (lambda w: (f"/v1/workers/{w.worker}/social-insurance",
                    {"health": "maybe", "pension": "enrolled", "employment": "exempt",
                     "as_of": "2025-06-01"}), "health"),
        ("employer_other", lambda w: (
            f"/v1/workers/{w.absent_worker()}/social-insurance",
            {"health": "enrolled", "pension": "enrolled", "employment": "exempt",
             "as_of": "2025-06-01"})),
    ),
    Endpoint(
        # A business certifies in its own name; certifying *as the employer* needs to have
        # employed the worker through the period (only the worker's employer here does); a
        # business that may not see the worker gets the 404 of an absent one.
        "career-certificate", "POST", lambda w: f"/v1/workers/{w.worker}/career-certificates",
        lambda w, a: {"certifier_business_id": own_business(w, a, w.sub), "relation": "employer",
                      "trade": "鉄筋", "period_start": "2020-04-01", "period_end": "2024-03-31",
                      "work_days": 100},
        {"prime_own": 404, "prime_other": 404, "employer_own": 201, "employer_other": 404,
         "admin": 201},
        (lambda w: (f"/v1/workers/{w.worker}/career-certificates",
                    {"certifier_business_id": w.sub, "relation": "employer", "trade": "鉄筋",
                     "period_start": "2019-06-01", "period_end": "2024-03-31",
                     "work_days": -1}), "work_days"),
        ("employer_other", lambda w: (
            f"/v1/workers/{w.absent_worker()}/career-certificates",
            {"certifier_business_id": w.other, "relation": "employer", "trade": "鉄筋",
             "period_start": "2020-04-01", "period_end": "2024-03-31", "work_days": 100})),
    ),
    Endpoint(
        # As prime or upper subcontractor: proposed, counting once the worker confirms it
        "career-certificate-proposal", "POST",
        lambda w: f"/v1/workers/{w.worker}/career-certificates",
        lambda w, a: {"certifier_business_id": own_business(w, a, w.prime),
                      "relation": "prime_contractor", "trade": "鉄筋",
                      "period_start": "2020-04-01", "period_end": "2021-03-31",
                      "work_days": 200, "basis": "施工体制台帳 (2020)"},
        {"prime_own": 201, "prime_other": 201, "employer_own": 201, "employer_other": 201,
         "admin": 201},
        (lambda w: (f"/v1/workers/{w.worker}/career-certificates",
                    {"certifier_business_id": w.prime, "relation": "prime_contractor",
                     "trade": "鉄筋", "period_start": "2020-04-01", "period_end": "2021-03-31",
                     "work_days": 200}), "basis"),
    ),
    *(Endpoint(
        f"{verb}-career-certificate", "POST",
        lambda w, verb=verb: (
            f"/v1/workers/{w.worker}/career-certificates/{w.certificate}/{verb}"),
        lambda w, a: None,
        {"worker_self": 200, "employer_own": 200, "admin": 200, "worker_other": 404,
         "employer_other": 404},
        (lambda w, verb=verb: (
            f"/v1/workers/{w.worker}/career-certificates/not-a-uuid/{verb}", None),
         "certificate_id"),
        ("worker_other", lambda w, verb=verb: (
            f"/v1/workers/{w.absent_worker()}/career-certificates/{w.certificate}/{verb}",
            None)),
    ) for verb in ("confirm", "decline")),
    Endpoint(
        "open-site", "POST", lambda w: "/v1/sites",
        lambda w, a: {"site_id": f"{w.k:04d}3000000003", "name": "新現場",
                      "prime_business_id": own_business(w, a, w.prime),
                      "kentaikyo_method": "electronic", "opened_on": "2025-06-01"},
        {"prime_own": 201, "prime_other": 201, "admin": 201},
        (lambda w: ("/v1/sites", {"site_id": f"{w.k:04d}3000000003", "name": "x",
                                  "prime_business_id": w.prime, "kentaikyo_method": "paper",
                                  "opened_on": "2025-06-01"}), "kentaikyo_method"),
    ),
    Endpoint(
        "add-subcontract", "POST", lambda w: f"/v1/sites/{w.site}/subcontracts",
        lambda w, a: {"business_id": w.spare,
                      "parent_business_id": own_business(w, a, w.prime)},
        {"prime_own": 201, "employer_own": 201, "admin": 201, "prime_other": 404,
         "employer_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/subcontracts",
                    {"business_id": w.spare, "parent_business_id": "x"}), "parent_business_id"),
        ("prime_other", lambda w: (f"/v1/sites/{w.absent_site()}/subcontracts",
                                   {"business_id": w.spare, "parent_business_id": w.other})),
    ),
    Endpoint(
        "set-roster-entry", "PUT", lambda w: f"/v1/sites/{w.site}/roster/{w.worker}",
        lambda w, a: {"employer_business_id": w.sub, "trade": "鉄筋", "position": "職長",
                      "since": "2025-06-01"},
        {"prime_own": 200, "employer_own": 200, "admin": 200, "prime_other": 404,
         "employer_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/roster/{w.worker}",
                    {"employer_business_id": w.sub, "trade": "鉄筋", "position": "boss",
                     "since": "2025-06-01"}), "position"),
        ("employer_other", lambda w: (
            f"/v1/sites/{w.absent_site()}/roster/{w.worker}",
            {"employer_business_id": w.sub, "trade": "鉄筋", "position": "職長",
             "since": "2025-06-01"})),
    ),
    Endpoint(
        "close-site", "POST", lambda w: f"/v1/sites/{w.site}/close",
        lambda w, a: {"closed_on": "2025-06-20"},
        {"prime_own": 200, "admin": 200, "prime_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/close", {"closed_on": ""}), "closed_on"),
        ("prime_other", lambda w: (f"/v1/sites/{w.absent_site()}/close",
                                   {"closed_on": "2025-06-20"})),
    ),
    Endpoint(
        "register-reader", "POST", lambda w: "/v1/readers",
        lambda w, a: {"reader_id": f"GATE{w.k}-9", "site_id": w.site, "direction_mode": "in"},
        {"prime_own": 201, "admin": 201, "prime_other": 404},
        (lambda w: ("/v1/readers", {"reader_id": f"GATE{w.k}-9", "site_id": w.site,
                                    "direction_mode": "sideways"}), "direction_mode"),
        ("prime_other", lambda w: ("/v1/readers", {"reader_id": f"GATE{w.k}-9",
                                                   "site_id": w.absent_site()})),
    ),
    Endpoint(
        "retire-reader", "POST", lambda w: f"/v1/readers/{w.reader}/retire",
        lambda w, a: {"reason": "replaced"},
        {"prime_own": 200, "admin": 200, "prime_other": 404},
        (lambda w: (f"/v1/readers/{w.reader}/retire", {"reason": ""}), "reason"),
        ("prime_other", lambda w: (f"/v1/readers/GATE{w.k}-404/retire", {"reason": "x"})),
    ),
    Endpoint(
        "issue-card", "POST", lambda w: "/v1/cards",
        lambda w, a: {"card_id": f"05B2{w.k:04X}", "technician_id": w.worker}, {"admin": 201},
        (lambda w: ("/v1/cards", {"card_id": "zz", "technician_id": w.worker}), "card_id"),
    ),
    Endpoint(
        "revoke-card", "POST", lambda w: f"/v1/cards/{w.card}/revoke",
        lambda w, a: {"reason": "lost"}, {"admin": 200},
        (lambda w: (f"/v1/cards/{w.card}/revoke", {}), "reason"),
    ),
    Endpoint(
        "record-taps", "POST", lambda w: "/v1/taps",
        lambda w, a: {"taps": [tap(w, 1)]}, {"reader": 200, "admin": 200},
        (lambda w: ("/v1/taps", {"taps": {"tap_id": "x"}}), "taps"),
    ),
    Endpoint(
        "request-manual-entry", "POST", lambda w: "/v1/manual-entries",
        lambda w, a: entry_body(w), {"worker_self": 201, "employer_own": 201,
                                     "worker_other": 404, "employer_other": 404},
        (lambda w: ("/v1/manual-entries",
                    entry_body(w) | {"entry_at": "2025-06-18T08:00:00"}), "entry_at"),
        ("worker_other", lambda w: ("/v1/manual-entries", entry_body(w, w.absent_worker()))),
    ),
    _decision("manual-entries", reject=False),
    _decision("manual-entries", reject=True),
    Endpoint(
        "request-correction", "POST", lambda w: "/v1/corrections",
        lambda w, a: correction_body(w), {"worker_self": 201, "employer_own": 201,
                                          "worker_other": 404, "employer_other": 404},
        (lambda w: ("/v1/corrections", correction_body(w) | {"changes": {"colour": "red"}}),
         "changes.colour"),
        ("employer_other", lambda w: ("/v1/corrections",
                                      correction_body(w, w.absent_worker()))),
    ),
    _decision("corrections", reject=False),
    _decision("corrections", reject=True),
    # The world stores no tap, so the site's staff are answered 409 naming tap_id (no flagged
    # tap of that card at the site); the assignment itself is in test_api_site_exceptions.py.
    Endpoint(
        "assign-unknown-card", "POST", lambda w: f"/v1/sites/{w.site}/unknown-cards/"
        f"0DDD{w.k:04X}/assign", lambda w, a: unknown_card_body(w),
        {"prime_own": 409, "admin": 409, "prime_other": 404, "employer_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/unknown-cards/0DDD{w.k:04X}/assign",
                    unknown_card_body(w) | {"technician_id": "12-34"}), "technician_id"),
        ("prime_other", lambda w: (f"/v1/sites/{w.absent_site()}/unknown-cards/"
                                   f"0DDD{w.k:04X}/assign", unknown_card_body(w))),
    ),
    Endpoint(
        "resolve-missing-exit", "POST", lambda w: f"/v1/sites/{w.site}/missing-exits/resolve",
        lambda w, a: missing_exit_body(w),
        {"prime_own": 200, "admin": 200, "prime_other": 404, "employer_other": 404},
        (lambda w: (f"/v1/sites/{w.site}/missing-exits/resolve",
                    missing_exit_body(w) | {"exit_at": "2025-06-19T18:00:00"}), "exit_at"),
        ("prime_other", lambda w: (f"/v1/sites/{w.absent_site()}/missing-exits/resolve",
                                   missing_exit_body(w))),
    ),
    *ENTRY_CHECK_ENDPOINTS,
    *ACCOUNT_ENDPOINTS,
    # Working time (勤怠): the employer reports its workers' hours; a business records its own
    # 36 agreement and disaster work; the prime sets its site's terms. The world declares no
    # disaster period and excludes no closure period, so withdrawing one is a 409 to those who
    # may.
    *(Endpoint(
        f"report-working-{kind}", "POST",
        lambda w, kind=kind: f"/v1/workers/{w.worker}/working-time/{kind}s",
        lambda w, a, body=body: body | ({"employer_business_id": w.sub}
                                        if a is not None and a.role is Role.ADMIN else {}),
        {"employer_own": 200, "admin": 200, "employer_other": 404},
        (lambda w, kind=kind, body=body: (f"/v1/workers/{w.worker}/working-time/{kind}s",
                                          body | {"statutory_minutes": -1}),
         "statutory_minutes"),
        ("employer_other", lambda w, kind=kind, body=body: (
            f"/v1/workers/{w.absent_worker()}/working-time/{kind}s", body)),
    ) for kind, body in (
        ("day", {"work_date": "2025-06-16", "statutory_minutes": 480, "overtime_minutes": 60}),
        ("month", {"month": "2025-06", "statutory_minutes": 9600, "overtime_minutes": 600}))),
    *(Endpoint(
        name, "POST", lambda w, suffix=suffix: f"/v1/businesses/{w.sub}/{suffix}",
        lambda w, a, body=body: body, statuses,
        (lambda w, suffix=suffix, body=body, bad=bad: (
            f"/v1/businesses/{w.sub}/{suffix}", body | bad), next(iter(bad))),
        ("employer_other", lambda w, suffix=suffix, body=body: (
            f"/v1/businesses/{w.k}999/{suffix}", body)),
    ) for name, suffix, body, bad, statuses in (
        ("overtime-agreement", "overtime-agreements",
         {"start_month": "2025-04", "special_clause": True}, {"start_month": "2025-13"},
         {"employer_own": 200, "admin": 200, "employer_other": 404, "prime_own": 404,
          "prime_other": 404}),
        ("declare-disaster-work", "disaster-work",
         {"first_day": "2025-07-01", "last_day": "2025-07-05", "reason": "豪雨災害の復旧"},
         {"last_day": "x"},
         {"employer_own": 200, "admin": 200, "employer_other": 404, "prime_own": 404,
          "prime_other": 404}),
        ("withdraw-disaster-work", "disaster-work/withdraw",
         {"first_day": "2025-07-01", "last_day": "2025-07-05", "reason": "誤登録"},
         {"first_day": "x"},
         {"employer_own": 409, "admin": 409, "employer_other": 404, "prime_own": 404,
          "prime_other": 404}),
    )),
    *(Endpoint(
        name, "POST", lambda w, suffix=suffix: f"/v1/sites/{w.site}/{suffix}",
        lambda w, a, body=body: body(w), statuses,
        (lambda w, suffix=suffix, body=body, bad=bad: (
            f"/v1/sites/{w.site}/{suffix}", body(w) | bad), next(iter(bad))),
        ("prime_other", lambda w, suffix=suffix, body=body: (
            f"/v1/sites/{w.absent_site()}/{suffix}", body(w))),
    ) for name, suffix, body, bad, statuses in (
        ("name-site-orderer", "orderer", lambda w: {"orderer_business_id": w.spare},
         {"orderer_business_id": "12-34"},
         {"prime_own": 200, "admin": 200, "prime_other": 404}),
        ("exclude-closure-period", "closure-exclusions",
         lambda w: {"first_day": "2025-12-29", "last_day": "2026-01-03", "kind": "year_end",
                    "reason": "年末年始"}, {"kind": "お盆"},
         {"prime_own": 200, "admin": 200, "prime_other": 404}),
        ("withdraw-closure-exclusion", "closure-exclusions/withdraw",
         lambda w: {"first_day": "2025-12-29", "last_day": "2026-01-03", "reason": "誤登録"},
         {"last_day": "x"},
         {"prime_own": 409, "admin": 409, "prime_other": 404}),
        ("set-rotating-shifts", "shifts", lambda w: {"rotating_shifts": True},
         {"rotating_shifts": "sometimes"},
         {"prime_own": 200, "admin": 200, "prime_other": 404}),
    )),
)
