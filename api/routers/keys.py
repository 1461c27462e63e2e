"""API keys (`/v1/keys`): admins and business administrators issue, list, expire and revoke
keys within their own scope (`ledger.key_powers`); auditors read every key and key event. A token
is shown once, in the answer that issues it; only its hash is stored. Every issue, expiry and
revocation is recorded (who, when, which key) in `key_events`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from api.deps import CurrentKey, KeyStoreDep, ReadPoolDep, log_read
from api.openapi import AUTHENTICATED, problems
from api.paging import PageDep
from api.reading import ReadPool
from api.schemas.keys import (
    IssuedKeyPublic,
    KeyCreate,
    KeyEventList,
    KeyEventPublic,
    KeyList,
    KeyPublic,
)
from ledger.actors import Actor, Role
from ledger.application import require_role
from ledger.errors import InvalidValue
from ledger.key_powers import (
    ISSUERS,
    ReaderSite,
    check_issue,
    check_reader,
    check_scope_members,
    overseen,
    oversees,
)
from ledger.privacy import SEES_EVERYTHING
from ledger.storage.keys import Issuer, check_scope, check_subject
from projections.queries.scopes import ReadModelFacts, reader_sites

router = APIRouter(prefix="/keys", tags=["keys"], responses=AUTHENTICATED)
KeyIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="A key's ID")]
VIEWERS = (*ISSUERS, Role.AUDITOR)


def readers_of(pool: ReadPool, viewer: Actor) -> dict[str, ReaderSite]:
    """Where each reader is, for a viewer that may oversee reader keys (none needed else)."""
    if viewer.role in SEES_EVERYTHING:
        return {}
    with pool.store() as store, store.read() as tx:
        return reader_sites(tx)


@router.post("", status_code=status.HTTP_201_CREATED)
def issue_key(body: KeyCreate, issuer: CurrentKey, keys: KeyStoreDep,
              pool: ReadPoolDep) -> IssuedKeyPublic:
    """Issue a key of equal or lower power within your scope; its token is shown only here."""
    require_role(issuer.actor, *ISSUERS)
    role = Role(body.role)
    try:
        subject_id = check_subject(role, body.subject_id)
    except InvalidValue as error:  # the body names it subject_id, whatever the ID's kind
        raise InvalidValue("subject_id", error.rule, error.message) from None
    scope = check_scope(role, body.key_scope())
    check_issue(issuer, role, subject_id, scope, body.expires_at)
    with pool.store() as store, store.read() as tx:
        check_scope_members(ReadModelFacts(tx), role, subject_id, scope)
        if role is Role.READER and issuer.actor.role is not Role.ADMIN:
            check_reader(issuer.actor, subject_id, reader_sites(tx).get(subject_id))
    issued = keys.create(role, subject_id, scope=scope, expires_at=body.expires_at,
                         holder=body.holder, issuer=Issuer.of(issuer))
    return IssuedKeyPublic(**KeyPublic.of(issued.key).model_dump(), token=issued.token)


@router.get("")
def list_keys(request: Request, viewer: CurrentKey, keys: KeyStoreDep, pool: ReadPoolDep,
              paging: PageDep) -> KeyList:
    """The keys you oversee (admins and auditors: all), never their tokens, oldest first."""
    actor = viewer.actor
    require_role(actor, *VIEWERS)
    page = paging.page()
    log_read(request, actor)
    readers = readers_of(pool, actor)
    shown = [key for key in keys.list()
             if actor.role is Role.AUDITOR or oversees(actor, key, readers.get)]
    # Not yet paged in SQL: who oversees which key is decided in Python (`oversees`) over the
    # key store's list.
    items, next_cursor = page.take(shown, lambda k: (k.created_at.timestamp(), k.key_id))
    return KeyList(items=[KeyPublic.of(key) for key in items], next_cursor=next_cursor)


@router.get("/events")
def list_key_events(request: Request, viewer: CurrentKey, keys: KeyStoreDep, pool: ReadPoolDep,
                    paging: PageDep) -> KeyEventList:
    """Issues, expiries and revocations, oldest first, of the keys you oversee (auditors: all)."""
    actor = viewer.actor
    require_role(actor, *VIEWERS)
    page = paging.page()
    log_read(request, actor)
    if actor.role in SEES_EVERYTHING:
        events = keys.events(limit=None)
    else:
        readers = readers_of(pool, actor)
        events = keys.events((key.key_id for key in keys.list()
                              if oversees(actor, key, readers.get)), limit=None)
    items, next_cursor = page.take(events, lambda e: (e.recorded_at.timestamp(), e.event_id))
    return KeyEventList(items=[KeyEventPublic.of(event) for event in items],
                        next_cursor=next_cursor)


@router.get("/{key_id}", responses=problems(404))
def get_key(request: Request, key_id: KeyIdPath, viewer: CurrentKey, keys: KeyStoreDep,
            pool: ReadPoolDep) -> KeyPublic:
    """One key you oversee; any other answers as absent."""
    require_role(viewer.actor, *VIEWERS)
    log_read(request, viewer.actor)
    return KeyPublic.of(overseen(viewer.actor, keys.get(key_id),
                                 readers_of(pool, viewer.actor).get))


@router.post("/{key_id}/expire", responses=problems(404, 409))
def expire_key(key_id: KeyIdPath, issuer: CurrentKey, keys: KeyStoreDep,
               pool: ReadPoolDep) -> KeyPublic:
    """End a key's life now: it is refused (401) from the next request on."""
    require_role(issuer.actor, *ISSUERS)
    overseen(issuer.actor, keys.get(key_id), readers_of(pool, issuer.actor).get)
    return KeyPublic.of(keys.expire(key_id, Issuer.of(issuer)))


@router.post("/{key_id}/revoke", responses=problems(404, 409))
def revoke_key(key_id: KeyIdPath, issuer: CurrentKey, keys: KeyStoreDep,
               pool: ReadPoolDep) -> KeyPublic:
    """Revoke a key: it is refused (401) from the next request on."""
    require_role(issuer.actor, *ISSUERS)
    overseen(issuer.actor, keys.get(key_id), readers_of(pool, issuer.actor).get)
    return KeyPublic.of(keys.revoke(key_id, Issuer.of(issuer)))
