from datetime import datetime

from ledger.application import Ledger
from ledger.clock import JST, clock_at
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.store import ReadStore
from tests.integration.world import ADMIN, register_world


def test_smoke(ledger: Ledger, settings: Settings, now) -> None:
    register_world(ledger)
    taps = [
        TapObservation(
            "GATE-1:1", "GATE-1", "in", datetime(2025, 6, 2, 8, tzinfo=JST), card_id="04A1B2C3"
        ),
        TapObservation(
            "GATE-1:2", "GATE-1", "out", datetime(2025, 6, 2, 17, tzinfo=JST), card_id="04A1B2C3"
        ),
        TapObservation(
            "GATE-1:3", "GATE-1", "in", datetime(2025, 6, 3, 8, tzinfo=JST), card_id="FFFF0000"
        ),
    ]
    for observation in taps:
        with clock_at(observation.reader_time):  # uploaded as made: no clock skew
            ledger.record_taps([observation], ADMIN)
    store = ReadStore(settings)
    runner = LogFollower(ledger, store)
    assert runner.catch_up() == ledger.log_position()
    with store.read() as tx:
        rows = tx.execute(
            "SELECT technician_id, site_id, work_date, role_position, minutes_on_site, status, "
            "flags FROM {work_records}"
        )
        exc = tx.execute("SELECT kind FROM {site_exceptions}")
    assert len(rows) == 1 and str(rows[0][2]) == "2025-06-02" and rows[0][4] == 540, rows
    assert exc == [("unknown_card",)]
