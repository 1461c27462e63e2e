"""A stored event is never rewritten: an old version is upcast as it is read."""

from eventsourcing.persistence import StoredEvent

from ledger.application import Ledger
from ledger.domain.registry import DirectionMode, Reader, reader_aggregate_id
from tests.conftest import ADMIN


def test_a_version_1_reader_registration_reads_as_auto_direction(ledger: Ledger) -> None:
    stored_v1 = ledger.mapper.to_stored_event(
        Reader.register("GATE-OLD", "10000000000001", "in", ADMIN).collect_events()[0]
    )
    # Rewrite the payload as version 1 wrote it: no direction_mode, no class_version.
    state = ledger.mapper.transcoder.decode(_plain(ledger, stored_v1.state))
    del state["direction_mode"], state["class_version"]
    v1 = StoredEvent(
        stored_v1.originator_id,
        1,
        stored_v1.topic,
        _sealed(ledger, ledger.mapper.transcoder.encode(state)),
    )
    ledger.recorder.insert_events([v1])

    reader = ledger.repository.get(reader_aggregate_id("GATE-OLD"))
    assert reader.direction_mode is DirectionMode.AUTO
    assert reader.site_id == "10000000000001"
    assert ledger.recorder.select_events(reader.id)[0].state == v1.state  # not rewritten


def _plain(ledger: Ledger, state: bytes) -> bytes:
    return ledger.mapper.cipher.decrypt(state) if ledger.mapper.cipher else state


def _sealed(ledger: Ledger, state: bytes) -> bytes:
    return ledger.mapper.cipher.encrypt(state) if ledger.mapper.cipher else state
