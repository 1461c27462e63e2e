"""所属事業者のページ: my workers, their pending entries with the last day to decide, and a way
to each worker's page, where the employer enters a day for them (入力代行)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request, Response

from api.deps import AUDITORS
from api.reading import Reading
from api.schemas.common import BusinessIdPath
from api.web.deps import SessionDep, reads_for
from api.web.render import render
from ledger import clock, privacy
from ledger.actors import Role
from ledger.clock import JST, approval_deadline
from projections.queries.employees import (
    Employee,
    PendingOfEmployee,
    employees,
    pending_for_employer,
)
from projections.queries.scopes import ReadModelFacts

router = APIRouter()
EMPLOYEE_READERS = (Role.EMPLOYER, Role.PRIME_CONTRACTOR, *AUDITORS)


@dataclass(frozen=True)
class Staff:
    workers: list[Employee]
    pending: list[tuple[PendingOfEmployee, date]]  # with the last day to decide


def staff_of(read: Reading, business_id: str, today: date) -> Staff:
    privacy.employer_scope(ReadModelFacts(read.tx), read.actor, business_id)  # or absent
    business, covered = business_id, read.actor.scope.covers_worker
    workers = [w for w in employees(read.tx, business, today) if covered(w.technician_id)]
    mine = {w.technician_id for w in workers}
    pending = [(p, approval_deadline(p.work_date).astimezone(JST).date() - timedelta(days=1))
               for p in pending_for_employer(read.tx, business) if p.technician_id in mine]
    return Staff(workers, pending)


@router.get("/businesses/{business_id}/workers")
async def employer_page(request: Request, business_id: BusinessIdPath,
                        session: SessionDep) -> Response:
    """所属技能者 (the business; a key scoped to workers: those; auditors and admins)."""
    today = clock.now().astimezone(JST).date()
    staff = await reads_for(request, session, *EMPLOYEE_READERS).run(
        lambda read: staff_of(read, business_id, today))
    return render(request, "employer.html", {"business_id": business_id, "staff": staff,
                                             "today": today})
