"""Registration commands: businesses, workers, sites, readers and cards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import uuid4

import typer

from api.cli.common import ActingAs, app, command, console, open_ledger, parse_actor
from ledger.actors import Actor
from ledger.application import Ledger, Registration
from ledger.clock import parse_date
from ledger.domain.worker import CertificateClaim, CertifierRelation, certifier_relation

business = typer.Typer(help="事業者: register businesses.", no_args_is_help=True)
worker = typer.Typer(help="技能者: register workers and what they hold.", no_args_is_help=True)
site = typer.Typer(help="現場: open sites, subcontracts, roster.", no_args_is_help=True)
reader = typer.Typer(help="Gate readers.", no_args_is_help=True)
card = typer.Typer(help="Cards.", no_args_is_help=True)
for name, group in (
    ("business", business),
    ("worker", worker),
    ("site", site),
    ("reader", reader),
    ("card", card),
):
    app.add_typer(group, name=name)

Day = Annotated[str, typer.Argument(help="YYYY-MM-DD")]


@command("register", group=business)
def register_business(business_id: str, name: str, acting_as: ActingAs = "admin:cli") -> None:
    """Register a business."""
    with open_ledger() as ledger:
        ledger.register_business(business_id, name, parse_actor(acting_as))
    console.print(f"business {business_id} registered")


@command("enroll-kentaikyo", group=business)
def enroll_business(
    business_id: str, contract_number: str, since: Day, acting_as: ActingAs = "admin:cli"
) -> None:
    """共済契約者: enroll a business in Kentaikyo."""
    with open_ledger() as ledger:
        ledger.enroll_business_in_kentaikyo(
            business_id, contract_number, parse_date(since, "since"), parse_actor(acting_as)
        )
    console.print(f"business {business_id} enrolled in Kentaikyo from {since}")


@command("register", group=worker)
def register_worker(technician_id: str, name: str, acting_as: ActingAs = "admin:cli") -> None:
    """Register a worker by CCUS technician ID. A business (`--as employer:ID`) registering a
    new worker is their employer from today; for a registered one it requests the employment."""
    with open_ledger() as ledger:
        outcome = ledger.register_worker(technician_id, name, parse_actor(acting_as))
    if outcome is Registration.REGISTERED:
        console.print(f"worker {technician_id} registered")
    else:
        console.print(f"worker {technician_id}: employment requested; it counts once the "
                      "worker confirms it (worker confirm-employment)")


@command("employ", group=worker)
def employ(
    technician_id: str,
    business_id: str,
    since: Day,
    primary: Annotated[bool, typer.Option(help="主たる所属事業者")] = False,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """The worker joins an employer (所属事業者) from a date: recorded by admin, requested by
    the business itself (`--as employer:ID`) until the worker confirms it."""
    with open_ledger() as ledger:
        outcome = ledger.join_employer(
            technician_id, business_id, parse_date(since, "since"), primary, parse_actor(acting_as)
        )
    if outcome is Registration.REGISTERED:
        console.print(f"worker {technician_id} employed by {business_id} from {since}")
    else:
        console.print(f"worker {technician_id}: employment by {business_id} requested; it counts "
                      "once the worker confirms it")


@command("confirm-employment", group=worker)
def confirm_employment(
    technician_id: str, business_id: str, acting_as: ActingAs = "admin:cli"
) -> None:
    """The worker (or their employer's office, or admin) confirms a business's request."""
    with open_ledger() as ledger:
        ledger.confirm_employment(technician_id, business_id, parse_actor(acting_as))
    console.print(f"worker {technician_id} employed by {business_id}")


@command("decline-employment", group=worker)
def decline_employment(
    technician_id: str, business_id: str, acting_as: ActingAs = "admin:cli"
) -> None:
    """The worker refuses a business's employment request."""
    with open_ledger() as ledger:
        ledger.decline_employment(technician_id, business_id, parse_actor(acting_as))
    console.print(f"worker {technician_id}: request of {business_id} declined")


@command("confirm-certificate", group=worker)
def confirm_certificate(
    technician_id: str, certificate_id: str, acting_as: ActingAs = "admin:cli"
) -> None:
    """The worker confirms a prime's or upper subcontractor's certificate: it counts from now."""
    answer_certificate(Ledger.confirm_career_certificate, technician_id, certificate_id,
                       acting_as, "confirmed")


@command("decline-certificate", group=worker)
def decline_certificate(
    technician_id: str, certificate_id: str, acting_as: ActingAs = "admin:cli"
) -> None:
    """The worker refuses a proposed certificate; it never counts."""
    answer_certificate(Ledger.decline_career_certificate, technician_id, certificate_id,
                       acting_as, "declined")


def answer_certificate(
    answer: Callable[[Ledger, str, str, Actor], None], technician_id: str, certificate_id: str,
    acting_as: str, done: str,
) -> None:
    with open_ledger() as ledger:
        answer(ledger, technician_id, certificate_id, parse_actor(acting_as))
    console.print(f"worker {technician_id}: certificate {certificate_id} {done}")


@command("leave", group=worker)
def leave(
    technician_id: str, business_id: str, until: Day, acting_as: ActingAs = "admin:cli"
) -> None:
    """The worker leaves an employer (last day inclusive)."""
    with open_ledger() as ledger:
        ledger.leave_employer(
            technician_id, business_id, parse_date(until, "until"), parse_actor(acting_as)
        )
    console.print(f"worker {technician_id} left {business_id} on {until}")


@command("enroll-kentaikyo", group=worker)
def enroll_worker(
    technician_id: str, member_number: str, since: Day, acting_as: ActingAs = "admin:cli"
) -> None:
    """被共済者: enroll a worker in Kentaikyo from a date."""
    with open_ledger() as ledger:
        ledger.enroll_worker_in_kentaikyo(
            technician_id, member_number, parse_date(since, "since"), parse_actor(acting_as)
        )
    console.print(f"worker {technician_id} enrolled in Kentaikyo from {since}")


@command("qualify", group=worker)
def qualify(
    technician_id: str, qualification: str, acquired_on: Day, acting_as: ActingAs = "admin:cli"
) -> None:
    """Record a qualification (保有資格) with its date."""
    with open_ledger() as ledger:
        ledger.add_qualification(
            technician_id,
            qualification,
            parse_date(acquired_on, "acquired_on"),
            parse_actor(acting_as),
        )
    console.print(f"worker {technician_id}: {qualification} from {acquired_on}")


@command("foreman-training", group=worker)
def foreman_training(
    technician_id: str, completed_on: Day, acting_as: ActingAs = "admin:cli"
) -> None:
    """Record 職長・安全衛生責任者教育."""
    with open_ledger() as ledger:
        ledger.complete_foreman_training(
            technician_id, parse_date(completed_on, "completed_on"), parse_actor(acting_as)
        )
    console.print(f"worker {technician_id}: foreman training on {completed_on}")


@command("insurance", group=worker)
def insurance(
    technician_id: str,
    health: str,
    pension: str,
    employment: str,
    as_of: Day,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """Confirm social insurance: each of health/pension/employment is enrolled, exempt or
    not_enrolled."""
    with open_ledger() as ledger:
        ledger.confirm_social_insurance(
            technician_id,
            health,
            pension,
            employment,
            parse_date(as_of, "as_of"),
            parse_actor(acting_as),
        )
    console.print(f"worker {technician_id}: social insurance recorded as of {as_of}")


@command("certify", group=worker)
def certify(
    technician_id: str,
    certifier_business_id: str,
    relation: Annotated[
        str, typer.Argument(help="employer, upper_subcontractor, prime_contractor")
    ],
    trade: str,
    period_start: Day,
    period_end: Day,
    work_days: int,
    foreman_days: Annotated[int, typer.Option()] = 0,
    team_leader_days: Annotated[int, typer.Option()] = 0,
    basis: Annotated[
        str, typer.Option(help="what a prime's or upper subcontractor's certificate rests on")
    ] = "",
    acting_as: ActingAs = "admin:cli",
) -> None:
    """経歴証明: certified work days before CCUS use (period ends ≤ 2024-03-31). An employer's
    counts now; a prime's or upper subcontractor's (with --basis) once the worker confirms it."""
    claim = CertificateClaim(
        certifier_business_id,
        certifier_relation(relation),
        trade,
        parse_date(period_start, "period_start"),
        parse_date(period_end, "period_end"),
        work_days,
        foreman_days,
        team_leader_days,
    )
    with open_ledger() as ledger:
        if claim.relation is CertifierRelation.EMPLOYER:
            ledger.certify_career(technician_id, claim, parse_actor(acting_as))
            console.print(f"worker {technician_id}: {work_days} certified days recorded")
            return
        certificate_id = str(uuid4())
        ledger.propose_career_certificate(
            technician_id, certificate_id, claim, basis, parse_actor(acting_as)
        )
    console.print(f"worker {technician_id}: certificate {certificate_id} proposed; it counts "
                  "once the worker confirms it (worker confirm-certificate)")


@command("open", group=site)
def open_site(
    site_id: str,
    name: str,
    prime_business_id: str,
    kentaikyo_method: Annotated[str, typer.Argument(help="electronic or stamp")],
    opened_on: Day,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """Open a site under its prime contractor (元請)."""
    with open_ledger() as ledger:
        ledger.open_site(
            site_id,
            name,
            prime_business_id,
            kentaikyo_method,
            parse_date(opened_on, "opened_on"),
            parse_actor(acting_as),
        )
    console.print(f"site {site_id} opened")


@command("subcontract", group=site)
def subcontract(
    site_id: str, business_id: str, parent_business_id: str, acting_as: ActingAs = "admin:cli"
) -> None:
    """Add a subcontractor under a business already on the site (施工体制)."""
    with open_ledger() as ledger:
        ledger.add_subcontract(site_id, business_id, parent_business_id, parse_actor(acting_as))
    console.print(f"site {site_id}: {business_id} under {parent_business_id}")


@command("roster", group=site)
def roster(
    site_id: str,
    technician_id: str,
    employer_business_id: str,
    trade: str,
    position: Annotated[str, typer.Argument(help="職長, 班長, 一般, …")],
    since: Day,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """Put a worker on the site's roster (作業員名簿)."""
    with open_ledger() as ledger:
        ledger.set_roster_entry(
            site_id,
            technician_id,
            employer_business_id,
            trade,
            position,
            parse_date(since, "since"),
            parse_actor(acting_as),
        )
    console.print(f"site {site_id}: {technician_id} on the roster as {position}")


@command("close", group=site)
def close_site(site_id: str, closed_on: Day, acting_as: ActingAs = "admin:cli") -> None:
    """Close a site."""
    with open_ledger() as ledger:
        ledger.close_site(site_id, parse_date(closed_on, "closed_on"), parse_actor(acting_as))
    console.print(f"site {site_id} closed on {closed_on}")


@command("register", group=reader)
def register_reader(
    reader_id: str,
    site_id: str,
    direction_mode: Annotated[str, typer.Argument(help="in, out or auto")] = "auto",
    acting_as: ActingAs = "admin:cli",
) -> None:
    """Register a gate reader to a site."""
    with open_ledger() as ledger:
        ledger.register_reader(reader_id, site_id, direction_mode, parse_actor(acting_as))
    console.print(f"reader {reader_id} registered to site {site_id}")


@command("retire", group=reader)
def retire_reader(reader_id: str, reason: str, acting_as: ActingAs = "admin:cli") -> None:
    """Retire a gate reader."""
    with open_ledger() as ledger:
        ledger.retire_reader(reader_id, reason, parse_actor(acting_as))
    console.print(f"reader {reader_id} retired")


@command("issue", group=card)
def issue_card(card_id: str, technician_id: str, acting_as: ActingAs = "admin:cli") -> None:
    """Issue a card to a worker."""
    with open_ledger() as ledger:
        ledger.issue_card(card_id, technician_id, parse_actor(acting_as))
    console.print(f"card {card_id} issued to {technician_id}")


@command("revoke", group=card)
def revoke_card(card_id: str, reason: str, acting_as: ActingAs = "admin:cli") -> None:
    """Revoke a card; its later taps are stored and flagged."""
    with open_ledger() as ledger:
        ledger.revoke_card(card_id, reason, parse_actor(acting_as))
    console.print(f"card {card_id} revoked")
