"""現場利用料: a prime's monthly site-fee bills, per month and per site, read by the prime (a key
for the whole business), auditors and admins. The bill is the business's: a site manager or a
key scoped to sites reads none (403), another business's bills answer as absent (404)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SiteFeeReads
from api.openapi import AUTHENTICATED, problems
from api.query_params import OptionalMonth, SiteFilter
from api.reading import Reading
from api.schemas.common import BusinessIdPath
from api.schemas.site_fees import SiteFeeBillList, SiteFeeBillPublic
from ledger.errors import NotPermitted
from ledger.privacy import SEES_EVERYTHING
from projections.queries.scopes import prime_scope
from projections.queries.site_fees import site_fee_bills

router = APIRouter(prefix="/primes", tags=["site fees"], responses=AUTHENTICATED)


@router.get("/{business_id}/site-fees", responses=problems(404))
async def list_site_fees(
    business_id: BusinessIdPath, reads: SiteFeeReads, month: OptionalMonth = None,
    site_id: SiteFilter = None,
) -> SiteFeeBillList:
    """現場利用料: the prime's bills, oldest month first (amount, worker-days, billed or carried
    over, months carried); `month` one month's, `site_id` one site's lines."""

    def listed(read: Reading) -> SiteFeeBillList:
        if read.actor.role not in SEES_EVERYTHING and not read.actor.scope.whole:
            raise NotPermitted("actor", "key.scope", "a scoped key reads no business's bill")
        prime = prime_scope(read.tx, read.actor, business_id)
        bills = site_fee_bills(read.tx, prime, month, site_id)
        return SiteFeeBillList(business_id=prime, site_id=site_id,
                               items=[SiteFeeBillPublic.model_validate(b) for b in bills],
                               projection_position=read.position)

    return await reads.run(listed)
