"""`ledger kentaikyo …` and the entry checks' commands, on both databases: points bought and a
shortfall refused by name, the account read back, coverage listed; a site's entry rules and a
worker's insurance record and qualification expiry."""

from __future__ import annotations

from datetime import date

from api.cli import common, kentaikyo  # noqa: F401  (their commands)
from ledger.application import Ledger
from ledger.clock import FixedClock
from tests.integration.test_cli import ledger_cli, use_settings  # noqa: F401  (autouse fixture)
from tests.integration.world import ADMIN, SITE, SUB, TECHNICIAN, register_world


def test_points_and_coverage_from_the_command_line(ledger: Ledger, now: FixedClock) -> None:
    register_world(ledger)
    ledger.enroll_business_in_kentaikyo(SUB, "9200", date(2020, 1, 1), ADMIN)
    assert ledger_cli("kentaikyo", "purchase", SUB, "P-1", "2025-06-01", "1000")[0] == 0
    code, output = ledger_cli("kentaikyo", "use", SUB, "2025-05", "2025-06-10", "1001")
    assert code == 2 and "points.shortfall" in output and "1 short" in output, output
    assert ledger_cli("kentaikyo", "use", SUB, "2025-05", "2025-06-10", "1000")[0] == 0
    assert ledger_cli("kentaikyo", "wage-paid", SUB, "2025-12", "2026-01-10")[0] == 0
    code, output = ledger_cli("kentaikyo", "account", SUB, "2025-06", "2025-06")
    assert code == 0 and "2025-06" in output and "1000" in output, output
    code, output = ledger_cli("kentaikyo", "coverage", "2025-06")
    assert code == 0 and "not_covered" in output, output


def test_entry_rules_and_worker_facts_from_the_command_line(
    ledger: Ledger, now: FixedClock
) -> None:
    register_world(ledger)
    assert ledger_cli("site", "require-entry-checks", SITE)[0] == 0
    assert ledger_cli("site", "require-qualification", SITE, "玉掛技能講習",
                      "--trade", "鉄筋")[0] == 0
    code, output = ledger_cli("worker", "insurance", TECHNICIAN, "enrolled", "exempt",
                              "enrolled", "2025-06-01")
    assert code == 2 and "exempt_reasons" in output, output
    assert ledger_cli("worker", "insurance", TECHNICIAN, "enrolled", "exempt", "enrolled",
                      "2025-06-01", "--exempt", "pension=75歳以上")[0] == 0
    assert ledger.worker(TECHNICIAN).social_insurance_confirmed
    assert ledger.site(SITE).entry_checks
    assert ("玉掛技能講習", "鉄筋", "") in ledger.site(SITE).required_qualifications
