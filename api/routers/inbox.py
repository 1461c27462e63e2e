"""The prime's inbox: pending manual entries (直接入力) and corrections (訂正) on its sites, oldest
first, each with its deadline (the end of the month after the work date, JST)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrimeReads
from api.openapi import AUTHENTICATED, problems
from api.paging import PageDep, moment, text
from api.query_params import SiteFilter
from api.reading import Reading
from api.schemas.common import BusinessIdPath
from api.schemas.sites_read import InboxList, PendingRequestPublic
from projections.queries.inbox import prime_inbox_page
from projections.queries.scopes import prime_scope

router = APIRouter(prefix="/primes", tags=["inbox"], responses=AUTHENTICATED)


@router.get("/{business_id}/inbox", responses=problems(404))
async def list_inbox(
    business_id: BusinessIdPath, reads: PrimeReads, paging: PageDep, site_id: SiteFilter = None
) -> InboxList:
    """承認待ち: requests awaiting the prime's decision (the prime; auditors, admins)."""

    def listed(read: Reading) -> InboxList:
        page = paging.page()
        prime = prime_scope(read.tx, read.actor, business_id)
        pending = prime_inbox_page(read.tx, prime, page.keyset(moment, text), site_id,
                                   only_sites=read.actor.scope.sites)
        items, next_cursor = page.answer(
            pending, lambda r: (r.requested_at.timestamp(), r.request_id))
        return InboxList(business_id=prime, items=[PendingRequestPublic.model_validate(r)
                                                   for r in items],
                         next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)
