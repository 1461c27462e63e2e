"""What a scoped key may change: the sites or workers of its scope (the rule:
`ledger.privacy.check_key_scope`, given what the request names, read here from its path and
body), and a site manager its sites' readers and exceptions and, where the prime granted it, its
sites' decisions.

Checked once for every write, before the route runs, from what the request names: the site and
worker in its path or body, the site and worker of a request it decides, the site of a reader it
retires. A key scoped to sites must name one of them (a 管理者 of sites does not register
workers); a key scoped to workers likewise. Something outside the scope is answered as absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.requests import Correction, ManualEntry
from ledger.errors import NotPermitted
from ledger.privacy import check_key_scope

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
    """現場管理者: registers and retires its sites' readers; decides manual entries and
    corrections only where the prime granted it; enters none (DESIGN §2)."""
    if DECISION.fullmatch(path):
        if not actor.scope.approves:
            raise NotPermitted("actor", "site_manager.approves",
                               "the prime has not granted this site manager approval")
        return
    if (READER_REGISTRATION.fullmatch(path) or READER_RETIREMENT.fullmatch(path)
            or UNKNOWN_CARD.fullmatch(path) or MISSING_EXIT.fullmatch(path)):
        return
    raise NotPermitted("actor", "site_manager.writes",
                       "a site manager registers readers, resolves its sites' exceptions and "
                       "decides where granted; not this")


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
