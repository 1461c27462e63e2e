"""The in-process transport, for a single-box install: the agent calls the Ledger directly, and
answers each tap by the rules the HTTP route answers by (`projections.tap_answers`): the same
check of the reader (registered, not retired, its own taps only), the same parse of the same
payload, the same duplicate and conflict check, the same flags. A refusal ends as the HTTP
route's would at the agent: a retired reader (403) as unauthorized, an unregistered one (404)
as unavailable, so its taps stay in the spool."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import psycopg
from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.taps import TapObservation
from ledger.errors import LedgerError, NotPermitted, UnknownReference
from projections.store import ReadStore
from projections.tap_answers import (
    active_reader_site,
    answer_taps,
    check_reader_taps,
    parse_tap,
)
from readers.delivery import TapResult, UploadAck
from readers.spool import SpooledTap
from readers.transport import (
    BatchRefused,
    TransportUnauthorized,
    TransportUnavailable,
    tap_payload,
)


class InProcessTransport:
    def __init__(self, ledger: Ledger, reader_id: str, actor: Actor | None = None) -> None:
        """Appends as the reader itself; an operator's import may append as admin, which (as
        over HTTP with an admin key) appends for any reader, registered or not."""
        self.ledger = ledger
        self.actor = actor or Actor(Role.READER, reader_id)
        self.store = ReadStore(ledger.settings, read_only=True)  # the registries taps are judged by

    def send(self, taps: Sequence[SpooledTap]) -> UploadAck:
        parsed = [parse_tap(tap_payload(tap)) for tap in taps]
        observations = [item for item in parsed if isinstance(item, TapObservation)]
        try:
            check_reader_taps(self.active_site, self.actor, observations)
            receipts = self.ledger.record_taps(observations, self.actor) if observations else []
            with self.store.read() as tx:
                answers = answer_taps(tx, self.ledger, parsed, receipts)
        except NotPermitted as error:
            raise TransportUnauthorized(str(error)) from None
        except UnknownReference as error:  # the HTTP route's 404: kept, sent again later
            raise TransportUnavailable(f"ledger: {error}") from None
        except LedgerError as error:
            raise BatchRefused(str(error)) from None
        except (PersistenceError, ConnectionPoolClosedError, sqlite3.Error,
                psycopg.Error) as error:  # no answer: the batch is sent again, as duplicates
            raise TransportUnavailable(f"ledger database: {error}") from None
        return UploadAck(
            [TapResult(tap.tap_id if a.tap_id is None else a.tap_id, a.status, a.flags,
                       a.reason, a.position) for tap, a in zip(taps, answers, strict=True)],
            server_time=clock.now())

    def active_site(self, reader_id: str) -> str:
        return active_reader_site(self.ledger, reader_id)

    def close(self) -> None:
        self.store.close()
