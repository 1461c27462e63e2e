"""The prime's inbox: pending manual entries (直接入力) and corrections (訂正) on its sites, oldest
first, each with its deadline (the end of the month after the work date, JST)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrimeReads
from api.openapi import AUTHENTICATED, problems
from api.paging import PageDep
from api.query_params import SiteFilter
from api.reading import Reading
from api.schemas.common import BusinessIdPath
from api.schemas.sites_read import InboxList, PendingRequestPublic
from ledger.privacy import in_key_scope
from projections.queries import prime_inbox
from projections.queries.scopes import prime_scope

router = APIRouter(prefix="/primes", tags=["inbox"], responses=AUTHENTICATED)
ALL_PENDING = 1_000_000  # decisions close a month after the work month: the inbox stays small


@router.get("/{business_id}/inbox", responses=problems(404))
async def list_inbox(
    business_id: BusinessIdPath, reads: PrimeReads, paging: PageDep, site_id: SiteFilter = None
) -> InboxList:
    """承認待ち: requests awaiting the prime's decision (the prime; auditors, admins)."""

    def listed(read: Reading) -> InboxList:
        page = paging.page()
        prime = prime_scope(read.tx, read.actor, business_id)
        pending = [r for r in prime_inbox(read.tx, prime, site_id, limit=ALL_PENDING)
                   if in_key_scope(read.actor, r.site_id)]
        items, next_cursor = page.take(
            pending, lambda r: (r.requested_at.timestamp(), r.request_id))
        return InboxList(business_id=prime, items=[PendingRequestPublic.model_validate(r)
                                                   for r in items],
                         next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)
