"""Builds the agent's parts from command-line settings; every bad setting is named in its error."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from readers.apdu import ApduProfile, Iso7816Profile, UidProfile, parse_hex
from readers.transport import Transport

TransportKind = Literal["http", "inprocess"]


def spool_path(spool: Path | None, reader_id: str) -> Path:
    return spool if spool is not None else Path("var") / f"reader-{reader_id}.db"


def make_profile(
    name: str, aid: str | None = None, file_id: str | None = None, offset: int = 0,
    length: int = 14, encoding: str = "ascii",
) -> ApduProfile:
    if name == "uid":
        return UidProfile()
    if name == "iso7816":
        if encoding not in ("ascii", "bcd"):
            raise ValueError(f"--id-encoding {encoding!r} is not ascii or bcd")
        return Iso7816Profile(
            aid=None if aid is None else parse_hex(aid, "--aid"),
            file_id=None if file_id is None else parse_hex(file_id, "--file-id"),
            offset=offset, length=length, encoding="bcd" if encoding == "bcd" else "ascii",
        )
    raise ValueError(f"--profile {name!r} is not uid or iso7816")


def make_transport(
    kind: str, reader_id: str, server: str | None, token: str | None, timeout: float = 30.0,
) -> Transport:
    if kind == "http":
        if not server:
            raise ValueError("the http transport needs --server (or LEDGER_READER_SERVER)")
        from readers.http_transport import HttpTransport

        return HttpTransport(server, token or "", timeout)
    if kind == "inprocess":
        from ledger.application import Ledger
        from ledger.settings import Settings
        from ledger.storage.migrate import migrate
        from readers.inprocess import InProcessTransport

        settings = Settings()
        migrate(settings)  # safe to run again; a single-box install may start on a fresh disk
        return InProcessTransport(Ledger(settings), reader_id)
    raise ValueError(f"--transport {kind!r} is not http or inprocess")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
