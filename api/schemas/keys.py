"""API keys through the API: what an issuer sends, what anyone may see of a key (never its
token, except once in the answer that creates it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from api.schemas.common import CreateModel, SiteIdField, TechnicianIdField
from ledger.actors import WHOLE, Role, Scope
from ledger.clock import now
from ledger.storage.keys import ApiKey, KeyEvent

IssuableRole = Literal["reader", "prime_contractor", "site_manager", "employer", "worker",
                       "auditor", "admin", "orderer"]


class KeyScopeModel(CreateModel):
    """管理者: the sites or the workers the key acts on (one of them); 現場管理者: its sites, and
    `approves` when the prime lets it decide manual entries and corrections there."""

    sites: list[SiteIdField] | None = Field(default=None, min_length=1, max_length=1000)
    workers: list[TechnicianIdField] | None = Field(default=None, min_length=1, max_length=1000)
    approves: bool = False

    def scope(self) -> Scope:
        return Scope(sites=None if self.sites is None else frozenset(self.sites),
                     workers=None if self.workers is None else frozenset(self.workers),
                     approves=self.approves)


class KeyCreate(CreateModel):
    role: IssuableRole
    subject_id: str = Field(min_length=1, max_length=100, description=(
        "What the key acts as: the business ID (prime, employer, site manager, orderer), "
        "technician ID "
        "(worker), reader ID (reader), or a person's name (auditor, admin)"))
    holder: str | None = Field(default=None, min_length=1, max_length=100,
                               pattern=r"^[^\x00-\x1f\x7f]+$",
                               description="The person the key is given to")
    scope: KeyScopeModel | None = None
    expires_at: AwareDatetime = Field(description="After this moment the key is refused (401)")

    def key_scope(self) -> Scope:
        return WHOLE if self.scope is None else self.scope.scope()


class KeyScopePublic(BaseModel):
    sites: list[str] | None
    workers: list[str] | None
    approves: bool

    @classmethod
    def of(cls, scope: Scope) -> KeyScopePublic:
        return cls(sites=None if scope.sites is None else sorted(scope.sites),
                   workers=None if scope.workers is None else sorted(scope.workers),
                   approves=scope.approves)


class KeyPublic(BaseModel):
    key_id: str
    role: Role
    subject_id: str
    holder: str | None
    scope: KeyScopePublic | None = Field(description="null: the whole party (事業者責任者)")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    issued_by: str | None = Field(description="The issuing key; null: the command line")
    status: Literal["active", "expired", "revoked"]

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        return cls(key_id=key.key_id, role=key.role, subject_id=key.subject_id,
                   holder=key.holder, scope=None if key.scope.whole and not key.scope.approves
                   else KeyScopePublic.of(key.scope),
                   created_at=key.created_at, expires_at=key.expires_at,
                   revoked_at=key.revoked_at, issued_by=key.issued_by,
                   status=key.status(now()))  # type: ignore[arg-type]


class IssuedKeyPublic(KeyPublic):
    token: str = Field(description="Shown this once; only its hash is stored")


class KeyList(BaseModel):
    items: list[KeyPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (same path and parameters) for the next page; null on the "
        "last page")


class KeyEventPublic(BaseModel):
    event_id: str
    recorded_at: datetime
    key_id: str
    kind: Literal["issued", "expired", "revoked"]
    actor: str = Field(description="role:id of who did it; cli:operator from the command line")
    by_key_id: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: KeyEvent) -> KeyEventPublic:
        return cls(event_id=event.event_id, recorded_at=event.recorded_at, key_id=event.key_id,
                   kind=event.kind, actor=event.actor, by_key_id=event.by_key_id,  # type: ignore[arg-type]
                   detail=event.detail)


class KeyEventList(BaseModel):
    items: list[KeyEventPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (same path and parameters) for the next page; null on the "
        "last page")
