"""保有資格 — canonical qualification names, their spellings, and "higher grade counts as lower".

The registry is read from `qualifications.toml`, so the criteria files and the worker's registered
qualifications meet on one spelling, and the 2023 guideline rule (1級 counts as 2級) lives in data.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from projections.levels.errors import CriteriaError
from projections.levels.toml_fields import Fields

FOREMAN_TRAINING = "職長・安全衛生責任者教育"
"""The canonical name the judge gives a worker's completed foreman training (職長教育)."""

_KANJI_DIGITS = {"1": "一", "2": "二", "3": "三"}
_GRADE = re.compile(r"(第?)([123])(級|種)")


def normalise(name: str) -> str:
    """One spelling per qualification: NFKC (full-width → half-width, 「（」→「(」), no whitespace,
    and grades in kanji (1級 → 一級, 第1種 → 第一種), as registrations mix both forms."""
    text = "".join(unicodedata.normalize("NFKC", name).split())
    return _GRADE.sub(lambda m: f"{m[1]}{_KANJI_DIGITS[m[2]]}{m[3]}", text)


@dataclass(frozen=True)
class QualificationRegistry:
    """Canonical names, a lookup from every normalised spelling, and the implied names of each."""

    names: frozenset[str]
    spellings: Mapping[str, str]
    implied: Mapping[str, frozenset[str]]

    def canonical(self, name: str) -> str | None:
        """The canonical name for a spelling, or None when the registry does not know it."""
        return self.spellings.get(normalise(name))

    def closure(self, names: Iterable[str]) -> frozenset[str]:
        """Every canonical name the holder of `names` counts as holding; unknown names drop out."""
        held: set[str] = set()
        for name in names:
            canonical = self.canonical(name)
            if canonical is not None:
                held.add(canonical)
                held.update(self.implied[canonical])
        return frozenset(held)


def load_registry_file(path: Path) -> QualificationRegistry:
    with path.open("rb") as handle:
        return parse_registry(tomllib.load(handle), path.name)


@lru_cache(maxsize=1)
def default_registry() -> QualificationRegistry:
    """The registry shipped with the package, read once (package data is fixed at run time)."""
    text = files("projections.levels").joinpath("qualifications.toml").read_text(encoding="utf-8")
    return parse_registry(tomllib.loads(text), "qualifications.toml")


def parse_registry(data: Mapping[str, object], source: str) -> QualificationRegistry:
    top = Fields(data, source)
    table = top.subtable("qualifications")
    top.done()
    spellings: dict[str, str] = {}
    direct: dict[str, tuple[str, ...]] = {}
    for name in table.names():
        entry = table.subtable(name)
        for spelling in (name, *entry.texts("aliases")):
            _add_spelling(spellings, spelling, name, entry)
        direct[name] = entry.texts("implies")
        entry.done()
    for name, implied in direct.items():
        for target in implied:
            if target not in direct:
                raise CriteriaError(source, f"qualifications.{name}.implies",
                                    f"{target!r} is not a canonical name in this file")
    if FOREMAN_TRAINING not in direct:
        raise CriteriaError(source, "qualifications", f"must define {FOREMAN_TRAINING!r}")
    implied_closure = {name: _reachable(name, direct, source) for name in direct}
    return QualificationRegistry(frozenset(direct), spellings, implied_closure)


def _add_spelling(spellings: dict[str, str], spelling: str, name: str, entry: Fields) -> None:
    key = normalise(spelling)
    owner = spellings.setdefault(key, name)
    if owner != name:
        raise entry.error("aliases", f"{spelling!r} already names {owner!r}")


def _reachable(start: str, direct: Mapping[str, tuple[str, ...]], source: str) -> frozenset[str]:
    seen: set[str] = set()
    stack = list(direct[start])
    while stack:
        name = stack.pop()
        if name == start:
            # A cycle would make two grades the same qualification; that is an aliasing error.
            raise CriteriaError(source, f"qualifications.{start}.implies", "implies itself")
        if name not in seen:
            seen.add(name)
            stack.extend(direct[name])
    return frozenset(seen)
