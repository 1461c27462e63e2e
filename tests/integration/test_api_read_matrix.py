"""Who may read what: every role × every read endpoint × own and other data, exact statuses, on
both databases — and no answer, page or CSV holds a record its caller may not see.

"own" data is site_a's side of the world (prime_a, sub_a, worker), "other" site_b's (prime_b,
sub_b, other_worker); `worker` worked at both sites (tests/api_read_support.py).
"""

from __future__ import annotations

import re

import pytest

from api.main import create_app
from ledger.domain.settlement.career_proof import CareerProof, verify
from ledger.domain.settlement.heads import public_key_bytes
from ledger.storage import seal_key
from tests.api_read_support import (  # noqa: F401  (read_api_fixture is a fixture)
    D1,
    D2,
    READ_ENDPOINTS,
    READ_ROLES,
    TODAY,
    ReadEndpoint,
    ReadWorld,
    csv_rows,
    foreign,
    identified,
    read_all,
    read_api_fixture,
)
from tests.api_support import PROBLEM_JSON, Api

TARGETS = ("own", "other")
SEALED_THROUGH = TODAY  # the read world's days, sealed: career proofs prove them


@pytest.mark.parametrize("endpoint", READ_ENDPOINTS, ids=lambda e: e.name)
def test_who_may_read_each_endpoint_and_what_they_see(
    read_api: tuple[Api, ReadWorld], endpoint: ReadEndpoint
) -> None:
    api, world = read_api
    actual: dict[tuple[str, str], int] = {}
    leaks: list[str] = []
    for role in READ_ROLES:
        actor = world.actors()[role]
        for target in TARGETS:
            status, pages = read_all(api, endpoint, endpoint.path(world, target), actor,
                                     endpoint.body(world, target))
            actual[(role, target)] = status
            for page in pages:
                if not page.is_success:
                    assert page.headers["content-type"] == PROBLEM_JSON, (role, page.text)
                    continue
                items = csv_rows(page) if endpoint.csv else list(identified(page.json()))
                leaks += [f"{role}/{target}: {why}" for item in items
                          if (why := foreign(world, actor, endpoint.kind, item))]
    assert actual == endpoint.expected()
    assert leaks == []


def test_every_read_endpoint_is_in_the_matrix() -> None:
    document = create_app().openapi()
    reads = {(method.upper(), path) for path, item in document["paths"].items()
             for method in item if method == "get" or path == "/v1/audit/replays"}
    reads -= {("GET", "/v1/health"), ("GET", "/v1/ready")}
    # Signed heads are public, as a transparency log's (no worker or business in them).
    reads -= {("GET", path) for path in ("/v1/seals", "/v1/seals/public-key",
                                         "/v1/seals/consistency", "/v1/seals/{day}")}
    world = ReadWorld.numbered(1)
    covered = {(e.method, template) for e in READ_ENDPOINTS for method, template in reads
               if method == e.method and _matches(template, e.path(world, "own").split("?")[0])}
    assert covered == reads


def _matches(template: str, path: str) -> bool:
    pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template))
    return re.fullmatch(pattern, path) is not None


def test_a_career_proof_read_through_the_api_holds_offline(
    read_api: tuple[Api, ReadWorld]
) -> None:
    """The worker and each employer of theirs read the same whole career, proven to the sealed
    days (the pending manual entries count no day)."""
    api, world = read_api
    key = public_key_bytes(seal_key.load(api.ledger.settings.seal_key_path))
    path = f"/v1/workers/{world.worker}/career-proof?trade=鉄筋"
    statements = []
    for role in ("worker_self", "employer_own", "employer_other"):
        answer = api.request("GET", path, world.actors()[role])
        assert answer.status_code == 200, (role, answer.text)
        proof = CareerProof.from_json(answer.content)
        verified = verify(proof, [key])
        assert (verified.records, verified.left_out, verified.sealed_through) == (
            3, 0, SEALED_THROUGH)
        s = proof.statement
        assert [(r["work_date"], r["site_id"]) for r in s["records"]] == [
            (D1.isoformat(), world.site_a), (D2.isoformat(), world.site_b),
            (TODAY.isoformat(), world.site_b)]
        statements.append({k: v for k, v in s.items() if k != "issued_on"})
    assert statements[0] == statements[1] == statements[2]
