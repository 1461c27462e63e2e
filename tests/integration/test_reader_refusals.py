"""Both transports of the reader agent refuse alike (Issue 12: the in-process transport follows
exactly the HTTP path's rule, `projections.tap_answers.check_reader_taps`): a retired reader
and an unregistered one append nothing with their own key, and the agent hears the same answer
either way, keeping the taps in its spool. On both databases."""

from __future__ import annotations

import io
import urllib.error
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from ledger.domain.registry import DirectionMode
from readers.http_transport import _refusal
from readers.identity import CardIdentity
from readers.inprocess import InProcessTransport
from readers.spool import Spool
from readers.transport import TransportUnauthorized, TransportUnavailable
from readers.uploader import Uploader
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    Api,
    api_fixture,
    api_settings_fixture,
    build_world,
    tap,
)

AT = datetime(2025, 6, 20, 9, 58, tzinfo=clock.JST)


def over_http_the_agent_hears(status: int) -> type[Exception]:
    """What the HTTP transport makes of a refusal with this status."""
    error = urllib.error.HTTPError("http://ledger/v1/taps", status, "refused", Message(),
                                   io.BytesIO(b"{}"))
    return type(_refusal(error))


@pytest.mark.parametrize(("case", "status", "heard"), [
    ("retired", 403, TransportUnauthorized),
    ("unregistered", 404, TransportUnavailable),
])
def test_a_retired_or_unregistered_reader_is_refused_alike_on_both_paths(
    api: Api, tmp_path: Path, case: str, status: int, heard: type[Exception]
) -> None:
    world = build_world(api.ledger, 1)
    reader = world.reader if case == "retired" else "GATE-NOBODY"
    if case == "retired":
        api.ledger.retire_reader(world.reader, "replaced",
                                 Actor(Role.PRIME_CONTRACTOR, world.prime))
    before = api.ledger.log_position()

    over_http = api.post("/v1/taps", Actor(Role.READER, reader), {
        "taps": [tap(world, 1, tap_id=f"{reader}:1", reader_id=reader)]})
    assert over_http.status_code == status, over_http.text
    assert over_http.json()["field"] == "reader_id"
    assert over_http_the_agent_hears(status) is heard

    spool = Spool(tmp_path / "spool.db", reader, first_sequence=1)
    spool.record_all([(CardIdentity(card_id=world.card), AT)], DirectionMode.AUTO,
                      timedelta(seconds=0))
    with pytest.raises(heard):
        InProcessTransport(api.ledger, reader).send(spool.pending(10))
    with pytest.raises(heard):
        Uploader(spool, InProcessTransport(api.ledger, reader)).upload_once()
    assert spool.status().pending == 1 and spool.status().dead == 0, "the taps are kept"
    assert api.ledger.log_position() == before, "nothing is stored on either path"


def test_a_registered_reader_appends_on_both_paths(api: Api, tmp_path: Path) -> None:
    """The refusals above are about the reader, not the transports: its own key appends."""
    world = build_world(api.ledger, 1)
    over_http = api.post("/v1/taps", Actor(Role.READER, world.reader), {"taps": [tap(world, 1)]})
    assert over_http.status_code == 200 and over_http.json()["results"][0]["status"] == "accepted"
    spool = Spool(tmp_path / "spool.db", world.reader, first_sequence=2)
    spool.record_all([(CardIdentity(card_id=world.card), AT)], DirectionMode.AUTO,
                      timedelta(seconds=0))
    [answer] = InProcessTransport(api.ledger, world.reader).send(spool.pending(10)).results
    assert answer.status == "accepted", answer
