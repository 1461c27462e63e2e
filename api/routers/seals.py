"""封印 for outside monitors: every signed daily head, the seal keys, consistency proofs.

No key is needed, as a transparency log publishes its heads: a head holds hashes, log
positions and counts of events, nothing about any worker or business, and a monitor that is not
a party of the ledger must be able to keep a copy and check later heads against it.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Path, Query

from api.deps import LedgerDep, ReadPoolDep
from api.openapi import problems
from api.problems import Unavailable
from api.query_params import FIRST_DAY, LAST_DAY
from api.schemas.seals import (
    ConsistencyProofPublic,
    KeyStatementPublic,
    SealKeysPublic,
    SignedHeadList,
    SignedHeadPublic,
)
from ledger.errors import InvalidValue, UnknownReference
from projections.jobs.seal_proofs import NotSealed, SealedDay, prove_consistency, sealed_days

router = APIRouter(prefix="/seals", tags=["seals"])
Day = Annotated[date, Path(ge=FIRST_DAY, le=LAST_DAY, description="A sealed day (JST)")]
MAX_PAGE = 1000


@router.get("", responses=problems(422, 503))
def list_heads(
    pool: ReadPoolDep,
    after: Annotated[date | None, Query(description="Start after this day")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> SignedHeadList:
    """Every signed daily head, oldest first, paged by day."""
    heads = [s.head for s in _sealed(pool, after, limit + 1)]  # one more: is there a next page
    page = heads[:limit]
    return SignedHeadList(items=[SignedHeadPublic.of(h.as_dict()) for h in page],
                          next_after=page[-1].body.day if len(heads) > limit else None)


@router.get("/public-key", responses=problems(503))
def public_key(ledger: LedgerDep) -> SealKeysPublic:
    """The seal key signing new heads, and the statements of every key so far (a rotation is
    signed by both the old and the new key, so trust in one reaches the other)."""
    try:
        keys = ledger.seal_keys()
    except Exception as error:
        raise Unavailable(str(error)) from error
    if keys is None:
        return SealKeysPublic(key_id=None, public_key_pem=None, statements=[])
    current = keys.current
    pem = Ed25519PublicKey.from_public_bytes(base64.b64decode(current.public_key)).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return SealKeysPublic(key_id=current.key_id, public_key_pem=pem, statements=[
        KeyStatementPublic.model_validate(s.as_dict()) for s in keys.statements])


@router.get("/consistency", responses=problems(404, 422, 503))
def consistency(
    pool: ReadPoolDep,
    from_day: Annotated[date, Query(alias="from", description="The day of the head you hold")],
    to_day: Annotated[date | None, Query(alias="to", description="A later day (default: the "
                                                                 "newest)")] = None,
) -> ConsistencyProofPublic:
    """A proof that the head of `to` extends the head of `from`: check it with
    `ledger verify-consistency FILE --public-key KEY --kept HEAD` and no database."""
    if to_day is not None and to_day < from_day:
        raise InvalidValue("to", "seals.range", f"{to_day} is before {from_day}")
    try:
        with pool.store() as store:
            proof = prove_consistency(store, from_day, to_day)
    except NotSealed as missing:
        raise UnknownReference("from", "seal.exists", str(missing)) from None
    return ConsistencyProofPublic.model_validate(proof.as_dict())


@router.get("/{day}", responses=problems(404, 422, 503))
def get_head(day: Day, pool: ReadPoolDep) -> SignedHeadPublic:
    """One day's signed head."""
    for sealed in _sealed(pool, day - timedelta(days=1), 1):
        if sealed.day == day:
            return SignedHeadPublic.of(sealed.head.as_dict())
    raise UnknownReference("day", "seal.exists", f"{day} has no signed seal")


def _sealed(pool: ReadPoolDep, after: date | None, limit: int) -> list[SealedDay]:
    try:
        with pool.store() as store:
            return sealed_days(store, after, limit)
    except Exception as error:  # whatever the driver raises: the database does not answer
        raise Unavailable(str(error)) from error
