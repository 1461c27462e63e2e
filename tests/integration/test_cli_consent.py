"""Consent on the command line: a business's claim on a registered worker and a prime's career
certificate count once the worker confirms them; a refusal exits 2 naming the field."""

from __future__ import annotations

import re
from datetime import date

import pytest

from ledger.actors import Actor, Role
from ledger.application import Ledger
from tests.integration.test_cli import ledger_cli, use_settings  # noqa: F401  (autouse fixture)

TECHNICIAN = "12345678901234"


@pytest.fixture
def registered(ledger: Ledger, now: object) -> Ledger:
    admin = Actor(Role.ADMIN, "office")
    for business in ("100", "200"):
        ledger.register_business(business, f"会社{business}", admin)
    ledger.register_worker(TECHNICIAN, "山田 太郎", admin)
    ledger.add_qualification(TECHNICIAN, "玉掛技能講習", date(2015, 4, 1), admin)
    return ledger


def test_an_employment_claimed_on_the_cli_counts_once_the_worker_confirms(
    registered: Ledger,
) -> None:
    code, output = ledger_cli("worker", "employ", TECHNICIAN, "200", "2020-04-01",
                              "--as", "employer:200")
    assert code == 0 and "requested" in output, output
    assert registered.worker(TECHNICIAN).employments == []
    before = registered.log_position()
    code, output = ledger_cli("worker", "confirm-employment", TECHNICIAN, "200",
                              "--as", "employer:200")  # not by the claimant
    assert code == 2 and "actor" in output and registered.log_position() == before, output
    code, output = ledger_cli("worker", "confirm-employment", TECHNICIAN, "200",
                              "--as", f"worker:{TECHNICIAN}")
    assert code == 0, output
    assert registered.worker(TECHNICIAN).employers_on(date(2021, 1, 1)) == {"200"}


def test_a_prime_certificate_on_the_cli_is_proposed_then_confirmed(registered: Ledger) -> None:
    code, output = ledger_cli("worker", "certify", TECHNICIAN, "100", "prime_contractor", "鉄筋",
                              "2016-04-01", "2020-03-31", "700", "--basis", "施工体制台帳",
                              "--as", "prime_contractor:100")
    assert code == 0, output
    found = re.search(r"certificate ([0-9a-f-]{36}) proposed", output)
    assert found, output
    assert registered.worker(TECHNICIAN).career_certificates == []
    code, output = ledger_cli("worker", "confirm-certificate", TECHNICIAN, found.group(1),
                              "--as", f"worker:{TECHNICIAN}")
    assert code == 0, output
    [counted] = registered.worker(TECHNICIAN).career_certificates
    assert (counted["work_days"], counted["basis"]) == (700, "施工体制台帳")
