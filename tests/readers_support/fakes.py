"""Fakes for the reader's unit tests: a scripted card, a recording feedback, a scripted ledger."""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from readers.apdu import CardRemoved
from readers.delivery import TapResult, UploadAck
from readers.identity import CardIdentity
from readers.spool import SpooledTap

Response = tuple[list[int], int, int]


class FakeCard:
    """A card connection answering each command APDU (hex, upper case) from a script.

    A script value may be a response, a list of responses (one per call), or an exception to
    raise (e.g. :class:`CardRemoved`). Unknown commands answer 6D 00 (instruction not supported).
    """

    def __init__(self, script: dict[str, object]) -> None:
        self.script = dict(script)
        self.sent: list[str] = []

    def transmit(self, command: list[int]) -> Response:
        key = bytes(command).hex().upper()
        self.sent.append(key)
        answer = self.script.get(key, ([], 0x6D, 0x00))
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, tuple)
        return answer  # type: ignore[return-value]


def ok(data: bytes) -> Response:
    return list(data), 0x90, 0x00


@dataclass
class RecordingFeedback:
    accepted_taps: list[SpooledTap] = field(default_factory=list)
    repeats: list[CardIdentity] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[tuple[str, list[str]]] = field(default_factory=list)

    def accepted(self, tap: SpooledTap) -> None:
        self.accepted_taps.append(tap)

    def repeated(self, identity: CardIdentity) -> None:
        self.repeats.append(identity)

    def failed(self, reason: str) -> None:
        self.failures.append(reason)

    def warned(self, tap_id: str, warnings: list[str]) -> None:
        self.warnings.append((tap_id, warnings))


@dataclass
class RecordingSink:
    identities: list[CardIdentity] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def card_read(self, identity: CardIdentity) -> None:
        self.identities.append(identity)

    def read_failed(self, reason: str) -> None:
        self.failures.append(reason)


class QueueFeedback:
    """Feedback a test can wait on: every signal to the worker, in order, on a queue."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()

    def accepted(self, tap: SpooledTap) -> None:
        self.events.put(("accepted", tap))

    def repeated(self, identity: CardIdentity) -> None:
        self.events.put(("repeated", identity))

    def failed(self, reason: str) -> None:
        self.events.put(("failed", reason))

    def warned(self, tap_id: str, warnings: list[str]) -> None:
        self.events.put(("warned", (tap_id, warnings)))

    def next(self, timeout: float = 30.0) -> tuple[str, object]:
        return self.events.get(timeout=timeout)


Step = Callable[[Sequence[SpooledTap]], UploadAck] | Exception


class ScriptedLedger:
    """A transport whose answers are scripted per call; after the script, it accepts all."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.batches: list[list[str]] = []  # tap IDs of every send, in order
        self.stored: dict[str, int] = {}  # what a real ledger would now hold

    def send(self, taps: Sequence[SpooledTap]) -> UploadAck:
        self.batches.append([tap.tap_id for tap in taps])
        step = self.steps.pop(0) if self.steps else accept_all(self)
        if isinstance(step, Exception):
            raise step
        return step(taps)


def accept_all(ledger: ScriptedLedger) -> Callable[[Sequence[SpooledTap]], UploadAck]:
    def answer(taps: Sequence[SpooledTap]) -> UploadAck:
        results = []
        for tap in taps:
            duplicate = tap.tap_id in ledger.stored
            ledger.stored.setdefault(tap.tap_id, len(ledger.stored) + 1)
            results.append(TapResult(tap.tap_id, "duplicate" if duplicate else "accepted",
                                     position=None if duplicate else ledger.stored[tap.tap_id]))
        return UploadAck(results)

    return answer


__all__ = ["CardRemoved", "FakeCard", "QueueFeedback", "RecordingFeedback", "RecordingSink",
           "ScriptedLedger", "accept_all", "ok"]
