"""封印 by hand: show or rotate the seal key, and prove or check that a later signed head extends
an earlier one (`verify` itself is with the jobs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.cli.common import ActingAs, app, command, console, err_console, open_ledger, parse_actor
from ledger.clock import parse_date
from ledger.domain.settlement.heads import (
    KeyRing,
    KeyStatement,
    SignatureError,
    SignedHead,
    key_id_of,
    public_key_bytes,
)
from ledger.domain.settlement.merkle import ProofError
from ledger.domain.settlement.proofs import ConsistencyProof
from ledger.errors import InvalidValue
from ledger.settings import get_settings
from ledger.storage import seal_key
from ledger.storage.witness import WitnessDirectory
from projections.jobs.seal import rotate_seal_key
from projections.jobs.seal_proofs import NotSealed, prove_consistency
from projections.jobs.seal_verify import read_public_key
from projections.store import ReadStore

seal_keys = typer.Typer(help="封印の鍵: the Ed25519 key that signs the daily heads.",
                        no_args_is_help=True)
app.add_typer(seal_keys, name="seal-key")

PublicKeys = Annotated[list[Path], typer.Option(
    "--public-key", help="A trusted seal public key (PEM, or base64 of its 32 bytes); repeat "
    "for several")]


@command("show", group=seal_keys)
def show_key(
    out: Annotated[Path | None, typer.Option(help="Also write the public key (PEM) here")] = None,
) -> None:
    """The seal key's ID and public key (PEM), for monitors and `verify-proof`. Makes the key
    file (0600) if there is none yet."""
    key = seal_key.load_or_create(get_settings().seal_key_path)
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    console.print(f"key {key_id_of(public_key_bytes(key))} ({get_settings().seal_key_path})",
                  highlight=False, soft_wrap=True)
    console.print(pem.decode().rstrip(), highlight=False, soft_wrap=True)
    if out is not None:
        out.write_bytes(pem)


@command("rotate", group=seal_keys)
def rotate_key(acting_as: ActingAs = "system:cli") -> None:
    """A new seal key from the next unsealed day on: the old key and the new one both sign the
    statement that introduces it; the old key file is kept as `.retired-<key id>` beside it."""
    actor = parse_actor(acting_as)
    with open_ledger() as ledger:
        store = ReadStore(ledger.settings)
        try:
            statement = rotate_seal_key(ledger, store, actor)
        finally:
            store.close()
    console.print(f"seal key {statement.previous_key_id} → {statement.key_id}, signing from "
                  f"{statement.from_day}", highlight=False, soft_wrap=True)


@command("seal-consistency")
def seal_consistency(
    from_day: Annotated[str, typer.Option("--from", help="The day of the head a monitor holds")],
    to_day: Annotated[str | None, typer.Option("--to", help="A later day (default: newest)")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Write the proof here (else stdout)")] = None,
) -> None:
    """Prove that a later signed head extends an earlier one (RFC 9162 consistency proof)."""
    earlier = parse_date(from_day, "from")
    later = parse_date(to_day, "to") if to_day else None
    with open_ledger() as ledger:
        store = ReadStore(ledger.settings)
        try:
            proof = prove_consistency(store, earlier, later)
        except NotSealed as missing:
            raise InvalidValue("from", "seal.exists", str(missing)) from None
        finally:
            store.close()
    text = json.dumps(proof.as_dict(), ensure_ascii=False, indent=1)
    if out is None:
        console.print(text, highlight=False, soft_wrap=True)
    else:
        out.write_text(text + "\n")
        console.print(f"wrote {out}: {earlier} → {proof.later.body.day}, "
                      f"{len(proof.path)} hash(es)", highlight=False, soft_wrap=True)


@app.command("verify-consistency")
def verify_consistency(
    file: Annotated[Path, typer.Argument(help="A proof from `seal-consistency` or "
                                              "/v1/seals/consistency")],
    public_key: PublicKeys,
    kept: Annotated[Path | None, typer.Option(help="The earlier signed head as you kept it "
                                                   "(a witness file or a /v1/seals item)")] = None,
    statements: Annotated[Path | None, typer.Option(
        help="Key statements (/v1/seals/public-key's JSON, or a witness keys/ directory) when "
        "the heads are signed by a key rotated from the one you trust")] = None,
) -> None:
    """Check, with no database, that a later head extends the one you kept. Exit 0 proven, 1
    not proven, 2 unusable input."""
    try:
        proof = ConsistencyProof.from_dict(_json(file))
        ring = KeyRing([read_public_key(path) for path in public_key], _statements(statements))
        kept_head = SignedHead.from_dict(_json(kept)) if kept is not None else None
    except (ProofError, SignatureError, OSError, ValueError) as error:
        err_console.print(f"[red]unusable[/red] {error}", highlight=False, soft_wrap=True)
        sys.exit(2)
    try:
        proven = proof.verify(ring, kept_head)
    except ProofError as error:
        err_console.print(f"[red]NOT PROVEN[/red] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
    console.print(f"proven: {proven}", highlight=False, soft_wrap=True)
    if kept_head is None:
        console.print("(no --kept head given: compare the earlier head's hash "
                      f"{proof.earlier.body.head_hash} with the one you hold)", highlight=False,
                      soft_wrap=True)


def _json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def _statements(path: Path | None) -> list[KeyStatement]:
    if path is None:
        return []
    if path.is_dir():
        return [KeyStatement.from_dict(raw)
                for raw in WitnessDirectory(path.parent if path.name == "keys" else path)
                .read().keys]
    raw = _json(path)
    items = raw["statements"] if isinstance(raw, dict) and "statements" in raw else raw
    return [KeyStatement.from_dict(item) for item in items]

