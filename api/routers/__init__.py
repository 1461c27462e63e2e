"""One router per resource, all under /v1."""

from __future__ import annotations

from fastapi import APIRouter

from api.routers import (
    attendance,
    audit,
    businesses,
    cards,
    careers,
    consents,
    corrections,
    health,
    inbox,
    keys,
    manual_entries,
    readers,
    site_exceptions,
    sites,
    taps,
    workers,
    working_time,
)

PREFIX = "/v1"
ROUTERS: tuple[APIRouter, ...] = tuple(module.router for module in (
    health, taps, businesses, workers, sites, site_exceptions, readers, cards, manual_entries,
    corrections, careers, consents, attendance, inbox, audit, keys, working_time))
