"""A write as the key-scope rules see it: which kind of write its path is, and which sites and
workers it names (in its path or body, and through the request it decides or the reader it
retires). The rules themselves are `ledger.privacy`'s (`check_key_scope`,
`check_site_manager_write`); this reads their inputs off the HTTP request, once for every write,
before the route runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.requests import Correction, ManualEntry
from ledger.privacy import SiteManagerWrite, check_key_scope, check_site_manager_write

READER_REGISTRATION = re.compile(r"/v1/readers")
READER_RETIREMENT = re.compile(r"/v1/readers/[^/]+/retire")
UNKNOWN_CARD = re.compile(r"/v1/sites/[^/]+/unknown-cards/[^/]+/assign")
MISSING_EXIT = re.compile(r"/v1/sites/[^/]+/missing-exits/resolve")
DECISION = re.compile(r"/v1/(manual-entries|corrections)/[^/]+/(approve|reject)")


def needs_check(actor: Actor) -> bool:
    return actor.role is Role.SITE_MANAGER or not actor.scope.whole


def check_write_scope(ledger: Ledger, actor: Actor, path: str, path_params: Mapping[str, Any],
                      body: Any) -> None:
    """403 for what the key may never do, 404 for what lies outside its scope."""
    if actor.role is Role.SITE_MANAGER:
        check_site_manager(actor, path)
    sites, workers = named(ledger, path_params, body if isinstance(body, dict) else {})
    check_key_scope(actor.scope, sites, workers)


def check_site_manager(actor: Actor, path: str) -> None:
    """Which kind of write the path is, for `ledger.privacy.check_site_manager_write`."""
    if DECISION.fullmatch(path):
        write = SiteManagerWrite.DECISION
    elif (READER_REGISTRATION.fullmatch(path) or READER_RETIREMENT.fullmatch(path)
            or UNKNOWN_CARD.fullmatch(path) or MISSING_EXIT.fullmatch(path)):
        write = SiteManagerWrite.SITE_UPKEEP
    else:
        write = SiteManagerWrite.OTHER
    check_site_manager_write(actor, write)


def named(ledger: Ledger, path_params: Mapping[str, Any],
          body: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """The sites and workers a write names, directly or through what it changes."""
    sites: set[str] = set()
    workers: set[str] = set()
    for source in (path_params, body):
        if isinstance(source.get("site_id"), str):
            sites.add(source["site_id"])
        if isinstance(source.get("technician_id"), str):
            workers.add(source["technician_id"])
    if "request_id" in path_params:
        try:
            request_id = UUID(str(path_params["request_id"]))
        except ValueError:
            return sites, workers  # the route answers 422 for the malformed ID
        request = ledger.request(request_id)
        assert isinstance(request, ManualEntry | Correction)
        sites.add(request.site_id)
        workers.add(request.technician_id)
    if "reader_id" in path_params:
        sites.add(ledger.reader(str(path_params["reader_id"])).site_id)
    return sites, workers
