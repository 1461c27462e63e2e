"""Gate readers: registered to one site by its prime; retired when taken out of service; and
the readers that sent taps while registered to no site."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AuditorReads, CurrentActor, LedgerDep, ReadersDep
from api.openapi import AUTHENTICATED, problems
from api.paging import PageDep
from api.query_params import SITE_RANGE_DAYS, DateFrom, DateTo, check_range
from api.reading import Reading
from api.schemas.common import ReaderIdPath, Receipt
from api.schemas.readers import ReaderCreate, ReaderPublic, ReaderRetire
from api.schemas.sites_read import UnregisteredReaderList, UnregisteredReaderPublic
from ledger.actors import Role
from ledger.application import require_role
from ledger.privacy import visible_reader, visible_site
from projections.queries import unregistered_readers

router = APIRouter(prefix="/readers", tags=["readers"], responses=AUTHENTICATED)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(404, 409))
def register_reader(
    body: ReaderCreate, actor: CurrentActor, ledger: LedgerDep, readers: ReadersDep
) -> ReaderPublic:
    """Register a gate reader to a site (admin, the site's prime). A taken ID is told (409)
    only to a party related to the reader's site; the same registration again is a retry."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)
    visible_site(ledger, readers, actor, body.site_id)
    ledger.register_reader(body.reader_id, body.site_id, body.direction_mode.value, actor)
    return ReaderPublic(reader_id=body.reader_id, site_id=body.site_id,
                        position=ledger.log_position())


@router.post("/{reader_id}/retire", responses=problems(404, 409))
def retire_reader(
    reader_id: ReaderIdPath, body: ReaderRetire, actor: CurrentActor, ledger: LedgerDep,
    readers: ReadersDep,
) -> Receipt:
    """Retire a gate reader; its key's taps are refused from then on (admin, the prime)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)
    visible_reader(ledger, readers, actor, reader_id)
    ledger.retire_reader(reader_id, body.reason, actor)
    readers.forget(reader_id)
    return Receipt(position=ledger.log_position())


@router.get("/unregistered")
async def list_unregistered_readers(
    date_from: DateFrom, date_to: DateTo, reads: AuditorReads, paging: PageDep
) -> UnregisteredReaderList:
    """Readers that sent taps while registered to no site, with those taps (auditors, admins)."""

    def listed(read: Reading) -> UnregisteredReaderList:
        page = paging.page()
        check_range(date_from, date_to, SITE_RANGE_DAYS)
        found = unregistered_readers(read.tx, date_from, date_to)
        # Readers registered to no site (auditors, admins), over a year at most: not yet paged
        # in SQL, as its taps are grouped per reader.
        items, next_cursor = page.take(found, lambda r: (r.reader_id,))
        return UnregisteredReaderList(
            items=[UnregisteredReaderPublic.model_validate(r) for r in items],
            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)
