"""The ledger projection dispatches on the domain's event classes: every class the domain declares
is projected or deliberately ignored (with the reason), so a new event class fails here until
someone decides what the read models do with it; and a stored event of a class in neither is
refused loudly (the runner quarantines it) rather than passed over."""

from __future__ import annotations

from typing import Any, cast
from uuid import uuid4

import pytest

from ledger.domain.base import LedgerAggregate
from ledger.domain.requests import RequestStatus
from projections.decoding import LoggedEvent
from projections.projector import (
    EVENT_CLASSES,
    IGNORED,
    PROJECTED,
    REQUEST_EVENTS,
    LedgerProjection,
    UnprojectableEvent,
)
from projections.registry import HANDLERS
from projections.store import Tx
from tests.unit.domain_events import domain_event_classes


def test_every_domain_event_class_is_projected_or_deliberately_ignored() -> None:
    unrouted = sorted(c.__qualname__ for c in domain_event_classes() - PROJECTED - set(IGNORED))
    assert unrouted == [], "handle these in projections/ or list them in projector.IGNORED"


def test_the_dispatch_tables_name_only_domain_event_classes_each_once() -> None:
    assert PROJECTED | set(IGNORED) <= domain_event_classes()
    assert PROJECTED.isdisjoint(IGNORED)
    assert all(isinstance(reason, str) and reason.strip() for reason in IGNORED.values())
    assert set(HANDLERS) <= PROJECTED


def test_a_decision_sets_the_status_its_class_names() -> None:
    decisions = {c: status for c, (_, status) in REQUEST_EVENTS.items() if status is not None}
    assert {c.__qualname__.rpartition(".")[2] for c in decisions} == {
        "Approved", "Rejected", "Expired"}
    for decision, status in decisions.items():
        assert RequestStatus(status).name == decision.__qualname__.rpartition(".")[2].upper()
    requested = {c.__qualname__ for c, (_, status) in REQUEST_EVENTS.items() if status is None}
    assert requested == {"ManualEntry.Requested", "Correction.Requested"}


def test_a_quarantined_event_type_names_its_class() -> None:
    for event_class in PROJECTED | set(IGNORED):
        assert EVENT_CLASSES[event_class.__qualname__] is event_class


class Stray(LedgerAggregate):
    """An aggregate no projection knows (the domain's own are all routed, above)."""

    class Noted(LedgerAggregate.Event):
        pass


def test_an_event_of_a_class_neither_projected_nor_ignored_is_refused_loudly() -> None:
    state: dict[str, Any] = {"originator_id": uuid4(), "technician_id": "12345678901234"}
    tx = cast(Tx, None)  # refused before the projection reads or writes anything
    with pytest.raises(UnprojectableEvent, match=r"Stray\.Noted"):
        LedgerProjection().process(tx, [LoggedEvent(7, Stray.Noted, state)])
