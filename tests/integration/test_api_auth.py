"""Bearer keys: 401 for anything but an active key's token; `ledger keys …` on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

import api.cli.keys  # noqa: F401  (registers the `keys` commands)
from api.cli.common import app as cli
from ledger.actors import Actor, Role
from ledger.settings import Settings, get_settings
from ledger.storage.keys import KeyStore
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    PROBLEM_JSON,
    Api,
    api_fixture,
    api_settings_fixture,
    build_world,
    tap,
)

TOKEN = re.compile(r"^ldg_[0-9a-f]{16}_\S+$", re.MULTILINE)


def assert_unauthenticated(api: Api, headers: dict[str, str]) -> None:
    before = api.ledger.log_position()
    response = api.client.post("/v1/businesses", json={"business_id": "1", "name": "x"},
                               headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "urn:ccus-ledger:problem:unauthenticated"
    assert api.ledger.log_position() == before


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Basic b3BzOnNlY3JldA=="},
    {"Authorization": "Bearer not-a-token"}, {"Authorization": "Bearer ldg_0123456789abcdef_x"},
], ids=["none", "empty", "basic", "garbage", "unknown-key"])
def test_no_usable_token_is_401(api: Api, headers: dict[str, str]) -> None:
    assert_unauthenticated(api, headers)


def test_the_token_is_checked_before_the_body(api: Api) -> None:
    """Even a body that is not JSON: FastAPI parses it before any dependency runs."""
    for body in (b"{not json", b'{"business_id": 5}'):
        no_token = api.client.post("/v1/businesses", content=body,
                                   headers={"Content-Type": "application/json"})
        assert no_token.status_code == 401, (body, no_token.text)
        with_token = api.client.post("/v1/businesses", content=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {api.token(ADMIN)}"})
        assert with_token.status_code == 422, (body, with_token.text)


def test_the_right_key_with_the_wrong_secret_is_401(api: Api) -> None:
    token = api.token(ADMIN)
    assert_unauthenticated(api, {"Authorization": f"Bearer {token[:-4]}AAAA"})


def test_a_revoked_key_is_401_from_the_next_request(api: Api) -> None:
    issued = api.keys.create(Role.ADMIN, "leaver")
    headers = {"Authorization": f"Bearer {issued.token}"}
    ok = api.client.post("/v1/businesses", json={"business_id": "1", "name": "x"},
                         headers=headers)
    assert ok.status_code == 201
    api.keys.revoke(issued.key.key_id)
    assert_unauthenticated(api, headers)


def test_a_key_acts_as_its_subject(api: Api) -> None:
    """The events name the key's party: a reader key's taps are the reader's."""
    world = build_world(api.ledger, 1)
    gate = Actor(Role.READER, world.reader)
    api.post("/v1/taps", gate, {"taps": [tap(world, 1)]})
    last = [event for _, event in api.ledger.iter_log()][-1]
    assert vars(last)["actor"] == gate


def test_keys_are_stored_hashed(settings: Settings) -> None:
    store = KeyStore(settings)
    try:
        issued = store.create(Role.WORKER, "12345678901234")
        secret = issued.token.rsplit("_", 1)[1]
        rows = store._execute("SELECT token_hash FROM api_keys WHERE key_id = %s",
                              (issued.key.key_id,))
    finally:
        store.close()
    assert secret not in rows[0][0] and len(rows[0][0]) == 64


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """`ledger …` commands read the test database from the environment."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_keys_create_list_revoke(cli_env: Settings, api: Api) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--role", "employer", "--business", "200"])
    assert created.exit_code == 0, created.output
    tokens = TOKEN.findall(created.output)
    assert len(tokens) == 1
    key_id = tokens[0].split("_")[1]
    assert api.keys.authenticate(tokens[0]) == Actor(Role.EMPLOYER, "200")

    listed = runner.invoke(cli, ["keys", "list"])
    assert key_id in listed.output and "employer" in listed.output
    assert tokens[0] not in listed.output  # the token is shown once only

    revoked = runner.invoke(cli, ["keys", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert api.keys.authenticate(tokens[0]) is None
    again = runner.invoke(cli, ["keys", "revoke", key_id])
    assert again.exit_code == 2 and "revoked already" in again.output


@pytest.mark.parametrize("arguments", [
    ["--role", "reader", "--business", "100"],
    ["--role", "worker", "--worker", "123"],
    ["--role", "admin"],
    ["--role", "system", "--name", "cron"],
    ["--role", "employer", "--business", "100", "--name", "x"],
], ids=["reader-with-business", "malformed-technician-id", "admin-without-name", "system",
        "two-subjects"])
def test_keys_create_refuses_a_subject_that_does_not_fit_the_role(
    cli_env: Settings, arguments: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["keys", "create", *arguments])
    assert result.exit_code == 2, result.output
    assert "refused" in result.output
    assert not TOKEN.search(result.output)


# -- reads: the token is checked in the read's own trip, on the connection that reads ----------
def career_of(world_worker: str, **query: str) -> str:
    params = {"date_from": "2025-06-01", "date_to": "2025-06-30", **query}
    return f"/v1/workers/{world_worker}/records?" + "&".join(f"{k}={v}" for k, v in params.items())


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Basic b3BzOnNlY3JldA=="},
    {"Authorization": "Bearer not-a-token"}, {"Authorization": "Bearer ldg_0123456789abcdef_x"},
], ids=["none", "empty", "basic", "garbage", "unknown-key"])
def test_a_read_without_a_usable_token_is_401(api: Api, headers: dict[str, str]) -> None:
    world = build_world(api.ledger, 1)
    for path in (career_of(world.worker), f"/v1/workers/{world.worker}/career"
                 "?date_from=2025-06-01&date_to=2025-06-30"):
        response = api.client.get(path, headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == PROBLEM_JSON


def test_a_revoked_key_reads_nothing_from_the_next_request(api: Api) -> None:
    world = build_world(api.ledger, 1)
    issued = api.keys.create(Role.WORKER, world.worker)
    headers = {"Authorization": f"Bearer {issued.token}"}
    position = str(api.ledger.log_position())
    read = api.client.get(career_of(world.worker, min_position=position), headers=headers)
    assert read.status_code == 200, read.text
    api.keys.revoke(issued.key.key_id)
    refused = api.client.get(career_of(world.worker), headers=headers)
    assert refused.status_code == 401, refused.text
    assert refused.json()["type"] == "urn:ccus-ledger:problem:unauthenticated"


def test_a_read_checks_the_token_then_the_role_then_the_parameters(api: Api) -> None:
    """401 before 403 before 422, whatever else is wrong with the request: a bad cursor, dates
    in the wrong order, a position past the log's head, a worker that is not the caller."""
    world = build_world(api.ledger, 1)
    worker = Actor(Role.WORKER, world.worker)
    wrong = {"cursor": "bm90LWEtY3Vyc29y"}, {"date_from": "2025-07-01"}, {"min_position": "999999"}
    revoked = api.keys.create(Role.WORKER, world.worker)
    api.keys.revoke(revoked.key.key_id)
    for query in wrong:
        path = career_of(world.worker, **query)
        for token in (None, "ldg_0123456789abcdef_x", revoked.token, api.token(worker)[:-2]):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            assert api.client.get(path, headers=headers).status_code == 401, (query, token)
        reader = api.request("GET", path, Actor(Role.READER, world.reader))
        assert reader.status_code == 403, (query, reader.text)
        assert api.request("GET", path, worker).status_code == 422, query
        other = api.request("GET", career_of(world.other_worker, **query), worker)
        assert other.status_code == 422, query  # the parameters first, then whose records
