"""The witness: every signed head and key statement, one small file each, outside the database.

The directory only grows: a file is created once (``O_EXCL``) and never rewritten, so operators
can copy it elsewhere (rsync, object storage with retention) and compare later. Writing a head
that is there already with the same bytes is a no-op; with other bytes it is refused, loudly: a
second head for a sealed day is exactly what the witness exists to catch.

A witness can also be read from another ledger's ``/v1/seals`` over HTTP (``read_url``).
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ledger.domain.settlement.heads import KeyStatement, SignedHead, canonical
from ledger.errors import InvalidState

HEADS = "heads"
KEYS = "keys"


@dataclass
class WitnessCopy:
    """What one witness holds: raw JSON by day (heads) and key statements, and the files that
    could not be read (named, not skipped)."""

    source: str
    heads: dict[date, dict[str, Any]] = field(default_factory=dict)
    keys: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


class WitnessDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write_head(self, head: SignedHead) -> bool:
        """Add a day's signed head; True if the file is new."""
        return self._write(self.path / HEADS / f"{head.body.day.isoformat()}.json",
                           head.as_dict())

    def write_key(self, statement: KeyStatement) -> bool:
        name = f"{statement.from_day.isoformat()}-{statement.key_id}.json"
        return self._write(self.path / KEYS / name, statement.as_dict())

    def read(self) -> WitnessCopy:
        copy = WitnessCopy(str(self.path))
        for file in sorted((self.path / HEADS).glob("*.json")):
            try:
                copy.heads[date.fromisoformat(file.stem)] = json.loads(file.read_bytes())
            except ValueError as error:
                copy.unreadable.append(f"{file.name}: {error}")
        for file in sorted((self.path / KEYS).glob("*.json")):
            try:
                copy.keys.append(json.loads(file.read_bytes()))
            except ValueError as error:
                copy.unreadable.append(f"{file.name}: {error}")
        return copy

    def _write(self, path: Path, value: dict[str, Any]) -> bool:
        """Written whole under a temporary name, then linked into place: a file appears complete
        or not at all, even with several processes writing the same head at once."""
        content = canonical(value) + b"\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return self._same(path, content)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        except FileExistsError:
            return self._same(path, content)
        finally:
            temporary.unlink(missing_ok=True)
        return True

    @staticmethod
    def _same(path: Path, content: bytes) -> bool:
        if path.read_bytes() != content:
            raise InvalidState("witness", "seal.witness",
                               f"{path} holds another version; the witness is never rewritten "
                               "(compare it with the log: `ledger verify`)")
        return False


def read_url(base_url: str, timeout: float = 30.0) -> WitnessCopy:
    """Another copy of the heads: a ledger's ``/v1/seals`` (paged) and ``/v1/seals/public-key``."""
    base = base_url.rstrip("/")
    copy = WitnessCopy(base)
    after = ""
    while True:
        page = _get_json(f"{base}/v1/seals?limit=1000" + (f"&after={after}" if after else ""),
                         timeout)
        for item in page["items"]:
            copy.heads[date.fromisoformat(item["head"]["day"])] = item
        if not page.get("next_after"):
            break
        after = page["next_after"]
    copy.keys = list(_get_json(f"{base}/v1/seals/public-key", timeout)["statements"])
    return copy


def _get_json(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())
