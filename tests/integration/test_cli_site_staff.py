"""The command line follows the ledger's one rule for site managers (現場管理者): without the
prime's grant it decides no manual entry (the CLI's `--as site_manager:…` carries no grant), and
it resolves an unknown card seen at the prime's site. On both databases."""

from __future__ import annotations

from datetime import date, datetime

from api.cli import common, exceptions, register, requests  # noqa: F401  (their commands)
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST, FixedClock
from ledger.domain.taps import TapObservation
from tests.integration.test_cli import ledger_cli, use_settings  # noqa: F401  (autouse fixture)
from tests.integration.world import ADMIN, PRIME, SITE, SUB, TECHNICIAN, register_world


def test_an_ungranted_site_manager_cannot_approve_from_the_command_line(
    ledger: Ledger, now: FixedClock
) -> None:
    register_world(ledger)
    entry = ledger.request_manual_entry(TECHNICIAN, SITE, date(2025, 6, 18), SUB, "鉄筋", "一般",
                                        "配筋", Actor(Role.WORKER, TECHNICIAN))
    before = ledger.log_position()
    for args in (("entry", "approve", str(entry)),
                 ("entry", "reject", str(entry), "来ていない")):
        code, output = ledger_cli(*args, "--as", f"site_manager:{PRIME}")
        assert code == 2, output
        assert "refused actor" in output and "site_manager.approves" in output
    assert ledger.log_position() == before
    assert ledger.request(entry).status.value == "pending"
    code, output = ledger_cli("entry", "approve", str(entry), "--as", f"prime_contractor:{PRIME}")
    assert code == 0, output
    assert ledger.request(entry).status.value == "approved"


def test_a_site_manager_assigns_an_unknown_card_from_the_command_line(
    ledger: Ledger, now: FixedClock
) -> None:
    register_world(ledger)
    tap = TapObservation("GATE-1:1", "GATE-1", "in", datetime(2025, 6, 19, 8, tzinfo=JST),
                         card_id="0DDD0001")
    ledger.record_taps([tap], ADMIN)
    before = ledger.log_position()
    code, output = ledger_cli("site", "assign-card", SITE, "0DDD0001", "GATE-1:1", TECHNICIAN,
                              "\x07", "--as", f"site_manager:{PRIME}")
    assert code == 2 and "refused reason" in output, output
    code, output = ledger_cli("site", "assign-card", SITE, "0DDD0001", "GATE-1:2", TECHNICIAN,
                              "名簿で確認", "--as", f"site_manager:{PRIME}")
    assert code == 2 and "refused tap_id" in output, output
    assert ledger.log_position() == before
    code, output = ledger_cli("site", "assign-card", SITE, "0DDD0001", "GATE-1:1", TECHNICIAN,
                              "名簿で確認", "--as", f"site_manager:{PRIME}")
    assert code == 0, output
    assert f"card 0DDD0001 assigned to {TECHNICIAN}" in output
    [(_, assigned)] = [(p, e) for p, e in ledger.iter_log(after=before)]
    assert type(assigned).__qualname__ == "Site.UnknownCardAssigned"
    assert vars(assigned)["tap_id"] == "GATE-1:1" and vars(assigned)["reason"] == "名簿で確認"
