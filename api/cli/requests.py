"""Manual entries (直接入力) and corrections (訂正), and the prime's decisions on them."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

import typer

from api.cli.common import ActingAs, app, command, console, open_ledger, parse_actor
from ledger.clock import parse_date, parse_datetime
from ledger.errors import InvalidValue

entry = typer.Typer(help="Manual entries and corrections.", no_args_is_help=True)
app.add_typer(entry, name="entry")


def parse_request_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidValue("request_id", "request_id.format", f"{text!r} is not a UUID") from None


@command("request", group=entry)
def request_entry(
    technician_id: str,
    site_id: str,
    work_date: str,
    employer_business_id: str,
    trade: str,
    position: str,
    work_content: str,
    entry_at: Annotated[str | None, typer.Option(help="ISO time of arrival")] = None,
    exit_at: Annotated[str | None, typer.Option(help="ISO time of leaving")] = None,
    note: Annotated[str, typer.Option()] = "",
    acting_as: ActingAs = "worker:",
) -> None:
    """Request a manual entry (forgotten card) for the prime's approval."""
    actor = parse_actor(acting_as if acting_as != "worker:" else f"worker:{technician_id}")
    with open_ledger() as ledger:
        request_id = ledger.request_manual_entry(
            technician_id,
            site_id,
            parse_date(work_date, "work_date"),
            employer_business_id,
            trade,
            position,
            work_content,
            actor,
            entry_at=parse_datetime(entry_at, "entry_at") if entry_at else None,
            exit_at=parse_datetime(exit_at, "exit_at") if exit_at else None,
            note=note,
        )
    console.print(f"manual entry {request_id} pending approval")


@command("correct", group=entry)
def request_correction(
    technician_id: str,
    site_id: str,
    work_date: str,
    employer_business_id: str,
    changes: Annotated[str, typer.Argument(help='JSON, e.g. {"position": "職長"}')],
    reason: str,
    acting_as: ActingAs = "worker:",
) -> None:
    """Request a correction of a work record's trade, position, work content or times."""
    actor = parse_actor(acting_as if acting_as != "worker:" else f"worker:{technician_id}")
    try:
        parsed = json.loads(changes)
    except json.JSONDecodeError:
        raise InvalidValue("changes", "changes.json", "is not a JSON object") from None
    if not isinstance(parsed, dict):
        raise InvalidValue("changes", "changes.json", "is not a JSON object")
    for key in ("entry_at", "exit_at"):
        if isinstance(parsed.get(key), str):
            parsed[key] = parse_datetime(parsed[key], key)
    with open_ledger() as ledger:
        request_id = ledger.request_correction(
            technician_id,
            site_id,
            parse_date(work_date, "work_date"),
            employer_business_id,
            parsed,
            reason,
            actor,
        )
    console.print(f"correction {request_id} pending approval")


@command("approve", group=entry)
def approve(request_id: str, acting_as: ActingAs) -> None:
    """承認: the site's prime contractor approves a manual entry or correction."""
    with open_ledger() as ledger:
        ledger.approve(parse_request_id(request_id), parse_actor(acting_as))
    console.print(f"{request_id} approved")


@command("reject", group=entry)
def reject(request_id: str, reason: str, acting_as: ActingAs) -> None:
    """否認: the site's prime contractor rejects, giving the reason."""
    with open_ledger() as ledger:
        ledger.reject(parse_request_id(request_id), reason, parse_actor(acting_as))
    console.print(f"{request_id} rejected")
