"""Who acts: every command names an actor, and every event records it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ledger.errors import InvalidValue


class Role(str, Enum):
    READER = "reader"
    PRIME_CONTRACTOR = "prime_contractor"  # 元請
    EMPLOYER = "employer"  # 所属事業者 (its administrator)
    WORKER = "worker"  # 技能者 acting for themself
    AUDITOR = "auditor"
    ADMIN = "admin"  # registration office of this ledger
    SYSTEM = "system"  # scheduled jobs (expiry, day close)


@dataclass(frozen=True)
class Actor:
    """An acting party: its role and the ID it acts as (business, technician, reader or user)."""

    role: Role
    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            raise InvalidValue("actor.role", "actor.role", f"{self.role!r} is not a role")
        if not self.id:
            raise InvalidValue("actor.id", "actor.id", "an actor needs an ID")

    def __str__(self) -> str:
        return f"{self.role.value}:{self.id}"


SYSTEM = Actor(Role.SYSTEM, "ledger")
