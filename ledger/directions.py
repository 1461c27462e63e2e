"""A tap's direction and a reader's direction mode: plain enums, standard library only, so the
gate agent (readers/) uses them without the write side's stack (eventsourcing). The domain
modules re-export them; events store them by class name (`ledger.transcoder`), not by module."""

from __future__ import annotations

from enum import Enum


class Direction(str, Enum):
    IN = "in"
    OUT = "out"
    UNKNOWN = "unknown"


class DirectionMode(str, Enum):
    IN = "in"
    OUT = "out"
    AUTO = "auto"  # alternates per worker per day
