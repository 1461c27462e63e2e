"""A small world for domain tests: a prime, a subcontractor, a worker and a site, in memory."""

from __future__ import annotations

from datetime import date

from ledger.actors import Actor, Role
from ledger.domain.site import Site
from ledger.domain.worker import Worker

ADMIN = Actor(Role.ADMIN, "office")
PRIME = "100"  # 元請
SUB = "200"  # 一次下請, the worker's employer
OTHER = "300"  # a business with nothing to do with the site
TECHNICIAN = "12345678901234"
SITE = "10000000000001"

WORKER_SELF = Actor(Role.WORKER, TECHNICIAN)
EMPLOYER_ADMIN = Actor(Role.EMPLOYER, SUB)
PRIME_STAFF = Actor(Role.PRIME_CONTRACTOR, PRIME)


def a_worker(employed_since: date = date(2020, 4, 1)) -> Worker:
    worker = Worker.register(TECHNICIAN, "山田 太郎", ADMIN)
    worker.join_employer(SUB, employed_since, True, ADMIN)
    return worker


def a_site(opened_on: date = date(2025, 1, 6)) -> Site:
    site = Site.open(SITE, "新宿三丁目ビル新築工事", PRIME, "electronic", opened_on, ADMIN)
    site.add_subcontract(SUB, PRIME, PRIME_STAFF)
    return site
