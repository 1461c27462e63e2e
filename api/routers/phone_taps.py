"""スマホ入場: the JSON route a worker's phone sends its signed taps to. It needs no API key: a
tap is authorised by the passkey's signature over the tap itself (`ledger.phone_entry`), bound
to this server's host name, and is refused whole (nothing stored) when that does not hold. The
web app's phone page (/app/phone) posts the same body to its own route, answered by the same
code."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import LedgerDep
from api.openapi import problems
from api.reading import ReadPool
from api.schemas.phone_taps import PhoneTapAnswer, PhoneTapCreate
from ledger.application import Ledger, PhoneTapReceipt
from projections.tap_answers import phone_tap_flags

router = APIRouter(prefix="/phone-taps", tags=["phone entry"])


def relying_party(request: Request) -> tuple[str, str]:
    """The passkey's relying party: this server's host name and the page's origin, as the
    browser sees them (a passkey is bound to the host name it was made on)."""
    host = request.url.hostname or "localhost"
    return host, f"{request.url.scheme}://{request.url.netloc}"


def answer_flags(pool: ReadPool, ledger: Ledger, receipt: PhoneTapReceipt) -> tuple[str, ...]:
    """A new tap's flags by the one rule the site's exceptions list uses (its entry checks
    too); a duplicate's are the stored phone flags, as first answered."""
    if receipt.position is None or receipt.reader_time is None or receipt.received_at is None:
        return receipt.flags
    with pool.store() as store, store.read() as tx:
        return phone_tap_flags(tx, ledger, receipt.position, receipt.technician_id,
                               receipt.site_id, receipt.reader_id, receipt.reader_time,
                               receipt.received_at, receipt.flags)


def record_phone_tap(request: Request, ledger: Ledger, body: PhoneTapCreate) -> PhoneTapAnswer:
    """Store the tap and answer it (blocking: run in a worker thread)."""
    rp_id, origin = relying_party(request)
    receipt = ledger.record_phone_tap(body.payload, body.sent_at, body.credential, rp_id,
                                      origin)
    flags = answer_flags(request.app.state.read_pool, ledger, receipt)
    return PhoneTapAnswer(tap_id=receipt.tap_id, status=receipt.status,  # type: ignore[arg-type]
                          position=receipt.position, site_id=receipt.site_id,
                          direction=receipt.direction,  # type: ignore[arg-type]
                          flags=list(flags))


@router.post("", responses=problems(403, 404, 409, 413, 422, 503))
def send_phone_tap(body: PhoneTapCreate, request: Request, ledger: LedgerDep) -> PhoneTapAnswer:
    """A tap the phone's passkey signed. Refused, nothing stored: a passkey not registered
    (404) or revoked, a signature that does not hold, a tap ID not the phone's own (403), a gate
    code not signed by this server or not valid when scanned, a tap sent after the offline
    bound (422), a code already used for this worker by another tap (409)."""
    return record_phone_tap(request, ledger, body)
