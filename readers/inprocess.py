"""The in-process transport, for a single-box install: the agent calls the Ledger directly, and
answers each tap by the rules the HTTP route answers by (`projections.tap_answers`): the same
parse of the same payload, the same duplicate and conflict check, the same flags."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import psycopg
from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.taps import TapObservation
from ledger.errors import LedgerError, NotPermitted
from projections.store import ReadStore
from projections.tap_answers import answer_taps, parse_tap
from readers.delivery import TapResult, UploadAck
from readers.spool import SpooledTap
from readers.transport import (
    BatchRefused,
    TransportUnauthorized,
    TransportUnavailable,
    tap_payload,
)


class InProcessTransport:
    def __init__(self, ledger: Ledger, reader_id: str) -> None:
        self.ledger = ledger
        self.actor = Actor(Role.READER, reader_id)
        self.store = ReadStore(ledger.settings, read_only=True)  # the registries taps are judged by

    def send(self, taps: Sequence[SpooledTap]) -> UploadAck:
        parsed = [parse_tap(tap_payload(tap)) for tap in taps]
        observations = [item for item in parsed if isinstance(item, TapObservation)]
        try:
            receipts = self.ledger.record_taps(observations, self.actor) if observations else []
            with self.store.read() as tx:
                answers = answer_taps(tx, self.ledger, parsed, receipts)
        except NotPermitted as error:
            raise TransportUnauthorized(str(error)) from None
        except LedgerError as error:
            raise BatchRefused(str(error)) from None
        except (PersistenceError, ConnectionPoolClosedError, sqlite3.Error,
                psycopg.Error) as error:  # no answer: the batch is sent again, as duplicates
            raise TransportUnavailable(f"ledger database: {error}") from None
        return UploadAck(
            [TapResult(tap.tap_id if a.tap_id is None else a.tap_id, a.status, a.flags,
                       a.reason, a.position) for tap, a in zip(taps, answers, strict=True)],
            server_time=clock.now())

    def close(self) -> None:
        self.store.close()
