"""Register a small world through the Ledger application (on any storage, in memory too)."""

from __future__ import annotations

from datetime import date

from ledger.actors import Actor, Role
from ledger.application import Ledger

ADMIN = Actor(Role.ADMIN, "office")
PRIME, SUB, OTHER = "100", "200", "300"
TECHNICIAN = "12345678901234"
SITE = "10000000000001"
PRIME_STAFF = Actor(Role.PRIME_CONTRACTOR, PRIME)
EMPLOYER_ADMIN = Actor(Role.EMPLOYER, SUB)
WORKER_SELF = Actor(Role.WORKER, TECHNICIAN)


def register_world(ledger: Ledger) -> None:
    for business_id, name in ((PRIME, "鈴木建設"), (SUB, "田中鉄筋"), (OTHER, "佐藤電気")):
        ledger.register_business(business_id, name, ADMIN)
    ledger.register_worker(TECHNICIAN, "山田 太郎", ADMIN)
    ledger.join_employer(TECHNICIAN, SUB, date(2020, 4, 1), True, ADMIN)  # recorded by the office
    ledger.open_site(SITE, "新宿三丁目ビル新築工事", PRIME, "electronic", date(2024, 1, 9), ADMIN)
    ledger.add_subcontract(SITE, SUB, PRIME, PRIME_STAFF)
    ledger.set_roster_entry(SITE, TECHNICIAN, SUB, "鉄筋", "一般", date(2024, 1, 9), PRIME_STAFF)
    ledger.register_reader("GATE-1", SITE, "auto", PRIME_STAFF)
    ledger.issue_card("04A1B2C3", TECHNICIAN, ADMIN)
