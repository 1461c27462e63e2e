"""Every event class the domain declares, found by walking `ledger.domain`: a test that holds a
list of them up against this fails when an event class is added that the list does not name."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from eventsourcing.domain import CanMutateAggregate

import ledger.domain
from ledger.domain.base import LedgerAggregate


def domain_event_classes() -> set[type]:
    found: set[type] = set()
    for module in pkgutil.walk_packages(ledger.domain.__path__, f"{ledger.domain.__name__}."):
        loaded = importlib.import_module(module.name)
        for _, aggregate in inspect.getmembers(loaded, inspect.isclass):
            if not issubclass(aggregate, LedgerAggregate):
                continue
            for value in vars(aggregate).values():
                if inspect.isclass(value) and issubclass(value, CanMutateAggregate):
                    found.add(value)
    # The library's base classes of every aggregate's events, never stored as such.
    return {c for c in found if c.__qualname__.rpartition(".")[2] not in ("Created", "Event")}
