"""有効期限の警告: qualifications (licences, 技能講習, special education, health checks) whose
latest recorded expiry falls within a number of days, per worker and per site (the workers on its
roster, and whether the site requires the qualification of them). Already expired ones are listed
too, with a negative number of days left, until renewed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from projections.queries._common import Source, reading
from projections.store import Tx, as_date


@dataclass(frozen=True)
class ExpiryAlert:
    technician_id: str
    qualification: str
    expires_on: date
    days_left: int  # negative: expired that many days ago
    required: bool = False  # per site: the site requires it of this worker's trade


def _latest_expiries(tx: Tx, workers: list[str] | None) -> dict[tuple[str, str], date]:
    """(worker, qualification) → the expiry recorded last (a renewal replaces the one before)."""
    if workers is not None and not workers:
        return {}
    where, params = tx.is_in("technician_id", workers) if workers is not None else ("1 = 1", [])
    latest: dict[tuple[str, str], date] = {}
    for worker, qualification, expires_on in tx.execute(
            "SELECT technician_id, qualification, expires_on FROM "
            f"{{worker_qualification_expiries}} WHERE {where} ORDER BY position", params):
        day = as_date(expires_on)
        assert day is not None
        latest[(worker, qualification)] = day
    return latest


def _alerts(latest: dict[tuple[str, str], date], today: date, within_days: int
            ) -> list[ExpiryAlert]:
    horizon = today + timedelta(days=within_days)
    return sorted((ExpiryAlert(w, q, on, (on - today).days)
                   for (w, q), on in latest.items() if on <= horizon),
                  key=lambda a: (a.expires_on, a.technician_id, a.qualification))


def worker_expiry_alerts(source: Source, technician_id: str, today: date, within_days: int
                         ) -> list[ExpiryAlert]:
    with reading(source) as tx:
        return _alerts(_latest_expiries(tx, [technician_id]), today, within_days)


def site_expiry_alerts(source: Source, site_id: str, today: date, within_days: int
                       ) -> list[ExpiryAlert]:
    """The workers on the site's roster (each by the trade of their latest entry)."""
    with reading(source) as tx:
        trades: dict[str, str] = {}
        for worker, trade in tx.execute(
                "SELECT technician_id, trade FROM {roster_history} WHERE site_id = %s "
                "ORDER BY from_position", [site_id]):
            trades[worker] = trade
        required = {(q, t) for q, t in tx.execute(
            "SELECT qualification, trade FROM {site_entry_rules} WHERE site_id = %s "
            "AND kind = 'qualification' AND withdrawn_position IS NULL", [site_id])}
        alerts = _alerts(_latest_expiries(tx, sorted(trades)), today, within_days)
    return [ExpiryAlert(a.technician_id, a.qualification, a.expires_on, a.days_left,
                        (a.qualification, "") in required
                        or (a.qualification, trades[a.technician_id]) in required)
            for a in alerts]
