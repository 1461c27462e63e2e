"""One router per resource, all under /v1."""

from __future__ import annotations

from fastapi import APIRouter

from api.routers import (
    attendance,
    audit,
    businesses,
    cards,
    career_proofs,
    careers,
    consents,
    corrections,
    health,
    inbox,
    kentaikyo,
    keys,
    manual_entries,
    phone_taps,
    readers,
    seals,
    site_exceptions,
    site_fees,
    sites,
    taps,
    workers,
    working_time,
)

PREFIX = "/v1"
ROUTERS: tuple[APIRouter, ...] = tuple(module.router for module in (
    health, taps, businesses, workers, sites, site_exceptions, readers, cards, manual_entries,
    corrections, careers, career_proofs, consents, attendance, inbox, audit, keys, seals,
    site_fees, kentaikyo, working_time, phone_taps))
