"""requirements.lock (pip-tools, with hashes) pins every dependency pyproject.toml names, in
the main list and in every extra, at a version the range there allows: a dependency added or
changed without `make lock` fails here, not on someone's fresh setup."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", re.MULTILINE)


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    texts = [*project["dependencies"],
             *(dep for extra in project["optional-dependencies"].values() for dep in extra)]
    return [Requirement(text) for text in texts]


def pinned() -> dict[str, Version]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {canonicalize_name(name): Version(version) for name, version in PIN.findall(text)}


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = pinned()
    missing = [str(r) for r in declared() if canonicalize_name(r.name) not in pins]
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    outside = [f"{r} (locked {pins[canonicalize_name(r.name)]})" for r in declared()
               if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)]
    assert not outside, f"locked outside pyproject's range (run `make lock`): {outside}"


def test_every_pin_has_a_hash_and_no_machine_s_index_is_recorded() -> None:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9._-]+==)", text)
    for block in blocks[1:]:
        assert "--hash=sha256:" in block, block.splitlines()[0]
    assert "--index-url" not in text and "--find-links" not in text
