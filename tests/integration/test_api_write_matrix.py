"""Writes only by parties with a real relation (Issue 13), on both databases.

- Every write endpoint × every role (related: prime_own, employer_own, worker_self; unrelated:
  prime_other, employer_other, worker_other): a refusal has the exact status of the matrix
  (tests/api_support.py) and leaves the ledger as it was — the same events and the same read
  models, projected before and after.
- The cases of the issue, one test each: a prime's career certificate counts nothing until the
  worker confirms it; overlapping certificates never certify more days than the calendar holds;
  a business claiming someone else's worker sees and changes nothing until the worker confirms;
  a subcontractor adds only below itself; a roster entry names an employer of the worker.
- Bad input is a 422 naming the field, and nothing is written.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import orjson
import pytest

from api.config import ApiSettings
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.queries import level_judgments
from projections.replay import rebuild
from projections.store import READ_MODEL_TABLES, ReadStore
from tests.api_support import (  # noqa: F401  (api_fixture is a fixture)
    ADMIN,
    ENDPOINTS,
    PROBLEM_JSON,
    ROLES,
    Api,
    Endpoint,
    api_fixture,
    build_world,
)


@pytest.fixture(name="api_settings")
def api_settings_fixture() -> ApiSettings:
    """No projection in the app: the tests project themselves, to compare read models."""
    return ApiSettings(reader_cache_seconds=30.0, projection=False)


def read_models(settings: Settings, ledger: Ledger) -> dict[str, list[str]]:
    """Every read-model row, after projecting everything stored so far."""
    store = ReadStore(settings)
    try:
        LogFollower(ledger, store).catch_up()
        with store.read() as tx:
            return {
                table: sorted(repr(tuple(row)) for row in tx.execute(f"SELECT * FROM {{{table}}}"))
                for table in READ_MODEL_TABLES if table != "projection_positions"
            }
    finally:
        store.close()


def certified_days(settings: Settings, ledger: Ledger, technician_id: str) -> int:
    store = ReadStore(settings)
    try:
        LogFollower(ledger, store).catch_up()
        with store.read() as tx:
            [judgment] = level_judgments(tx, technician_id, "鉄筋")
        return judgment.figures.certified.work_days
    finally:
        store.close()


class Unchanged:
    """`with Unchanged(api, settings):` — the block stores no event and changes no read model."""

    def __init__(self, api: Api, settings: Settings) -> None:
        self.api, self.settings = api, settings

    def __enter__(self) -> Unchanged:
        self.position = self.api.ledger.log_position()
        self.models = read_models(self.settings, self.api.ledger)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert self.api.ledger.log_position() == self.position, "a refusal stored events"
            assert read_models(self.settings, self.api.ledger) == self.models


def refusal(response: Any, status: int, field: str | None = None, rule: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    if field is not None:
        assert response.json()["field"] == field, response.text
    if rule is not None:
        assert response.json()["rule"] == rule, response.text


# -- every endpoint × every role: refusals change nothing ---------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_refused_write_leaves_events_and_read_models_as_they_were(
    api: Api, settings: Settings, endpoint: Endpoint
) -> None:
    world = build_world(api.ledger, 1)
    expected = endpoint.expected()
    refused = [role for role in ROLES if not 200 <= expected[role] < 300]
    assert refused, "every endpoint refuses someone"
    actual: dict[str, int] = {}
    for role in refused:
        actor = world.actors()[role]
        with Unchanged(api, settings):
            response = api.request(endpoint.method, endpoint.path(world), actor,
                                   endpoint.body(world, actor))
            assert response.headers["content-type"] == PROBLEM_JSON, (role, response.text)
        actual[role] = response.status_code
    assert actual == {role: expected[role] for role in refused}


# -- the cases of the issue ---------------------------------------------------------------------
def certificate(certifier: str, relation: str, start: str, end: str, days: int,
                **extra: Any) -> dict[str, Any]:
    return {"certifier_business_id": certifier, "relation": relation, "trade": "鉄筋",
            "period_start": start, "period_end": end, "work_days": days} | extra


def test_a_certificate_as_prime_from_an_unrelated_business_counts_only_once_confirmed(
    api: Api, settings: Settings
) -> None:
    w = build_world(api.ledger, 1)
    stranger = Actor(Role.PRIME_CONTRACTOR, w.other)  # no site, no employment with the worker
    path = f"/v1/workers/{w.worker}/career-certificates"
    before = certified_days(settings, api.ledger, w.worker)
    proposed = api.post(path, stranger, certificate(
        w.other, "prime_contractor", "2019-05-01", "2024-03-31", 1500,
        basis="施工体制台帳 (2019–2024)"))
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "pending_confirmation"
    assert certified_days(settings, api.ledger, w.worker) == before == 0

    certificate_id = proposed.json()["certificate_id"]
    with Unchanged(api, settings):  # the certifier cannot confirm its own certificate
        refusal(api.post(f"{path}/{certificate_id}/confirm", stranger), 403)
    confirmed = api.post(f"{path}/{certificate_id}/confirm", Actor(Role.WORKER, w.worker))
    assert confirmed.status_code == 200, confirmed.text
    assert certified_days(settings, api.ledger, w.worker) == 1500


def test_a_prime_certificate_names_what_it_rests_on(api: Api, settings: Settings) -> None:
    w = build_world(api.ledger, 1)
    with Unchanged(api, settings):
        refusal(api.post(f"/v1/workers/{w.worker}/career-certificates",
                         Actor(Role.PRIME_CONTRACTOR, w.prime),
                         certificate(w.prime, "prime_contractor", "2020-04-01", "2021-03-31", 10)),
                422, "basis", "basis.required")


def test_overlapping_certificates_never_certify_more_days_than_the_calendar_holds(
    api: Api, settings: Settings
) -> None:
    """The issue's case: four overlapping certificates certified 8,000 days in a period of
    5,204 calendar days (2010-01-01 … 2024-03-31)."""
    w = build_world(api.ledger, 1)
    veteran = f"{w.k:04d}4444444444"
    api.ledger.register_worker(veteran, "古参 一郎", ADMIN)
    api.ledger.add_qualification(veteran, "玉掛技能講習", date(2010, 1, 1), ADMIN)
    api.ledger.join_employer(veteran, w.sub, date(2010, 1, 1), True, ADMIN)
    employer = Actor(Role.EMPLOYER, w.sub)
    path = f"/v1/workers/{veteran}/career-certificates"
    whole = ("2010-01-01", "2024-03-31")
    for _ in range(2):
        accepted = api.post(path, employer, certificate(w.sub, "employer", *whole, 2000))
        assert accepted.status_code == 201, accepted.text
    with Unchanged(api, settings):
        refusal(api.post(path, employer, certificate(w.sub, "employer", *whole, 2000)), 422,
                "work_days", "career_certificate.calendar")
    # the same through the prime: proposed, but refused when confirmed; it never counts
    proposed = api.post(path, Actor(Role.PRIME_CONTRACTOR, w.prime), certificate(
        w.prime, "prime_contractor", "2015-01-01", "2020-12-31", 2000, basis="施工体制台帳"))
    assert proposed.status_code == 201, proposed.text
    with Unchanged(api, settings):
        refusal(api.post(f"{path}/{proposed.json()['certificate_id']}/confirm", employer), 422,
                "work_days", "career_certificate.calendar")
    # a certificate of its own days within the calendar still fits
    assert api.post(path, employer, certificate(w.sub, "employer", *whole, 1204)).status_code == 201
    assert certified_days(settings, api.ledger, veteran) == 5204


def test_an_employer_certifies_only_a_period_it_employed_the_worker(
    api: Api, settings: Settings
) -> None:
    w = build_world(api.ledger, 1)  # sub employs the worker since 2020-04-01
    path = f"/v1/workers/{w.worker}/career-certificates"
    employer = Actor(Role.EMPLOYER, w.sub)
    with Unchanged(api, settings):
        refusal(api.post(path, employer, certificate(w.sub, "employer", "2019-06-01",
                                                     "2024-03-31", 100)),
                422, "period_start", "career_certificate.employment")
        # the worker's other claimant (spare, pending) and a stranger see no worker at all
        for business in (w.spare, w.other):
            refusal(api.post(path, Actor(Role.EMPLOYER, business), certificate(
                business, "employer", "2020-04-01", "2024-03-31", 100)), 404, "technician_id")


def test_a_business_claiming_someone_elses_worker_sees_and_changes_nothing_until_confirmed(
    api: Api, settings: Settings
) -> None:
    w = build_world(api.ledger, 1)
    claimant = Actor(Role.EMPLOYER, w.other)
    claimed = api.post(f"/v1/workers/{w.worker}/employments", claimant,
                       {"business_id": w.other, "since": "2025-06-01"})
    assert claimed.status_code == 201, claimed.text
    worker_path = f"/v1/workers/{w.worker}"
    with Unchanged(api, settings):
        for method, path, body in (
            ("GET", f"{worker_path}/levels", None),
            ("GET", f"{worker_path}/career?date_from=2025-06-01&date_to=2025-06-30", None),
            ("POST", f"{worker_path}/qualifications",
             {"qualification": "フォークリフト運転技能講習", "acquired_on": "2021-05-01"}),
            ("POST", f"{worker_path}/kentaikyo", {"member_number": "1234", "since": "2025-06-01"}),
            ("POST", f"{worker_path}/social-insurance",
             {"health": "enrolled", "pension": "enrolled", "employment": "enrolled",
              "as_of": "2025-06-01"}),
            ("POST", f"{worker_path}/employment-requests/{w.other}/confirm", None),
        ):
            refusal(api.request(method, path, claimant, body), 404, "technician_id")
    confirmed = api.post(f"{worker_path}/employment-requests/{w.other}/confirm",
                         Actor(Role.EMPLOYER, w.sub))  # through the employer's office
    assert confirmed.status_code == 200, confirmed.text
    models = read_models(settings, api.ledger)  # projected: the claimant reads like one now
    [row] = [r for r in models["worker_employments"] if f"'{w.other}'" in r and w.worker in r]
    types = {position: type(e).__qualname__ for position, e in api.ledger.iter_log()}
    positions = re.search(r"'(\[[0-9, ]+\])'", row)
    assert positions is not None, row
    assert [types[p] for p in orjson.loads(positions.group(1))] == [
        "Worker.EmploymentRequested", "Worker.EmploymentConfirmed"]  # the row names both
    assert api.request("GET", f"{worker_path}/levels", claimant).status_code == 200
    added = api.post(f"{worker_path}/qualifications", claimant,
                     {"qualification": "フォークリフト運転技能講習", "acquired_on": "2021-05-01"})
    assert added.status_code == 201, added.text


def test_a_declined_claim_never_counts(api: Api, settings: Settings) -> None:
    w = build_world(api.ledger, 1)  # spare's claim on the worker is pending
    declined = api.post(f"/v1/workers/{w.worker}/employment-requests/{w.spare}/decline",
                        Actor(Role.WORKER, w.worker))
    assert declined.status_code == 200, declined.text
    models = read_models(settings, api.ledger)
    assert not any(f"'{w.spare}'" in row for row in models["worker_employments"])
    with Unchanged(api, settings):  # nothing left to confirm
        refusal(api.post(f"/v1/workers/{w.worker}/employment-requests/{w.spare}/confirm",
                         Actor(Role.WORKER, w.worker)), 404, "business_id")


def test_a_registration_of_a_registered_worker_is_a_claim_the_worker_confirms(
    api: Api, settings: Settings
) -> None:
    w = build_world(api.ledger, 1)
    claimant = Actor(Role.EMPLOYER, w.other)
    answer = api.post("/v1/workers", claimant, {"technician_id": w.worker, "name": "別名"})
    assert answer.status_code == 201, answer.text
    assert w.other not in api.ledger.worker(w.worker).employers_on(date(2025, 6, 20))
    assert w.other in api.ledger.worker(w.worker).employment_requests
    again = api.post("/v1/workers", claimant, {"technician_id": w.worker, "name": "別名"})
    assert again.status_code == 201  # asking again stores nothing new
    assert api.ledger.log_position() == again.json()["position"] == answer.json()["position"]
    # the worker's own employer registering them again: it sees them, so it is told
    refusal(api.post("/v1/workers", Actor(Role.EMPLOYER, w.sub),
                     {"technician_id": w.worker, "name": "山田 太郎"}), 409, "technician_id")


def test_a_new_worker_registered_by_a_business_is_its_worker(api: Api) -> None:
    w = build_world(api.ledger, 1)
    new = f"{w.k:04d}6666666666"
    answer = api.post("/v1/workers", Actor(Role.EMPLOYER, w.other),
                      {"technician_id": new, "name": "新人", "since": "2025-06-01"})
    assert answer.status_code == 201, answer.text
    assert api.ledger.worker(new).employers_on(date(2025, 6, 1)) == {w.other}


# -- registrations of a taken site, reader or card ID ------------------------------------------
def opening(site_id: str, prime: str, name: str = "新宿三丁目ビル") -> dict[str, Any]:
    return {"site_id": site_id, "name": name, "prime_business_id": prime,
            "kentaikyo_method": "electronic", "opened_on": "2024-01-09"}


def test_opening_a_taken_site_id_tells_only_those_related_to_the_site(
    api: Api, settings: Settings
) -> None:
    """The site's prime retrying the same opening is answered as the first time; the prime or
    admin opening something else under its ID is told 409; an unrelated prime is answered as
    for a fresh ID (201, the same body), and nothing is stored."""
    w = build_world(api.ledger, 1)
    prime, other = Actor(Role.PRIME_CONTRACTOR, w.prime), Actor(Role.PRIME_CONTRACTOR, w.other)
    with Unchanged(api, settings):
        retry = api.post("/v1/sites", prime, opening(w.site, w.prime))
        assert retry.status_code == 201, retry.text
        assert retry.json() == {"site_id": w.site, "position": api.ledger.log_position()}
        refusal(api.post("/v1/sites", prime, opening(w.site, w.prime, "別名")), 409, "site_id",
                "site_id.unique")
        refusal(api.post("/v1/sites", ADMIN, opening(w.site, w.other)), 409, "site_id")
        hidden = api.post("/v1/sites", other, opening(w.site, w.other))
        assert hidden.status_code == 201, hidden.text
        assert hidden.json() == {"site_id": w.site, "position": api.ledger.log_position()}
    assert api.ledger.site(w.site).prime_business_id == w.prime


def test_registering_a_taken_reader_id_tells_only_those_related_to_its_site(
    api: Api, settings: Settings
) -> None:
    w = build_world(api.ledger, 1)
    prime, other = Actor(Role.PRIME_CONTRACTOR, w.prime), Actor(Role.PRIME_CONTRACTOR, w.other)
    same = {"reader_id": w.reader, "site_id": w.site, "direction_mode": "auto"}
    with Unchanged(api, settings):
        retry = api.post("/v1/readers", prime, same)
        assert retry.status_code == 201, retry.text
        refusal(api.post("/v1/readers", prime, same | {"direction_mode": "in"}), 409,
                "reader_id", "reader_id.unique")
        refusal(api.post("/v1/readers", ADMIN, same | {"site_id": w.other_site}), 409,
                "reader_id")
        hidden = api.post("/v1/readers", other, same | {"site_id": w.other_site})
        assert hidden.status_code == 201, hidden.text
        assert hidden.json() == {"reader_id": w.reader, "site_id": w.other_site,
                                 "position": api.ledger.log_position()}
    assert api.ledger.reader(w.reader).site_id == w.site
    # a retired reader's ID is not registered again, even by its own prime
    api.ledger.retire_reader(w.reader, "replaced", prime)
    with Unchanged(api, settings):
        refusal(api.post("/v1/readers", prime, same), 409, "reader_id")


def test_issuing_a_taken_card_id_is_for_admin_alone(api: Api, settings: Settings) -> None:
    w = build_world(api.ledger, 1)
    same = {"card_id": w.card, "technician_id": w.worker}
    with Unchanged(api, settings):
        assert api.post("/v1/cards", ADMIN, same).status_code == 201
        refusal(api.post("/v1/cards", ADMIN, same | {"technician_id": w.other_worker}), 409,
                "card_id")
        for role in ("prime_own", "prime_other", "employer_other", "worker_self"):
            refusal(api.post("/v1/cards", w.actors()[role], same), 403)


def test_a_subcontractor_adds_only_below_itself(api: Api, settings: Settings) -> None:
    w = build_world(api.ledger, 1)
    sub = Actor(Role.EMPLOYER, w.sub)
    path = f"/v1/sites/{w.site}/subcontracts"
    with Unchanged(api, settings):
        refusal(api.post(path, sub, {"business_id": w.spare, "parent_business_id": w.prime}),
                403, "actor", "subcontract.actor")
        refusal(api.post(path, Actor(Role.EMPLOYER, w.other),
                         {"business_id": w.spare, "parent_business_id": w.other}), 404, "site_id")
    below = api.post(path, sub, {"business_id": w.spare, "parent_business_id": w.sub})
    assert below.status_code == 201, below.text
    assert api.ledger.site(w.site).upper_businesses_of(w.spare) == [w.sub, w.prime]


def test_a_roster_entry_names_an_employer_on_the_site_that_employs_the_worker(
    api: Api, settings: Settings
) -> None:
    w = build_world(api.ledger, 1)
    body = {"employer_business_id": w.sub, "trade": "鉄筋", "position": "一般",
            "since": "2025-06-01"}
    stranger_worker = f"/v1/sites/{w.site}/roster/{w.other_worker}"  # employed by other only
    with Unchanged(api, settings):
        refusal(api.request("PUT", stranger_worker, Actor(Role.PRIME_CONTRACTOR, w.prime), body),
                404, "technician_id", "technician_id.exists")
        refusal(api.request("PUT", stranger_worker, ADMIN, body), 409, "employer_business_id",
                "roster.employment")
        # an employer that is not on the site, for a worker it employs
        refusal(api.request("PUT", stranger_worker, ADMIN,
                            body | {"employer_business_id": w.other}), 404,
                "employer_business_id")


# -- bad input: 422 naming the field, nothing written ---------------------------------------------
BAD_CERTIFICATES = [
    ("relation", {"relation": "friend"}),
    ("period_start", {"period_start": "2023-04-01", "period_end": "2022-03-31"}),
    ("period_end", {"period_end": "2024-04-01"}),
    ("period_end", {"period_start": "2030-01-01", "period_end": "2030-03-31"}),
    ("work_days", {"work_days": 400, "period_start": "2023-04-01"}),
    ("foreman_days", {"work_days": 10, "foreman_days": 11}),
    ("certifier_business_id", {"certifier_business_id": "12-3"}),
    ("basis", {"basis": "x" * 501}),
]


@pytest.mark.parametrize(("field", "change"), BAD_CERTIFICATES, ids=[b[0] for b in
                                                                      BAD_CERTIFICATES])
@pytest.mark.parametrize("relation", ["employer", "prime_contractor"])
def test_a_bad_certificate_is_a_422_naming_the_field(
    api: Api, settings: Settings, field: str, change: dict[str, Any], relation: str
) -> None:
    w = build_world(api.ledger, 1)
    certifier = w.sub if relation == "employer" else w.prime
    role = Role.EMPLOYER if relation == "employer" else Role.PRIME_CONTRACTOR
    extra = {} if relation == "employer" else {"basis": "施工体制台帳"}
    body = certificate(certifier, relation, "2023-04-01", "2024-03-31", 100, **extra) | change
    if field == "basis" and relation == "employer":
        body.pop("basis")
        body["basis"] = "not for an employer"  # an employer's certificate names no basis
    if field == "certifier_business_id":
        actor = Actor(role, certifier)
    else:
        actor = Actor(role, body["certifier_business_id"])
    with Unchanged(api, settings):
        response = api.post(f"/v1/workers/{w.worker}/career-certificates", actor, body)
        refusal(response, 422, field)
        assert response.json()["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize("path", [
    "/v1/workers/123/employments", "/v1/workers/1234567890123X/employment-requests/1/confirm",
    "/v1/workers/12345678901234/career-certificates/xyz/confirm"])
def test_a_malformed_id_is_a_422_naming_it(api: Api, settings: Settings, path: str) -> None:
    build_world(api.ledger, 1)
    body = {"business_id": "1300", "since": "2025-06-01"} if path.endswith("employments") else None
    with Unchanged(api, settings):
        response = api.post(path, Actor(Role.EMPLOYER, "1300"), body)
        refusal(response, 422)
        assert response.json()["field"] in ("technician_id", "certificate_id")


def test_a_claimed_period_must_be_a_date(api: Api, settings: Settings) -> None:
    w = build_world(api.ledger, 1)
    with Unchanged(api, settings):
        refusal(api.post(f"/v1/workers/{w.worker}/employments",
                         Actor(Role.EMPLOYER, w.other),
                         {"business_id": w.other, "since": "2025-13-01"}), 422, "since")


def test_admin_who_sees_everything_is_told_a_worker_is_absent(
    api: Api, settings: Settings
) -> None:
    w = build_world(api.ledger, 1)
    with Unchanged(api, settings):
        refusal(api.post(f"/v1/workers/{w.absent_worker()}/career-certificates", ADMIN,
                         certificate(w.prime, "prime_contractor", "2020-04-01", "2021-03-31", 10,
                                     basis="施工体制台帳")), 404, "technician_id")


def test_claims_and_consents_project_the_same_live_and_rebuilt(
    api: Api, settings: Settings
) -> None:
    """The new events in the incremental projection equal a full rebuild (one event a batch, so
    every claim and its decision land in different batches)."""
    w = build_world(api.ledger, 1)  # spare's claim and prime's certificate are pending
    other = Actor(Role.EMPLOYER, w.other)
    path = f"/v1/workers/{w.worker}/career-certificates"
    declined = api.post(path, Actor(Role.PRIME_CONTRACTOR, w.prime), certificate(
        w.prime, "prime_contractor", "2020-04-01", "2021-03-31", 100, basis="施工体制台帳"))
    for method, url, actor in (
        ("POST", f"/v1/workers/{w.worker}/employments", other),
        ("POST", f"/v1/workers/{w.worker}/employment-requests/{w.spare}/confirm", ADMIN),
        ("POST", f"{path}/{w.certificate}/confirm", Actor(Role.WORKER, w.worker)),
        ("POST", f"{path}/{declined.json()['certificate_id']}/decline", ADMIN),
    ):
        body = {"business_id": w.other, "since": "2025-06-01"} if "employments" in url else None
        assert api.request(method, url, actor, body).is_success
    store = ReadStore(settings)
    try:
        LogFollower(api.ledger, store, batch_size=1).catch_up()
    finally:
        store.close()
    live = read_models(settings, api.ledger)
    rebuild(api.ledger, settings)
    assert read_models(settings, api.ledger) == live
    assert sum("'pending'" in row for row in live["worker_employment_requests"]) == 1  # other's
    assert [row.count("'confirmed'") for row in live["worker_certificate_proposals"]
            if "'confirmed'" in row] == [1]
    assert sum(w.worker in row for row in live["worker_certificates"]) == 1
