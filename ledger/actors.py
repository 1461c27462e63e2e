"""Who acts: every command names an actor, and every event records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ledger.errors import InvalidValue


class Role(str, Enum):
    READER = "reader"
    PRIME_CONTRACTOR = "prime_contractor"  # 元請
    SITE_MANAGER = "site_manager"  # 現場管理者 of a prime, for the sites named in its scope
    EMPLOYER = "employer"  # 所属事業者 (its administrator)
    WORKER = "worker"  # 技能者 acting for themself
    AUDITOR = "auditor"
    ADMIN = "admin"  # registration office of this ledger
    SYSTEM = "system"  # scheduled jobs (expiry, day close)
    # 発注者: the public or private client of sites (a registered business). It reads only
    # aggregates of the sites whose terms name it as their orderer (`SiteTerms.OrdererNamed`,
    # set by the site's prime or admin), never personal data (`ledger.privacy`).
    ORDERER = "orderer"


@dataclass(frozen=True)
class Scope:
    """The part of its business a key holder acts on.

    A business key without a scope is the 事業者責任者 (the whole business); a 管理者 is given
    the sites or the workers it administers, and sees and does only those. A 現場管理者 is always
    given its sites; `approves` is the prime's grant to decide manual entries and corrections on
    them (承認 is the prime's, and a site manager decides only where the prime lets it).
    """

    sites: frozenset[str] | None = None
    workers: frozenset[str] | None = None
    approves: bool = False

    @property
    def whole(self) -> bool:
        return self.sites is None and self.workers is None

    def covers_site(self, site_id: str) -> bool:
        return self.sites is None or site_id in self.sites

    def covers_worker(self, technician_id: str) -> bool:
        return self.workers is None or technician_id in self.workers

    def within(self, other: Scope) -> bool:
        """Nothing outside `other`'s sites and workers (an equal or narrower scope); the grant
        to approve is the prime's to give, whatever its scope (`ledger.key_powers`)."""
        return _subset(self.sites, other.sites) and _subset(self.workers, other.workers)


WHOLE = Scope()


def _subset(inner: frozenset[str] | None, outer: frozenset[str] | None) -> bool:
    return outer is None or (inner is not None and inner <= outer)


@dataclass(frozen=True)
class Actor:
    """An acting party: its role and the ID it acts as (business, technician, reader or user).

    `scope` is what the key it acts with allows; it is not part of who acts (events record the
    role and the ID only), so two actors differing only in scope are the same party.
    """

    role: Role
    id: str
    scope: Scope = field(default=WHOLE, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            raise InvalidValue("actor.role", "actor.role", f"{self.role!r} is not a role")
        if not self.id:
            raise InvalidValue("actor.id", "actor.id", "an actor needs an ID")

    def __str__(self) -> str:
        return f"{self.role.value}:{self.id}"


SYSTEM = Actor(Role.SYSTEM, "ledger")
