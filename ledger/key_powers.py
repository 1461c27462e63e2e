"""Who may issue, see, expire and revoke which key (`/v1/keys`).

A key issues keys of equal or lower power within its own scope, and oversees (lists, expires,
revokes) exactly the keys it could have issued:
- an admin: any key;
- a business key (事業者責任者 without a scope, 管理者 with one), prime or employer: keys of its
  own business (prime, employer, site manager) whose scope lies within its own; only a prime's
  key grants a site manager the right to approve, since 承認 is the prime's;
- reader keys (the gate reader's own key): the prime of the reader's site — its 事業者責任者 or
  a 管理者 whose key is scoped to that site — and the prime's site manager of that site, who
  registers and retires the site's readers and so sets them up; only for a reader registered
  (and not retired) on such a site;
- auditors read every key and key event and change none; workers and readers issue nothing,
  and site managers nothing but reader keys;
- orderer keys (発注者): only admin (the registration office) issues them, since an orderer is
  another organisation than the prime and no business key may speak for it. The key names the
  orderer's business (`subject_id`) and takes no scope: the sites it reads are those whose terms
  name it (`SiteTerms.OrdererNamed`, recorded by the site's prime or admin), checked at each
  read (`ledger.privacy.summary_scope`), so a prime that names another orderer ends the view.
  An orderer's key issues and oversees no key.
Whatever a key does not oversee is answered as absent (the 404 of an unknown key ID).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ledger import clock
from ledger.actors import Actor, Role, Scope
from ledger.errors import InvalidValue, NotPermitted
from ledger.privacy import hidden
from ledger.storage.keys import BUSINESS_KEY_ROLES, ApiKey

ISSUERS = (Role.ADMIN, Role.PRIME_CONTRACTOR, Role.EMPLOYER, Role.SITE_MANAGER)
READER_KEEPERS = (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)
LONGEST = timedelta(days=5 * 366)


@dataclass(frozen=True)
class ReaderSite:
    """Where a gate reader is registered (readers do not move: a new site is a new reader)."""

    site_id: str
    prime_business_id: str
    retired: bool


ReaderSites = Callable[[str], ReaderSite | None]  # reader ID → its site, None if unregistered


def keeps_reader(by: Actor, site: ReaderSite | None) -> bool:
    """Whether `by` may issue and oversee the keys of a reader at `site`: the site's prime (a
    key for the whole business or scoped to that site) or its site manager of that site."""
    return (site is not None and by.role in READER_KEEPERS
            and by.id == site.prime_business_id and by.scope.workers is None
            and by.scope.covers_site(site.site_id))


def check_reader(by: Actor, reader_id: str, site: ReaderSite | None) -> None:
    """A business's reader key names a reader of its sites; any other, registered or not, is
    refused alike (422 naming the field), as a scope naming someone else's site is."""
    if not keeps_reader(by, site):
        raise InvalidValue("subject_id", "key.reader", f"{reader_id} is not a reader of your sites")
    assert site is not None
    if site.retired:
        raise InvalidValue("subject_id", "key.reader.retired", f"{reader_id} is retired")


def check_issue(issuer: ApiKey, role: Role, subject_id: str, scope: Scope,
                expires_at: datetime) -> None:
    """403 naming the field when the issuer may not give such a key; 422 for a bad expiry."""
    by = issuer.actor
    now = clock.now()
    if expires_at <= now:
        raise InvalidValue("expires_at", "key.expires_at.future", "must be in the future")
    if expires_at > now + LONGEST:
        raise InvalidValue("expires_at", "key.expires_at.longest", "at most 5 years from now")
    if issuer.expires_at is not None and expires_at > issuer.expires_at:
        raise InvalidValue("expires_at", "key.expires_at.issuer",
                           "a key may not outlive the key that issues it")
    if by.role is Role.ADMIN:
        return
    if by.role not in ISSUERS:
        raise NotPermitted("actor", "key.issuer", f"{by.role.value} keys issue no keys")
    if role is Role.READER and by.role in READER_KEEPERS:
        return  # which reader: `check_reader`, against the reader's site
    if by.role is Role.SITE_MANAGER:
        raise NotPermitted("actor", "key.issuer", "a site manager issues reader keys only")
    if role not in BUSINESS_KEY_ROLES:
        raise NotPermitted("role", "key.power",
                           "a business key issues prime, employer and site manager keys only")
    if subject_id != by.id:
        raise NotPermitted("subject_id", "key.business", "a business issues keys for itself only")
    if not scope.within(by.scope):
        raise NotPermitted("scope", "key.scope.within", "the key's scope must lie within yours")
    if scope.approves and by.role is not Role.PRIME_CONTRACTOR:
        raise NotPermitted("scope.approves", "key.grant",
                           "only the prime grants its site manager approval")


def oversees(viewer: Actor, key: ApiKey, reader_site: ReaderSites) -> bool:
    """Whether `viewer` may see, expire and revoke `key`: it could have issued it (a reader's
    key: whatever became of the reader since, so a retired reader's key can still be ended)."""
    if viewer.role is Role.ADMIN:
        return True
    if key.role is Role.READER:
        return keeps_reader(viewer, reader_site(key.subject_id))
    return (viewer.role in (Role.PRIME_CONTRACTOR, Role.EMPLOYER)
            and key.role in BUSINESS_KEY_ROLES and key.subject_id == viewer.id
            and key.scope.within(viewer.scope)
            and (not key.scope.approves or viewer.role is Role.PRIME_CONTRACTOR))


def overseen(viewer: Actor, key: ApiKey, reader_site: ReaderSites) -> ApiKey:
    """The key if the viewer oversees it (auditors read every key), else the 404 of no key."""
    if viewer.role is Role.AUDITOR or oversees(viewer, key, reader_site):
        return key
    raise hidden("key_id", key.key_id)


class ScopeFacts(Protocol):
    """What `check_scope_members` asks of the read models."""

    def employs(self, business_id: str, technician_id: str) -> bool: ...

    def is_prime_of(self, site_id: str, business_id: str) -> bool: ...

    def on_structure(self, site_id: str, business_id: str) -> bool:
        """Whether the business is in the site's structure (施工体制)."""
        ...


def check_scope_members(facts: ScopeFacts, role: Role, subject_id: str, scope: Scope) -> None:
    """A scope names the business's own sites (a site manager's: sites it is the prime of) or its
    own workers. Anything else, registered or not, is refused alike (422 naming the field)."""
    if scope.sites is not None:
        for site_id in sorted(scope.sites):
            if not _site_of(facts, role, subject_id, site_id):
                raise InvalidValue("scope.sites", "key.scope.sites",
                                   f"{site_id} is not a site of {role.value} {subject_id}")
    if scope.workers is not None:
        for technician_id in sorted(scope.workers):
            if not facts.employs(subject_id, technician_id):
                raise InvalidValue("scope.workers", "key.scope.workers",
                                   f"{technician_id} is not a worker of {subject_id}")


def _site_of(facts: ScopeFacts, role: Role, business_id: str, site_id: str) -> bool:
    if role is Role.SITE_MANAGER or role is Role.PRIME_CONTRACTOR:
        if facts.is_prime_of(site_id, business_id):
            return True
        if role is Role.SITE_MANAGER:
            return False
    return facts.on_structure(site_id, business_id)
