"""打刻: gate readers append taps in batches."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, LedgerDep, ReadersDep, ReadPoolDep
from api.intake import check_reader_taps, parse_tap, position_after, tap_results
from api.metrics import count_taps
from api.openapi import AUTHENTICATED, problems
from api.schemas.taps import TapBatchCreate, TapBatchPublic
from ledger import clock
from ledger.actors import Role
from ledger.application import require_role
from ledger.domain.taps import TapObservation
from projections.tap_answers import answer_taps

router = APIRouter(prefix="/taps", tags=["taps"], responses=AUTHENTICATED)
CONTRACT = """Up to 5,000 taps, stored in one transaction that is committed before the answer.
Malformed taps are `rejected` with a reason naming the field; the rest are stored. A tap ID is
`<reader_id>:<sequence number>`, compared as a number (`R-A1:0000007` is `R-A1:7`). A tap stored
before with the same content is a `duplicate`, so a retried upload never stores a tap twice; with
other content it is stored as a conflicting version and answered `conflict` (with both content
hashes) for the site's staff to resolve. `flagged` and `conflict` taps are listed in the site's
exceptions with the same flags. A reader key appends its own reader's taps only, while that
reader is registered to a site and not retired (403; 404 when the reader is not registered)."""


@router.post("", responses=problems(404), description=CONTRACT)
def record_taps(
    batch: TapBatchCreate, actor: CurrentActor, ledger: LedgerDep, readers: ReadersDep,
    pool: ReadPoolDep,
) -> TapBatchPublic:
    """Append a batch of taps (gate readers, admin)."""
    require_role(actor, Role.READER, Role.ADMIN)
    parsed = [parse_tap(tap) for tap in batch.taps]
    observations = [item for item in parsed if isinstance(item, TapObservation)]
    check_reader_taps(readers.active_site, actor, observations)
    receipts = ledger.record_taps(observations, actor) if observations else []
    with pool.store() as store, store.read() as tx:
        answers = answer_taps(tx, ledger, parsed, receipts)
    results = tap_results(answers)
    count_taps(result.status for result in results)
    return TapBatchPublic(results=results,
                          position=position_after(ledger, receipts), server_time=clock.now())
