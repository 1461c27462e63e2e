"""No existence oracles (Issue 13): for every write that names a worker, site, reader or request,
the answer about one the caller may not see equals the answer about an absent one, byte for byte
but for the IDs asked about and the volatile fields (`position`, a new `certificate_id`), on both
databases.

Four writes used to tell: employments (201 vs 404), career certificates (403 vs 404), the prime's
roster PUT (200 vs 404) and worker registration (409 vs 201). Claims on a worker are now answered
201 either way — stored for a registered worker, for them to confirm — and refusals 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ENDPOINTS,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
    correction_body,
    entry_body,
)

VOLATILE = ("position", "certificate_id")
MASKS = (
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),  # request IDs
    re.compile(r"\b[0-9]{14}\b"),  # technician and site IDs
    re.compile(r"GATE[0-9A-Za-z-]+"),  # reader IDs
    re.compile(r"(?<=business_id: )[0-9]+\b"),  # a business ID named as absent
)
Request = Callable[[World], tuple[str, Any]]


@dataclass(frozen=True)
class Oracle:
    name: str
    role: str
    method: str
    hidden: Request  # names something that exists but the caller may not see
    absent: Request  # the same, naming something that does not exist
    stores_for_hidden: bool = False  # a claim: stored for the registered one, answered alike
    registers_absent: bool = False  # a registration of a new worker (代行申請), site or reader
    answers_as_registered: bool = False  # an ID taken by someone unrelated: 201, nothing stored
    status: int | None = None  # a role that may never run the write: refused alike (403)


def from_matrix() -> list[Oracle]:
    oracles = []
    for endpoint in ENDPOINTS:
        if endpoint.absent is None:
            continue
        role, absent = endpoint.absent

        def hidden(w: World, endpoint: Any = endpoint, role: str = role) -> tuple[str, Any]:
            return endpoint.path(w), endpoint.body(w, w.actors()[role])

        oracles.append(Oracle(endpoint.name, role, endpoint.method, hidden, absent))
    return oracles


def certificate(w: World, technician_id: str) -> tuple[str, Any]:
    return f"/v1/workers/{technician_id}/career-certificates", {
        "certifier_business_id": w.other, "relation": "prime_contractor", "trade": "鉄筋",
        "period_start": "2019-05-01", "period_end": "2024-03-31", "work_days": 900,
        "basis": "施工体制台帳 (2019–2024)"}


def opening(w: World, site_id: str) -> tuple[str, Any]:
    """The other prime opens a site of its own under an ID."""
    return "/v1/sites", {"site_id": site_id, "name": "横浜倉庫 第二期",
                         "prime_business_id": w.other, "kentaikyo_method": "stamp",
                         "opened_on": "2025-06-01"}


def reader_registration(w: World, reader_id: str) -> tuple[str, Any]:
    """The other prime registers a reader on its own site."""
    return "/v1/readers", {"reader_id": reader_id, "site_id": w.other_site,
                           "direction_mode": "auto"}


def roster(w: World, technician_id: str) -> tuple[str, Any]:
    return f"/v1/sites/{w.site}/roster/{technician_id}", {
        "employer_business_id": w.sub, "trade": "鉄筋", "position": "一般", "since": "2025-06-01"}


ORACLES: list[Oracle] = [
    *from_matrix(),
    # the four writes of the issue
    Oracle("register-worker", "employer_other", "POST",
           lambda w: ("/v1/workers", {"technician_id": w.worker, "name": "山田 太郎"}),
           lambda w: ("/v1/workers", {"technician_id": w.absent_worker(), "name": "山田 太郎"}),
           stores_for_hidden=True, registers_absent=True),
    Oracle("claim-employment", "employer_other", "POST",
           lambda w: (f"/v1/workers/{w.worker}/employments",
                      {"business_id": w.other, "since": "2025-06-01"}),
           lambda w: (f"/v1/workers/{w.absent_worker()}/employments",
                      {"business_id": w.other, "since": "2025-06-01"}),
           stores_for_hidden=True),
    Oracle("certificate-as-prime", "prime_other", "POST",
           lambda w: certificate(w, w.worker), lambda w: certificate(w, w.absent_worker()),
           stores_for_hidden=True),
    Oracle("certificate-as-employer", "prime_other", "POST",
           lambda w: (f"/v1/workers/{w.worker}/career-certificates",
                      certificate(w, w.worker)[1] | {"relation": "employer", "basis": None}),
           lambda w: (f"/v1/workers/{w.absent_worker()}/career-certificates",
                      certificate(w, w.worker)[1] | {"relation": "employer", "basis": None})),
    Oracle("roster-of-a-worker-not-employed-there", "prime_own", "PUT",
           lambda w: roster(w, w.other_worker), lambda w: roster(w, w.absent_worker())),
    # registrations of an ID taken by someone the caller has no relation with: answered as a
    # registration of a fresh ID, and nothing is stored about the taken one
    Oracle("open-site-taken-by-another-prime", "prime_other", "POST",
           lambda w: opening(w, w.site), lambda w: opening(w, w.absent_site()),
           registers_absent=True, answers_as_registered=True),
    Oracle("register-reader-taken-at-another-site", "prime_other", "POST",
           lambda w: reader_registration(w, w.reader),
           lambda w: reader_registration(w, f"GATE{w.k}-77"),
           registers_absent=True, answers_as_registered=True),
    # only admin issues cards, and admin sees every card: anyone else is refused alike
    Oracle("issue-card-by-a-prime", "prime_own", "POST",
           lambda w: ("/v1/cards", {"card_id": w.card, "technician_id": w.worker}),
           lambda w: ("/v1/cards", {"card_id": "04FFFFFF", "technician_id": w.worker}),
           status=403),
    # requests naming a site the requester may not see
    Oracle("manual-entry-at-a-hidden-site", "worker_self", "POST",
           lambda w: ("/v1/manual-entries", entry_body(w) | {"site_id": w.other_site}),
           lambda w: ("/v1/manual-entries", entry_body(w) | {"site_id": w.absent_site()})),
    Oracle("correction-at-a-hidden-site", "employer_own", "POST",
           lambda w: ("/v1/corrections", correction_body(w) | {"site_id": w.other_site}),
           lambda w: ("/v1/corrections", correction_body(w) | {"site_id": w.absent_site()})),
]


def shape(response: httpx.Response) -> tuple[int, str, bytes]:
    """Status, media type and body with the IDs masked and the volatile fields left out."""
    text = response.text
    for mask in MASKS:
        text = mask.sub("<id>", text)
    body = orjson.loads(text)
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in VOLATILE}
    return (response.status_code, response.headers["content-type"],
            orjson.dumps(body, option=orjson.OPT_SORT_KEYS))


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda o: o.name)
def test_a_hidden_one_is_answered_as_an_absent_one(api: Api, oracle: Oracle) -> None:
    world = build_world(api.ledger, 1)
    actor = world.actors()[oracle.role]
    before = api.ledger.log_position()
    path, body = oracle.hidden(world)
    hidden = api.request(oracle.method, path, actor, body)
    stored = api.ledger.log_position() > before
    before = api.ledger.log_position()
    path, body = oracle.absent(world)
    absent = api.request(oracle.method, path, actor, body)
    registered = api.ledger.log_position() > before
    assert registered is oracle.registers_absent, "nothing is stored about an absent one"
    assert shape(hidden) == shape(absent), (hidden.text, absent.text)
    expected = oracle.status or (
        201 if oracle.stores_for_hidden or oracle.answers_as_registered else 404)
    assert hidden.status_code == expected, hidden.text
    assert stored is oracle.stores_for_hidden


def test_every_oracle_names_something_that_exists(api: Api) -> None:
    """The hidden requests are about real things: the admin, who sees everything, is not told
    they are absent."""
    for k, oracle in enumerate(ORACLES, start=1):
        world = build_world(api.ledger, k)  # each its own: a decision changes what exists
        admin = world.actors()["admin"]
        path, body = oracle.hidden(world)
        answer = api.request(oracle.method, path, admin, body)
        told_absent = answer.status_code == 404 and "is not registered" in answer.text and (
            answer.json().get("field") in ("technician_id", "site_id", "request_id",
                                           "reader_id", "certificate_id"))
        assert not told_absent, (oracle.name, answer.text)
