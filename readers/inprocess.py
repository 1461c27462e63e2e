"""The in-process transport, for a single-box install: the agent calls the Ledger directly."""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.taps import TapObservation
from ledger.errors import LedgerError, NotPermitted
from ledger.ids import CardId, ReaderId, TapId, TechnicianId
from readers.delivery import TapResult, UploadAck
from readers.spool import SpooledTap
from readers.transport import BatchRefused, TransportUnauthorized, TransportUnavailable


class InProcessTransport:
    def __init__(self, ledger: Ledger, reader_id: str) -> None:
        self.ledger = ledger
        self.actor = Actor(Role.READER, reader_id)

    def send(self, taps: Sequence[SpooledTap]) -> UploadAck:
        results: dict[str, TapResult] = {}
        observations = []
        for tap in taps:
            try:
                observations.append(observation_of(tap))
            except LedgerError as error:  # as the API would: reject this tap, keep the batch
                results[tap.tap_id] = TapResult(tap.tap_id, "rejected", reason=str(error))
        try:
            receipts = self.ledger.record_taps(observations, self.actor)
        except NotPermitted as error:
            raise TransportUnauthorized(str(error)) from None
        except LedgerError as error:
            raise BatchRefused(str(error)) from None
        except (PersistenceError, ConnectionPoolClosedError) as error:  # nothing was stored
            raise TransportUnavailable(f"ledger database: {error}") from None
        for receipt in receipts:
            results[receipt.tap_id] = TapResult(receipt.tap_id, receipt.status,
                                                position=receipt.position)
        return UploadAck([results[tap.tap_id] for tap in taps if tap.tap_id in results],
                         server_time=clock.now())


def observation_of(tap: SpooledTap) -> TapObservation:
    return TapObservation(
        tap_id=TapId(tap.tap_id),
        reader_id=ReaderId(tap.reader_id),
        direction=tap.direction,
        reader_time=tap.reader_time,
        card_id=None if tap.card_id is None else CardId(tap.card_id),
        technician_id=None if tap.technician_id is None else TechnicianId(tap.technician_id),
    )
