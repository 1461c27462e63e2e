"""Reads and validates the criteria files: `load_criteria`, `known_trades`, `load_criteria_file`.

Validation happens at load, so a typo in the data fails loudly (file and key named) instead of
quietly changing someone's level: unknown keys, negative or non-integer days, levels other than
exactly 2, 3 and 4, and qualification names missing from qualifications.toml are all errors.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from projections.levels.criteria import (
    GroupRule,
    Item,
    LevelCriteria,
    QualificationGroup,
    Route,
    TradeCriteria,
    WorkDaysScope,
)
from projections.levels.errors import CriteriaError, UnknownTradeError
from projections.levels.qualifications import QualificationRegistry, default_registry
from projections.levels.toml_fields import Fields

LEVELS = (2, 3, 4)
"""Levels a file must define, in order. レベル1 is everyone registered, so it has no criteria."""


def load_criteria(trade: str) -> TradeCriteria:
    """The shipped criteria for a trade, by slug (`tekkin`), name (`鉄筋`), alias or CCUS code."""
    for criteria in _shipped().values():
        if criteria.answers_to(trade):
            return criteria
    known = [f"{c.slug} ({c.name})" for c in _shipped().values()]
    raise UnknownTradeError(trade, known)


def known_trades() -> list[str]:
    """Slugs of the trades with shipped criteria, sorted."""
    return sorted(_shipped())


def load_criteria_file(path: Path, registry: QualificationRegistry | None = None) -> TradeCriteria:
    """Load and validate one criteria file from anywhere (tests, a candidate file under review)."""
    text = path.read_text(encoding="utf-8")
    return parse_criteria(text, path.name, registry or default_registry())


def parse_criteria(text: str, source: str, registry: QualificationRegistry) -> TradeCriteria:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CriteriaError(source, "(file)", f"is not valid TOML: {error}") from None
    top = Fields(data, source)
    criteria = TradeCriteria(
        slug=top.text("slug"),
        name=top.text("name"),
        aliases=top.texts("aliases"),
        ccus_trade_codes=top.texts("ccus_trade_codes"),
        work_days_scope=WorkDaysScope(
            top.one_of("work_days_scope", tuple(scope.value for scope in WorkDaysScope))
        ),
        sources=top.texts("sources"),
        checked_on=top.day("checked_on"),
        levels=_levels(top, registry),
        registry=registry,
    )
    top.done()
    if not criteria.sources:
        raise top.error("sources", "must name at least one public source")
    if source.endswith(".toml") and source.removesuffix(".toml") != criteria.slug:
        raise top.error("slug", f"{criteria.slug!r} does not match the file name {source!r}")
    return criteria


@lru_cache(maxsize=1)
def _shipped() -> Mapping[str, TradeCriteria]:
    registry = default_registry()
    folder = files("projections.levels").joinpath("criteria")
    loaded: dict[str, TradeCriteria] = {}
    for resource in sorted(folder.iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".toml"):
            criteria = parse_criteria(resource.read_text(encoding="utf-8"), resource.name, registry)
            loaded[criteria.slug] = criteria
    return loaded


def _levels(top: Fields, registry: QualificationRegistry) -> tuple[LevelCriteria, ...]:
    levels = []
    for fields in top.tables("levels"):
        level = fields.positive_int("level")
        routes = tuple(_route(route, registry) for route in fields.tables("routes"))
        levels.append(LevelCriteria(level, routes))
        fields.done()
    found = tuple(level.level for level in levels)
    if found != LEVELS:
        raise top.error("levels", f"must define levels 2, 3 and 4 in order, found {list(found)}")
    return tuple(levels)


def _route(fields: Fields, registry: QualificationRegistry) -> Route:
    groups: tuple[QualificationGroup, ...] = ()
    if fields.has("qualifications"):
        groups = tuple(_group(g, registry) for g in fields.tables("qualifications"))
    route = Route(
        label=fields.text("label"),
        work_days=fields.days("work_days"),
        foreman_days=fields.days("foreman_days", default=0),
        foreman_or_team_leader_days=fields.days("foreman_or_team_leader_days", default=0),
        qualifications=groups,
        verified=fields.flag("verified", default=True),
    )
    fields.done()
    return route


def _group(fields: Fields, registry: QualificationRegistry) -> QualificationGroup:
    rules = [rule for rule in GroupRule if fields.has(rule.value)]
    if len(rules) != 1:
        raise fields.error("(group)", "needs exactly one of all_of, one_of, at_least")
    rule = rules[0]
    if rule is GroupRule.AT_LEAST:
        need = fields.positive_int("at_least")
        items = _items(fields, "of", registry)
        if need > len(items):
            raise fields.error("at_least", f"asks for {need} of only {len(items)} items")
    else:
        items = _items(fields, rule.value, registry)
        need = len(items) if rule is GroupRule.ALL_OF else 1
    fields.done()
    return QualificationGroup(rule, need, items)


def _items(fields: Fields, key: str, registry: QualificationRegistry) -> tuple[Item, ...]:
    value = fields.raw(key)
    if not isinstance(value, list) or not value:
        raise fields.error(key, "must be a non-empty array of names (or arrays of names)")
    items = []
    for index, entry in enumerate(value):
        names = entry if isinstance(entry, list) else [entry]
        if not names:
            raise fields.error(f"{key}[{index}]", "must not be an empty array")
        items.append(tuple(_canonical(fields, f"{key}[{index}]", name, registry) for name in names))
    return tuple(items)


def _canonical(fields: Fields, key: str, name: object, registry: QualificationRegistry) -> str:
    if not isinstance(name, str):
        raise fields.error(key, f"must be a qualification name, got {name!r}")
    canonical = registry.canonical(name)
    if canonical is None:
        raise fields.error(key, f"{name!r} is not in qualifications.toml")
    if canonical != name:
        # Criteria files use canonical names only, so a reader can grep one spelling across files.
        raise fields.error(key, f"{name!r} is an alias; write the canonical name {canonical!r}")
    return canonical
