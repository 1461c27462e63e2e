"""経歴証明 from the command line: `ledger career-proof` signs a worker's career proof with the
seal key file; `ledger verify-proof` checks one offline, with no database (it opens none)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import command, console, err_console, open_ledger
from ledger.clock import parse_date
from ledger.domain.settlement.career_proof import (
    NOT_PROVEN,
    PROVES,
    CareerProof,
    CareerProofError,
    CareerProofFormatError,
    Verified,
    verify,
)
from ledger.errors import InvalidState
from ledger.ids import TechnicianId

OK, FAILED, BAD_INPUT = 0, 1, 2


@command("career-proof")
def career_proof_command(
    technician_id: str,
    trade: Annotated[str, typer.Option("--trade", help="職種: slug, name or CCUS code")],
    date_to: Annotated[str | None, typer.Option(
        "--date-to", help="Last work date counted (default: the last sealed day)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON proof here "
                                             "(default: standard output)")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the printable "
                                              "page (HTML, the proof embedded, a QR code)")]
    = None,
) -> None:
    """経歴証明: a worker's days in a trade, signed with the seal key file's key, every counted
    record proven to a signed daily head. Only sealed days are proven."""
    from api.career_proof_html import render
    from ledger.settings import get_settings
    from projections.follower import LogFollower
    from projections.queries.career_proof import build_career_proof, signing_key
    from projections.store import ReadStore

    technician = TechnicianId(technician_id)
    until = parse_date(date_to, "date_to") if date_to else None
    with open_ledger() as ledger:
        store = ReadStore(get_settings())
        try:
            LogFollower(ledger, store).catch_up()
            proof = build_career_proof(ledger, store, technician, trade, until,
                                       signing_key(ledger))
        finally:
            store.close()
    if out is None:
        sys.stdout.buffer.write(proof.to_json() + b"\n")
    else:
        out.write_bytes(proof.to_json())
    if html is not None:
        html.write_text(render(proof), encoding="utf-8")
    s = proof.statement
    err_console.print(f"career proof of {s['technician_id']} in {s['trade_name']}: "
                      f"{len(s['records'])} record(s) proven through {s['sealed_through']}, "
                      f"{len(s['left_out'])} left out (not under a signed seal); "
                      f"sha256 {proof.sha256()}",
                      highlight=False, soft_wrap=True)


@command("verify-proof")
def verify_proof_command(
    file: Annotated[Path, typer.Argument(help="A career proof: its JSON, or its printed "
                                         "HTML page")],
    public_key: Annotated[Path, typer.Option(
        "--public-key", help="The ledger's public seal key you trust (PEM or base64 of the "
        "raw 32 bytes, as `ledger seal-key show` writes it)")],
) -> None:
    """Check a career proof offline, with no database: exit 0 if it holds, 1 naming what
    failed, 2 for a file or key that cannot be read."""
    from api.career_proof_html import extract, is_page
    from projections.jobs.seal_verify import read_public_key

    try:
        data = file.read_bytes()
        key = read_public_key(public_key)
    except (OSError, ValueError) as error:
        err_console.print(f"[red]bad input[/red] {error}", highlight=False)
        sys.exit(BAD_INPUT)
    except InvalidState as error:
        err_console.print(f"[red]bad input[/red] {error.message}", highlight=False)
        sys.exit(BAD_INPUT)
    try:
        proof = extract(data) if is_page(data) else CareerProof.from_json(data)
        verified = verify(proof, [key])
    except CareerProofFormatError as error:
        err_console.print(f"[red]bad input[/red] {file}: {error}", highlight=False)
        sys.exit(BAD_INPUT)
    except CareerProofError as error:
        err_console.print(f"[red]FAILED[/red] {error}", highlight=False, soft_wrap=True)
        sys.exit(FAILED)
    console.print(summary(verified, proof.sha256()), highlight=False, soft_wrap=True)


def summary(v: Verified, sha256: str) -> str:
    period = f"{v.period_from or '—'} … {v.period_to}"
    lines = [
        f"ok: career proof of worker {v.technician_id} in {v.trade_name} ({v.trade}), "
        f"{period}, proven through {v.sealed_through} (sha256 {sha256})",
        f"  proven: {v.proven.trade_work_days} work day(s) in the trade "
        f"({v.proven.record_count} record(s)), 職長 {v.proven.foreman_days} day(s), "
        f"班長 {v.proven.team_leader_days} day(s); {v.proven.work_days} work day(s) in every "
        "trade",
        f"  the ledger counts: {v.ledger.trade_work_days} work day(s) in the trade, 職長 "
        f"{v.ledger.foreman_days}, 班長 {v.ledger.team_leader_days}; {v.left_out} record(s) "
        "left out (an event behind each is not under a signed seal)",
        f"  certified before CCUS (経歴証明): {v.certified.work_days} day(s), 職長 "
        f"{v.certified.foreman_days}, 班長 {v.certified.team_leader_days}",
        f"  checked: {v.records} record(s), {v.events} event proof(s), {v.heads} signed "
        f"head(s); keys {', '.join(v.key_ids)}",
        "It proves:", *(f"  - {line}" for line in PROVES),
        "It does not prove:", *(f"  - {line}" for line in NOT_PROVEN),
    ]
    return "\n".join(lines)
